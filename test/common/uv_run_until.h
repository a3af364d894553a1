// RunUntil for tests of libuv drivers over TCP: runs a loop until a condition holds or a timeout
// passes, with a short repeating timer so that UV_RUN_ONCE never blocks for ever.
#pragma once

#include <uv.h>

#include <chrono>

namespace meshvpn::test {

template <typename Pred>
bool RunUntil(uv_loop_t* loop, Pred pred,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  uv_timer_t tick;
  uv_timer_init(loop, &tick);
  uv_timer_start(
      &tick, [](uv_timer_t*) {}, 2, 2);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = true;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ok = false;
      break;
    }
    uv_run(loop, UV_RUN_ONCE);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return ok;
}

}  // namespace meshvpn::test
