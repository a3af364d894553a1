// Loads the captured packets in test/tun/testdata/ (see SOURCES.md there) and edits packets the
// way tests need: fixing IPv4 lengths and checksums after a change.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

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

}  // namespace meshvpn::tun::test
