#include "meshvpn/wg/tai64n.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "meshvpn/base/bytes.h"
#include "wireguard_kat.h"

namespace meshvpn::wg {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

WallTime Unix(int64_t s, int64_t ns = 0) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(seconds(s) + nanoseconds(ns)));
}

TEST_CASE("tai64n encodes the label and nanoseconds big-endian") {
  const Tai64n t = Tai64n::FromWallTime(Unix(1, 2));
  CHECK(t.label() == 0x400000000000000bull);
  CHECK(t.nanoseconds() == 2);
  CHECK(HexEncode(t.ToBytes()) == "400000000000000b00000002");
  CHECK(t.unix_seconds() == 1);
  CHECK(Tai64n::FromWallTime(Unix(0)).label() == Tai64n::kLabelBase);
  CHECK(Tai64n::kLabelBase == 0x400000000000000aull);
}

TEST_CASE("tai64n decodes the captured initiation's timestamp") {
  // The decrypted timestamp of the captured handshake (wireguard_kat.h): label
  // 0x400000005b52647b, 356537872 ns (the value Wireshark's own test asserts).
  const auto bytes = HexDecode(kat::kTimestamp);
  REQUIRE(bytes.ok());
  const Tai64n t = Tai64n::FromBytes(std::span<const uint8_t, 12>(bytes->data(), 12));
  CHECK(t.label() == 4611686019959514235ull);
  CHECK(t.nanoseconds() == 356537872u);
  const auto back = t.ToBytes();
  CHECK(Bytes(back.begin(), back.end()) == *bytes);
}

TEST_CASE("tai64n from a wall time 2020-01-01 with a fake clock") {
  FakeClock clock;  // 2020-01-01T00:00:00Z on the wall
  clock.Advance(nanoseconds(123'456'789));
  const Tai64n exact = Tai64n::FromWallTime(clock.WallNow());
  CHECK(exact.unix_seconds() == 1577836800);
  CHECK(exact.nanoseconds() == 123'456'789u);
  const Tai64n now = Tai64n::Now(clock);
  CHECK(now.label() == exact.label());
  // Whitened: rounded down to a multiple of 2^24 ns.
  CHECK(now.nanoseconds() == (123'456'789u / (1u << 24)) * (1u << 24));
  CHECK(now.nanoseconds() % (1u << 24) == 0);
  CHECK(now <= exact);
}

TEST_CASE("whitening hides the time inside a 2^24 ns step") {
  const Tai64n a = Tai64n::FromWallTime(Unix(1000, 16'777'216)).Whitened();
  const Tai64n b = Tai64n::FromWallTime(Unix(1000, 16'777'216 + 16'777'215)).Whitened();
  const Tai64n c = Tai64n::FromWallTime(Unix(1000, 2 * 16'777'216)).Whitened();
  CHECK(a == b);
  CHECK(c > b);
  CHECK(Tai64n::FromWallTime(Unix(1000, 999'999'999)).Whitened().nanoseconds() == 989'855'744u);
}

TEST_CASE("timestamps compare as their bytes do") {
  const Tai64n a(Tai64n::kLabelBase + 5, 999'999'999);
  const Tai64n b(Tai64n::kLabelBase + 6, 0);
  CHECK(a < b);
  CHECK(HexEncode(a.ToBytes()) < HexEncode(b.ToBytes()));
  CHECK(Tai64n() < a);
}

TEST_CASE("timestamp filter accepts only strictly newer timestamps") {
  FakeClock clock;
  TimestampFilter filter;
  const Tai64n first = Tai64n::Now(clock);
  CHECK(filter.WouldAccept(first));
  CHECK(filter.Accept(first));
  CHECK_FALSE(filter.Accept(first));  // a replayed initiation
  clock.Advance(std::chrono::milliseconds(5));
  CHECK_FALSE(filter.Accept(Tai64n::Now(clock)));  // same whitening step
  clock.Advance(std::chrono::milliseconds(20));
  const Tai64n later = Tai64n::Now(clock);
  CHECK(filter.Accept(later));
  CHECK(filter.latest() == later);
  // The wall clock stepping back (NTP) makes new initiations look old: refused.
  clock.SetWall(clock.WallNow() - std::chrono::hours(1));
  CHECK_FALSE(filter.Accept(Tai64n::Now(clock)));
  CHECK(filter.latest() == later);
}

}  // namespace
}  // namespace meshvpn::wg
