#include "meshvpn/base/uv_loop.h"

#include <cstdlib>

namespace meshvpn {

UvLoop::UvLoop() : loop_(std::make_unique<uv_loop_t>()) {
  if (uv_loop_init(loop_.get()) != 0) std::abort();  // only fails when out of file descriptors
}

UvLoop::~UvLoop() {
  // If a handle is still open, libuv still points into the loop: leak it rather than free memory
  // that is in use. Close() returning UV_EBUSY in a test is how such a leak gets noticed.
  if (!closed_ && Close() != 0) (void)loop_.release();
}

int UvLoop::Run(uv_run_mode mode) { return uv_run(loop_.get(), mode); }

int UvLoop::Close() {
  // Closing handles need one more iteration for their callbacks; NOWAIT never blocks.
  uv_run(loop_.get(), UV_RUN_NOWAIT);
  const int rc = uv_loop_close(loop_.get());
  if (rc == 0) closed_ = true;
  return rc;
}

}  // namespace meshvpn
