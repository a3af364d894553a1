// Fuzzes tun's IP packet parser and printer: no crash, no read outside the input (the replay
// build copies each input into an exactly sized heap block; libFuzzer does the same), and the
// parse result is consistent with itself and with the input.
#include <cstdint>
#include <cstdlib>

#include "meshvpn/tun/checksum.h"
#include "meshvpn/tun/ip_packet.h"
#include "meshvpn/tun/packet_printer.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshvpn::tun;
  const meshvpn::ByteSpan input(data, size);
  const ParseResult checked = ParseIpPacket(input);
  const ParseResult unchecked = ParseIpPacket(input, ParseOptions{.verify_checksums = false});

  if (checked.ok()) {
    const IpPacket& p = checked.packet;
    Check(p.version == 4 || p.version == 6);
    Check(p.header_length <= p.total_length && p.total_length <= size);
    Check(p.transport_offset + p.transport_length <= p.total_length);
    Check(p.payload.data() >= data && p.payload.data() + p.payload.size() <= data + size);
    Check(p.extension_header_count <= kMaxExtensionHeaders);
    // Checksums are the only thing verification adds: what passes with them passes without.
    Check(unchecked.ok());
    Check(unchecked.packet.total_length == p.total_length);
    Check(unchecked.packet.protocol == p.protocol);
    Check(unchecked.packet.transport_length == p.transport_length);
  }
  if (!unchecked.ok()) Check(!checked.ok());

  // The printer handles every outcome, malformed ones included.
  Check(!FormatPacketLine("FUZZ", checked, size).empty());
  if (size <= 256) Check(HexDump(input).size() == (size + 15) / 16 * 59 + size);

  // Summing in two pieces, split anywhere, equals summing at once.
  const size_t split = size == 0 ? 0 : data[0] % (size + 1);
  ChecksumAccumulator pieces;
  pieces.Add(input.first(split));
  pieces.Add(input.subspan(split));
  Check(pieces.Finish() == InternetChecksum(input));
  return 0;
}
