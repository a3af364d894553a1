// Owns a libuv event loop and closes it cleanly, running pending close callbacks first.
#pragma once

#include <uv.h>

#include <memory>

#include "absl/status/status.h"

namespace meshvpn {

class UvLoop {
 public:
  UvLoop();
  ~UvLoop();
  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;

  uv_loop_t* get() const { return loop_.get(); }

  // uv_run in the given mode; returns uv_run's result (non-zero: handles are still active).
  int Run(uv_run_mode mode = UV_RUN_DEFAULT);

  // Runs the loop until every closing handle's callback has run, then uv_loop_close.
  // Returns uv_loop_close's result: 0, or UV_EBUSY if a handle is still open (a leak: the
  // owner of that handle was not destroyed). Tests assert this is 0.
  int Close();

 private:
  std::unique_ptr<uv_loop_t> loop_;
  bool closed_ = false;
};

}  // namespace meshvpn
