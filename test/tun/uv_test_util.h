// Test helpers for the libuv driver: run a loop until a condition holds, with a deadline.
#pragma once

#include <uv.h>

#include <chrono>

#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"

namespace meshvpn::tun::test {

// Runs `loop` until `done()` is true or `timeout` passes; returns done(). A 5 ms repeating timer
// keeps uv_run from blocking forever when nothing else happens.
template <typename Done>
bool RunUntil(UvLoop& loop, Done done,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  auto timer = UvTimer::Create(loop.get(), uv_timer_init);
  if (!timer.ok()) return false;
  uv_timer_start(
      timer->get(), [](uv_timer_t*) {}, 5, 5);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) loop.Run(UV_RUN_ONCE);
  return done();
}

}  // namespace meshvpn::tun::test
