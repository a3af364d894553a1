// DERP frames on a byte stream: writing "type, big-endian uint32 length, payload" and a sans-I/O
// reader that cuts a received stream into frames within a length bound (derp.go's framing).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/derp/messages.h"

namespace meshvpn::derp {

// Appends one frame: the type byte, the payload length (big-endian uint32), the payload.
// False (nothing appended) if the payload is longer than kMaxFrameWrite.
bool AppendFrame(uint8_t type, ByteSpan payload, std::string* out);
inline bool AppendFrame(FrameType type, ByteSpan payload, std::string* out) {
  return AppendFrame(static_cast<uint8_t>(type), payload, out);
}

// One frame as received. `type` is the raw byte: unknown types are the caller's to skip (derp.go
// readers skip frames they do not know). `payload` points into the reader's buffer.
struct FrameView {
  uint8_t type = 0;
  ByteSpan payload;
};

enum class FrameError : uint8_t {
  kNone,
  kTooLarge,  // a frame header declared more than the reader's bound
};
std::string_view ToString(FrameError error);

// Feed() what the stream delivered, then call Next() until it returns nullopt. A frame whose
// header declares more than `max_frame_len` fails the reader at once (before its payload
// arrives), so a lying peer cannot make it buffer more than max_frame_len + the header plus one
// read. After an error Next() returns nullopt for ever.
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame_len = kMaxFrameLen) : max_frame_len_(max_frame_len) {}

  void Feed(ByteSpan data);
  // The next complete frame; valid until the next Feed() or Next().
  std::optional<FrameView> Next();

  // The fast path: takes `data` and calls `on_frame(const FrameView&)` for each complete frame
  // in order while it returns true. Frames that arrive whole in `data` are passed in place, with
  // no copy; only a frame split across reads is assembled in the reader's buffer. The frame is
  // valid during the call; `on_frame` may change the bound (set_max_frame_len). Once it returns
  // false the rest of `data` is dropped (the caller is done with the stream). Do not mix with
  // Feed()/Next() on one reader.
  template <typename OnFrame>
  void Consume(ByteSpan data, OnFrame&& on_frame);

  FrameError error() const { return error_; }
  bool failed() const { return error_ != FrameError::kNone; }
  // Received bytes not yet returned as frames.
  size_t buffered() const { return buffer_.size() - pos_; }
  // Changes the bound (the greeting is read with a smaller one, kMaxServerKeyFrameLen).
  void set_max_frame_len(size_t max) { max_frame_len_ = max; }

 private:
  // Length of the frame whose header starts at `h`, or fails the reader if over the bound.
  std::optional<size_t> FrameLength(const uint8_t* h);
  // Drops the consumed bytes; gives a large buffer back once it is empty (idle connections).
  void Compact();

  size_t max_frame_len_;
  std::string buffer_;
  size_t pos_ = 0;  // start of the first byte not yet returned
  FrameError error_ = FrameError::kNone;
};

template <typename OnFrame>
void FrameReader::Consume(ByteSpan data, OnFrame&& on_frame) {
  if (failed()) return;
  size_t at = 0;
  // First finish a frame that an earlier read left incomplete, taking only what it needs.
  if (buffered() > 0) {
    Compact();
    if (buffer_.size() < kFrameHeaderLen) {
      const size_t take = std::min(kFrameHeaderLen - buffer_.size(), data.size());
      buffer_.append(reinterpret_cast<const char*>(data.data()), take);
      at = take;
      if (buffer_.size() < kFrameHeaderLen) return;
    }
    const auto* h = reinterpret_cast<const uint8_t*>(buffer_.data());
    const std::optional<size_t> len = FrameLength(h);
    if (!len) return;
    const size_t want = kFrameHeaderLen + *len - buffer_.size();
    const size_t take = std::min(want, data.size() - at);
    buffer_.append(reinterpret_cast<const char*>(data.data() + at), take);
    at += take;
    if (take < want) return;
    h = reinterpret_cast<const uint8_t*>(buffer_.data());
    const bool more = on_frame(FrameView{h[0], ByteSpan(h + kFrameHeaderLen, *len)});
    buffer_.clear();
    pos_ = 0;
    if (!more || failed()) return;
  }
  // Then every whole frame in place.
  while (data.size() - at >= kFrameHeaderLen) {
    const uint8_t* h = data.data() + at;
    const std::optional<size_t> len = FrameLength(h);
    if (!len) return;
    if (data.size() - at < kFrameHeaderLen + *len) break;
    at += kFrameHeaderLen + *len;
    if (!on_frame(FrameView{h[0], ByteSpan(h + kFrameHeaderLen, *len)})) return;
    if (failed()) return;
  }
  Compact();
  buffer_.append(reinterpret_cast<const char*>(data.data() + at), data.size() - at);
}

}  // namespace meshvpn::derp
