// DERP frames on a byte stream: writing "type, big-endian uint32 length, payload" and a sans-I/O
// reader that cuts a received stream into frames within a length bound (derp.go's framing).
#pragma once

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

  FrameError error() const { return error_; }
  bool failed() const { return error_ != FrameError::kNone; }
  // Received bytes not yet returned as frames.
  size_t buffered() const { return buffer_.size() - pos_; }
  // Changes the bound (the greeting is read with a smaller one, kMaxServerKeyFrameLen).
  void set_max_frame_len(size_t max) { max_frame_len_ = max; }

 private:
  size_t max_frame_len_;
  std::string buffer_;
  size_t pos_ = 0;  // start of the first byte not yet returned
  FrameError error_ = FrameError::kNone;
};

}  // namespace meshvpn::derp
