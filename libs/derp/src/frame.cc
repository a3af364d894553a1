// DERP framing: the 5-byte header and the bounded stream reader.
#include "meshvpn/derp/frame.h"

namespace meshvpn::derp {

std::string_view ToString(FrameError error) {
  switch (error) {
    case FrameError::kNone:
      return "none";
    case FrameError::kTooLarge:
      return "frame too large";
  }
  return "unknown";
}

bool AppendFrame(uint8_t type, ByteSpan payload, std::string* out) {
  if (payload.size() > kMaxFrameWrite) return false;
  const auto n = static_cast<uint32_t>(payload.size());
  const char header[kFrameHeaderLen] = {
      static_cast<char>(type),   static_cast<char>(n >> 24), static_cast<char>(n >> 16),
      static_cast<char>(n >> 8), static_cast<char>(n),
  };
  out->append(header, kFrameHeaderLen);
  out->append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return true;
}

void FrameReader::Feed(ByteSpan data) {
  if (failed() || data.empty()) return;
  // Drop what was returned already before growing (keeps the buffer at about one frame).
  if (pos_ > 0 && (pos_ == buffer_.size() || pos_ >= buffer_.size() / 2)) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(reinterpret_cast<const char*>(data.data()), data.size());
}

std::optional<size_t> FrameReader::FrameLength(const uint8_t* h) {
  const size_t len = (size_t{h[1]} << 24) | (size_t{h[2]} << 16) | (size_t{h[3]} << 8) | h[4];
  if (len <= max_frame_len_) return len;
  error_ = FrameError::kTooLarge;
  std::string().swap(buffer_);
  pos_ = 0;
  return std::nullopt;
}

void FrameReader::Compact() {
  if (pos_ == 0) return;
  buffer_.erase(0, pos_);
  pos_ = 0;
  if (buffer_.empty() && buffer_.capacity() > 4096) std::string().swap(buffer_);
}

std::optional<FrameView> FrameReader::Next() {
  if (failed()) return std::nullopt;
  const size_t available = buffer_.size() - pos_;
  if (available < kFrameHeaderLen) {
    if (available == 0) Compact();
    return std::nullopt;
  }
  const auto* h = reinterpret_cast<const uint8_t*>(buffer_.data() + pos_);
  const std::optional<size_t> len = FrameLength(h);
  if (!len) return std::nullopt;
  if (available < kFrameHeaderLen + *len) return std::nullopt;
  FrameView frame{h[0], ByteSpan(h + kFrameHeaderLen, *len)};
  pos_ += kFrameHeaderLen + *len;
  return frame;
}

}  // namespace meshvpn::derp
