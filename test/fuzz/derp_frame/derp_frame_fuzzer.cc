// FrameReader on arbitrary bytes cut at fuzzer-chosen points: no crash, frames within the bound,
// bytes accounted for, and re-framing what was read gives back the same stream prefix.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "meshvpn/derp/frame.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using meshvpn::ByteSpan;
  using meshvpn::derp::FrameReader;
  if (size < 2) return 0;
  // First byte: the bound (small bounds reach the too-large path); second: the piece size.
  const size_t bound = size_t{data[0]} * 16;
  const size_t piece = 1 + data[1] % 64;
  data += 2;
  size -= 2;
  FrameReader reader(bound);
  std::string reframed;
  size_t consumed = 0;
  for (size_t at = 0; at < size; at += piece) {
    const size_t n = std::min(piece, size - at);
    reader.Feed(ByteSpan(data + at, n));
    while (auto f = reader.Next()) {
      Check(f->payload.size() <= bound);
      Check(meshvpn::derp::AppendFrame(f->type, f->payload, &reframed));
      consumed += 5 + f->payload.size();
    }
    if (reader.failed()) break;
    Check(reader.buffered() <= size);
  }
  // What was returned is exactly the stream's first `consumed` bytes.
  Check(consumed <= size);
  Check(reframed == std::string(reinterpret_cast<const char*>(data), consumed));

  // Consume(), the in-place path, cut at other points, gives the same frames and the same
  // verdict.
  FrameReader fast(bound);
  std::string fast_frames;
  const size_t other_piece = 1 + (piece * 7) % 97;
  for (size_t at = 0; at < size && !fast.failed(); at += other_piece) {
    fast.Consume(ByteSpan(data + at, std::min(other_piece, size - at)),
                 [&](const meshvpn::derp::FrameView& f) {
                   Check(f.payload.size() <= bound);
                   Check(meshvpn::derp::AppendFrame(f.type, f.payload, &fast_frames));
                   return true;
                 });
  }
  Check(fast.failed() == reader.failed());
  if (!reader.failed()) Check(fast_frames == reframed);
  return 0;
}
