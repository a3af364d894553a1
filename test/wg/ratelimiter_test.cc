#include "meshvpn/wg/ratelimiter.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <random>

namespace meshvpn::wg {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

tun::IpAddress A(std::string_view text) {
  auto a = tun::IpAddress::Parse(text);
  REQUIRE(a.ok());
  return *a;
}

int AllowedOf(RateLimiter& r, const tun::IpAddress& a, MonoTime now, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += r.Allow(a, now);
  return n;
}

TEST_CASE("rate limiter: a burst of 5, then 20 a second") {
  FakeClock clock;
  RateLimiter r;
  const auto ip = A("192.0.2.1");
  CHECK(AllowedOf(r, ip, clock.Now(), 10) == 5);
  clock.Advance(milliseconds(49));
  CHECK_FALSE(r.Allow(ip, clock.Now()));
  clock.Advance(milliseconds(1));  // 50 ms: one token
  CHECK(r.Allow(ip, clock.Now()));
  CHECK_FALSE(r.Allow(ip, clock.Now()));
  clock.Advance(seconds(10));  // refills only up to the burst
  CHECK(AllowedOf(r, ip, clock.Now(), 10) == 5);
}

TEST_CASE("rate limiter: steady flood gets 20 a second") {
  FakeClock clock;
  RateLimiter r;
  const auto ip = A("198.51.100.7");
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {  // 100 a second for 10 s
    allowed += r.Allow(ip, clock.Now());
    clock.Advance(milliseconds(10));
  }
  CHECK(allowed >= 200);
  CHECK(allowed <= 206);
}

TEST_CASE("rate limiter: sources are independent, IPv6 per /64") {
  FakeClock clock;
  RateLimiter r;
  CHECK(AllowedOf(r, A("10.0.0.1"), clock.Now(), 10) == 5);
  CHECK(AllowedOf(r, A("10.0.0.2"), clock.Now(), 10) == 5);
  CHECK(AllowedOf(r, A("2001:db8:1:2::1"), clock.Now(), 10) == 5);
  CHECK(AllowedOf(r, A("2001:db8:1:2:ffff::9"), clock.Now(), 10) == 0);  // same /64
  CHECK(AllowedOf(r, A("2001:db8:1:3::1"), clock.Now(), 10) == 5);
  CHECK(r.size() == 4);
  CHECK_FALSE(r.Allow(tun::IpAddress(), clock.Now()));
  const uint8_t odd[5] = {1, 2, 3, 4, 5};
  CHECK_FALSE(r.Allow(ByteSpan(odd), clock.Now()));
}

TEST_CASE("rate limiter: bounded table, idle entries expire") {
  FakeClock clock;
  RateLimiter r(RateLimiter::Options{.max_entries = 4});
  for (int i = 1; i <= 4; ++i) CHECK(r.Allow(tun::IpAddress::V4(10, 0, 0, i), clock.Now()));
  CHECK(r.size() == 4);
  CHECK_FALSE(r.Allow(tun::IpAddress::V4(10, 0, 0, 5), clock.Now()));  // full: refused
  CHECK(r.Allow(tun::IpAddress::V4(10, 0, 0, 1), clock.Now()));        // known: still served
  clock.Advance(milliseconds(999));
  CHECK_FALSE(r.Allow(tun::IpAddress::V4(10, 0, 0, 5), clock.Now()));
  clock.Advance(milliseconds(1));  // everything idle for >= 1 s is swept
  CHECK(r.Allow(tun::IpAddress::V4(10, 0, 0, 5), clock.Now()));
  CHECK(r.size() == 1);
  r.Clear();
  CHECK(r.size() == 0);
}

// The obvious model: a map of buckets with the same arithmetic, no bound, no expiry.
TEST_CASE("rate limiter agrees with a map of token buckets on random traffic") {
  std::mt19937_64 rng(GENERATE(7, 8));
  FakeClock clock;
  RateLimiter r;
  struct Bucket {
    int64_t tokens;
    MonoTime last;
  };
  std::map<uint32_t, Bucket> model;
  const int64_t cost = 50'000'000, max = 5 * cost;
  int allowed = 0;
  for (int i = 0; i < 20000; ++i) {
    clock.Advance(std::chrono::microseconds(rng() % 5000));
    const uint32_t ip = 0x0a000000 | static_cast<uint32_t>(rng() % 40);
    const MonoTime now = clock.Now();
    bool want;
    auto it = model.find(ip);
    if (it == model.end()) {
      model[ip] = {max - cost, now};
      want = true;
    } else {
      Bucket& b = it->second;
      b.tokens = std::min(max, b.tokens + (now - b.last).count());
      b.last = now;
      want = b.tokens >= cost;
      if (want) b.tokens -= cost;
    }
    const auto addr = tun::IpAddress::V4(10, 0, 0, static_cast<uint8_t>(ip & 0xff));
    REQUIRE(r.Allow(addr, now) == want);
    allowed += want;
  }
  CHECK(allowed > 1000);
  CHECK(allowed < 20000);
}

}  // namespace
}  // namespace meshvpn::wg
