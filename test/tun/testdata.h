// Loads the captured packets in test/tun/testdata/ (see SOURCES.md there) and edits packets the
// way tests need: fixing IPv4 lengths and checksums after a change.
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "meshvpn/base/bytes.h"
#include "meshvpn/tun/checksum.h"

#ifndef MESHVPN_TUN_TESTDATA
#define MESHVPN_TUN_TESTDATA "testdata"
#endif

namespace meshvpn::tun::test {

// The bytes of testdata/<name>.bin; empty if the file is missing (tests REQUIRE non-empty).
inline Bytes LoadPacket(std::string_view name) {
  std::string path = MESHVPN_TUN_TESTDATA;
  path.push_back('/');
  path.append(name.data(), name.size());
  path.append(".bin");
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline uint16_t GetBe16(const Bytes& b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}
inline void PutBe16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

// Recomputes an IPv4 packet's header checksum (after a header edit).
inline void FixIpv4HeaderChecksum(Bytes& packet) {
  const size_t header_size = (packet[0] & 0x0f) * 4u;
  PutBe16(packet, 10, 0);
  PutBe16(packet, 10, InternetChecksum(ByteSpan(packet).first(header_size)));
}

// Sets Total Length to the buffer size and fixes the header checksum.
inline void FixIpv4Lengths(Bytes& packet) {
  PutBe16(packet, 2, static_cast<uint16_t>(packet.size()));
  FixIpv4HeaderChecksum(packet);
}

// Sets the IPv6 Payload Length to the buffer size minus 40.
inline void FixIpv6Length(Bytes& packet) {
  PutBe16(packet, 4, static_cast<uint16_t>(packet.size() - 40));
}

// A bulk-TCP-like batch: `count` in-order 1368-byte IPv4 segments of one flow 10.0.0.1:40000 ->
// 10.0.0.2:5201 (ACK only, DF; checksums left zero).
inline std::vector<Bytes> TcpSegments(size_t count) {
  std::vector<Bytes> packets;
  for (size_t i = 0; i < count; ++i) {
    Bytes p(20 + 20 + 1368, 0x5a);
    p[0] = 0x45;
    p[2] = static_cast<uint8_t>(p.size() >> 8);
    p[3] = static_cast<uint8_t>(p.size());
    p[1] = 0;     // TOS
    p[6] = 0x40;  // DF, fragment offset 0
    p[7] = 0;
    p[8] = 64;
    p[9] = 6;
    const uint8_t addresses[8] = {10, 0, 0, 1, 10, 0, 0, 2};
    std::copy(addresses, addresses + 8, p.begin() + 12);
    p[20] = 0x9c;  // ports 40000 -> 5201
    p[21] = 0x40;
    p[22] = 0x14;
    p[23] = 0x51;
    const uint32_t seq = 1000 + static_cast<uint32_t>(i) * 1368;
    for (int b = 0; b < 4; ++b) p[24 + b] = static_cast<uint8_t>(seq >> (24 - 8 * b));
    p[32] = 0x50;  // data offset 5
    p[33] = 0x10;  // ACK
    p[34] = 0x01;  // window
    packets.push_back(std::move(p));
  }
  return packets;
}

}  // namespace meshvpn::tun::test
