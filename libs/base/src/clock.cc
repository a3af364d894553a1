#include "meshvpn/base/clock.h"

namespace meshvpn {

MonoTime RealClock::Now() const { return std::chrono::steady_clock::now(); }
WallTime RealClock::WallNow() const { return std::chrono::system_clock::now(); }

RealClock& RealClock::Instance() {
  static RealClock clock;
  return clock;
}

FakeClock::FakeClock()
    : mono_(MonoTime{} + std::chrono::hours(1)),
      wall_(WallTime{} + std::chrono::seconds(1577836800)) {}  // 2020-01-01T00:00:00Z

}  // namespace meshvpn
