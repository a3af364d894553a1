#include "meshvpn/tun/checksum.h"

#include <catch2/catch.hpp>
#include <random>

#include "meshvpn/tun/ip_packet.h"
#include "testdata.h"

namespace meshvpn::tun {
namespace {

using test::GetBe16;
using test::LoadPacket;
using test::PutBe16;

// The textbook definition, one 16-bit word at a time, to compare the fast path against.
uint16_t NaiveChecksum(ByteSpan data) {
  uint32_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 2) {
    const uint32_t hi = data[i];
    const uint32_t lo = i + 1 < data.size() ? data[i + 1] : 0;
    sum += (hi << 8) | lo;
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

TEST_CASE("the RFC 1071 worked example sums to 0xddf2") {
  // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 have the folded sum ddf2.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  ChecksumAccumulator acc;
  acc.Add(data);
  CHECK(acc.Sum() == 0xddf2);
  CHECK(acc.Finish() == 0x220d);
  CHECK(InternetChecksum(data) == 0x220d);
}

TEST_CASE("the checksum of a real IPv4 header matches the one the kernel wrote") {
  Bytes packet = LoadPacket("v4_icmp_echo");
  REQUIRE(packet.size() == 84);
  const uint16_t stored = GetBe16(packet, 10);
  PutBe16(packet, 10, 0);
  CHECK(InternetChecksum(ByteSpan(packet).first(20)) == stored);
}

TEST_CASE("pieces of any length sum like one buffer, and match the naive definition") {
  std::mt19937 rng(1071);
  for (int round = 0; round < 200; ++round) {
    Bytes data(rng() % 300);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    const uint16_t expected = NaiveChecksum(data);
    CHECK(InternetChecksum(data) == expected);
    // Split into three pieces at random points, odd lengths included.
    const size_t a = data.empty() ? 0 : rng() % (data.size() + 1);
    const size_t b = a + (data.size() == a ? 0 : rng() % (data.size() - a + 1));
    ChecksumAccumulator acc;
    acc.Add(ByteSpan(data).subspan(0, a));
    acc.Add(ByteSpan(data).subspan(a, b - a));
    acc.Add(ByteSpan(data).subspan(b));
    CHECK(acc.Finish() == expected);
  }
}

TEST_CASE("the 8-bytes-at-a-time path agrees with the naive sum on large and all-ones data") {
  std::mt19937 rng(8);
  for (size_t size : {64u, 65u, 71u, 1400u, 1500u, 9001u, 65535u}) {
    Bytes random(size);
    for (auto& b : random) b = static_cast<uint8_t>(rng());
    CHECK(InternetChecksum(random) == NaiveChecksum(random));
    const Bytes ones(size, 0xff);  // every 64-bit add carries
    CHECK(InternetChecksum(ones) == NaiveChecksum(ones));
    ChecksumAccumulator acc;  // an odd byte first: the bulk starts one byte into a word
    acc.Add(ByteSpan(random).subspan(0, 1));
    acc.Add(ByteSpan(random).subspan(1));
    CHECK(acc.Finish() == NaiveChecksum(random));
  }
}

TEST_CASE("AddU16 and AddU32 equal adding the big-endian bytes, also after an odd piece") {
  const uint8_t odd[] = {0x12, 0x34, 0x56};
  ChecksumAccumulator words;
  words.Add(odd);
  words.AddU16(0xabcd);
  words.AddU32(0x01020304);
  const uint8_t all[] = {0x12, 0x34, 0x56, 0xab, 0xcd, 0x01, 0x02, 0x03, 0x04};
  CHECK(words.Finish() == NaiveChecksum(all));
}

TEST_CASE("pseudo-headers verify the checksums of real TCP and UDP packets") {
  SECTION("IPv4 TCP SYN") {
    const Bytes p = LoadPacket("v4_tcp_syn");
    REQUIRE(p.size() == 60);
    ChecksumAccumulator acc;
    AddIpv4PseudoHeader(acc, ByteSpan(p).subspan(12, 4), ByteSpan(p).subspan(16, 4), 6, 40);
    acc.Add(ByteSpan(p).subspan(20));
    CHECK(acc.Sum() == 0xffff);
  }
  SECTION("IPv6 UDP DNS query") {
    const Bytes p = LoadPacket("v6_udp_dns");
    REQUIRE(p.size() == 77);
    ChecksumAccumulator acc;
    AddIpv6PseudoHeader(acc, ByteSpan(p).subspan(8, 16), ByteSpan(p).subspan(24, 16), 17, 37);
    acc.Add(ByteSpan(p).subspan(40));
    CHECK(acc.Sum() == 0xffff);
  }
}

TEST_CASE("incremental update equals recomputing (RFC 1624)") {
  SECTION("decrementing the TTL of a real IPv4 header") {
    Bytes p = LoadPacket("v4_icmp_echo");
    REQUIRE(p.size() == 84);
    const uint16_t old_word = GetBe16(p, 8);  // TTL | protocol
    const uint16_t old_checksum = GetBe16(p, 10);
    p[8] -= 1;
    const uint16_t updated = ChecksumUpdate16(old_checksum, old_word, GetBe16(p, 8));
    test::FixIpv4HeaderChecksum(p);
    CHECK(updated == GetBe16(p, 10));
  }
  SECTION("rewriting the source address of a real UDP packet (what NAT does)") {
    Bytes p = LoadPacket("v4_udp_dns");
    REQUIRE(p.size() == 57);
    const Bytes old_source(p.begin() + 12, p.begin() + 16);
    const uint8_t new_source[4] = {192, 168, 1, 100};
    std::copy(std::begin(new_source), std::end(new_source), p.begin() + 12);
    // The address is covered by the IPv4 header checksum and by the UDP pseudo-header.
    PutBe16(p, 10, ChecksumUpdate(GetBe16(p, 10), old_source, new_source));
    PutBe16(p, 26, ChecksumUpdate(GetBe16(p, 26), old_source, new_source));
    const ParseResult r = ParseIpPacket(p);
    REQUIRE(r.ok());
    CHECK(r.packet.source == IpAddress::V4(192, 168, 1, 100));
    CHECK(r.packet.ipv4_header_checksum == ChecksumStatus::kValid);
    CHECK(r.packet.transport_checksum == ChecksumStatus::kValid);
  }
  SECTION("random words") {
    std::mt19937 rng(1624);
    for (int round = 0; round < 500; ++round) {
      Bytes data(2 * (1 + rng() % 32));
      for (auto& b : data) b = static_cast<uint8_t>(rng());
      const size_t at = 2 * (rng() % (data.size() / 2));
      const uint16_t before = InternetChecksum(data);
      const uint16_t old_word = GetBe16(data, at);
      const uint16_t new_word = static_cast<uint16_t>(rng());
      PutBe16(data, at, new_word);
      // One's complement has two zeros; both encodings verify the same way.
      const uint16_t incremental = ChecksumUpdate16(before, old_word, new_word);
      const uint16_t full = InternetChecksum(data);
      CHECK((incremental == full || (incremental == 0xffff && full == 0) ||
             (incremental == 0 && full == 0xffff)));
    }
  }
}

}  // namespace
}  // namespace meshvpn::tun
