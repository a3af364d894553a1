// The Clock interface protocol cores read time through, with a real clock and a fake for tests.
#pragma once

#include <chrono>

namespace meshvpn {

using Duration = std::chrono::nanoseconds;
// Monotonic time: timers, rate limits, keepalives. Never jumps.
using MonoTime = std::chrono::steady_clock::time_point;
// Wall-clock time: only where a protocol needs it (TAI64N timestamps, certificates, logs).
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime Now() const = 0;
  virtual WallTime WallNow() const = 0;
};

// The operating system's clocks.
class RealClock final : public Clock {
 public:
  MonoTime Now() const override;
  WallTime WallNow() const override;
  // A process-wide instance, for code that has no clock injected.
  static RealClock& Instance();
};

// A clock that moves only when told to; both times advance together.
class FakeClock final : public Clock {
 public:
  // Starts at an arbitrary but fixed point (one hour after the monotonic epoch, and
  // 2020-01-01T00:00:00Z on the wall) so tests are reproducible.
  FakeClock();
  FakeClock(MonoTime mono, WallTime wall) : mono_(mono), wall_(wall) {}

  MonoTime Now() const override { return mono_; }
  WallTime WallNow() const override { return wall_; }

  void Advance(Duration d) {
    mono_ += d;
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }
  // Moves only the wall clock (e.g. an NTP step), leaving monotonic time alone.
  void SetWall(WallTime wall) { wall_ = wall; }

 private:
  MonoTime mono_;
  WallTime wall_;
};

}  // namespace meshvpn
