#include "meshvpn/base/clock.h"

#include <catch2/catch.hpp>

namespace meshvpn {
namespace {

using namespace std::chrono_literals;

TEST_CASE("FakeClock starts at a fixed point and moves only when advanced") {
  FakeClock clock;
  const MonoTime start = clock.Now();
  CHECK(clock.Now() == start);
  CHECK(std::chrono::system_clock::to_time_t(clock.WallNow()) == 1577836800);
  clock.Advance(1500ms);
  CHECK(clock.Now() - start == 1500ms);
  CHECK(std::chrono::system_clock::to_time_t(clock.WallNow()) == 1577836801);
}

TEST_CASE("FakeClock wall steps leave monotonic time alone") {
  FakeClock clock;
  const MonoTime start = clock.Now();
  clock.SetWall(WallTime{} + 10s);
  CHECK(clock.Now() == start);
  CHECK(clock.WallNow() == WallTime{} + 10s);
}

TEST_CASE("RealClock is monotonic and its wall time is after 2020") {
  const Clock& clock = RealClock::Instance();
  const MonoTime a = clock.Now();
  const MonoTime b = clock.Now();
  CHECK(b >= a);
  CHECK(std::chrono::system_clock::to_time_t(clock.WallNow()) > 1577836800);
}

}  // namespace
}  // namespace meshvpn
