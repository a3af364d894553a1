// Fuzzes the TUN offload helpers: the first 10 bytes are a virtio-net header, the rest the packet.
// No crash, no read or write outside the input or the segment buffers, and every segment SplitTso
// makes is no larger than the packet's headers plus one MSS.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "meshvpn/tun/virtio_net.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

struct Sink final : meshvpn::tun::SegmentSink {
  meshvpn::MutableByteSpan NextSegment(size_t index, size_t size) override {
    if (index >= 64) return {};
    segments.emplace_back(size);
    return segments.back();
  }
  std::vector<std::vector<uint8_t>> segments;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshvpn::tun;
  if (size < VirtioNetHeader::kSize) return 0;
  const VirtioNetHeader header = VirtioNetHeader::Parse(
      std::span<const uint8_t, VirtioNetHeader::kSize>(data, VirtioNetHeader::kSize));
  std::vector<uint8_t> packet(data + VirtioNetHeader::kSize, data + size);
  std::vector<uint8_t> copy = packet;
  (void)CompleteChecksum(header, copy);
  Sink sink;
  size_t count = 0;
  const OffloadError error = SplitTso(header, packet, sink, &count);
  Check(count == (error == OffloadError::kOk ? sink.segments.size() : count));
  for (const auto& segment : sink.segments) {
    Check(segment.size() <= packet.size());
    Check(segment.size() <= 60 + 60 + static_cast<size_t>(header.gso_size));
  }
  return 0;
}
