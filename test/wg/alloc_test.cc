// Proves wg's per-packet paths allocate nothing: operator new is counted per thread for the whole
// test binary (common/alloc_counter.h), so Catch2 or other threads cannot disturb a measurement.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "common/alloc_counter.h"
#include "meshvpn/wg/allowedips.h"
#include "meshvpn/wg/cookie.h"
#include "meshvpn/wg/messages.h"
#include "meshvpn/wg/ratelimiter.h"

namespace meshvpn::wg {
namespace {

TEST_CASE("allowed IPs lookup and message parsing allocate nothing") {
  AllowedIps t;
  REQUIRE(t.Insert(*tun::IpPrefix::Parse("10.0.0.0/8"), 1).ok());
  REQUIRE(t.Insert(*tun::IpPrefix::Parse("10.1.0.0/16"), 2).ok());
  REQUIRE(t.Insert(*tun::IpPrefix::Parse("fd00::/64"), 3).ok());
  const tun::IpAddress v4 = *tun::IpAddress::Parse("10.1.2.3");
  const tun::IpAddress v6 = *tun::IpAddress::Parse("fd00::9");
  uint8_t packet[148] = {1};
  uint32_t sink = 0;
  const long before = meshvpn::test::ThreadNewCount();
  for (int i = 0; i < 100; ++i) {
    sink += t.Lookup(v4).value_or(0) + t.Lookup(v6).value_or(0) + t.Lookup(v4.bytes()).value_or(0);
    sink += static_cast<uint32_t>(ParseMessage(packet).type);
  }
  CHECK(meshvpn::test::ThreadNewCount() - before == 0);
  CHECK(sink == 100 * (2 + 3 + 2 + 1));
  // The counter works: an allocation is seen.
  auto* p = new int(5);
  CHECK(meshvpn::test::ThreadNewCount() - before == 1);
  delete p;
}

TEST_CASE("rate limiting and mac checks allocate nothing") {
  FakeClock clock;
  RateLimiter limiter;
  const std::array<uint8_t, 32> key{9};
  const CryptoBackend backend = GENERATE(CryptoBackend::kOpenSsl, CryptoBackend::kReference);
  auto checker = CookieChecker::Create(key, backend);
  auto generator = CookieGenerator::Create(key, backend);
  REQUIRE(checker.ok());
  REQUIRE(generator.ok());
  std::array<uint8_t, initiation::kSize> msg = Encode(HandshakeInitiation{});
  const udp::Endpoint source = udp::Endpoint::V4({192, 0, 2, 1}, 51820);
  // Warm up: the thread's OpenSSL contexts and the checker's secret are created on first use.
  REQUIRE(generator->AddMacs(msg, clock.Now()));
  REQUIRE(checker->CheckMacs(msg, source, true, clock.Now()) == MacCheck::kValidMac1);
  int allowed = 0;
  const long before = meshvpn::test::ThreadNewCount();
  for (int i = 0; i < 100; ++i) {
    clock.Advance(std::chrono::milliseconds(10));
    allowed +=
        limiter.Allow(tun::IpAddress::V4(10, 0, 0, static_cast<uint8_t>(i % 7)), clock.Now());
    REQUIRE(generator->AddMacs(msg, clock.Now()));
    REQUIRE(checker->CheckMacs(msg, source, true, clock.Now()) == MacCheck::kValidMac1);
  }
  CHECK(meshvpn::test::ThreadNewCount() - before == 0);
  CHECK(allowed > 0);
}

}  // namespace
}  // namespace meshvpn::wg
