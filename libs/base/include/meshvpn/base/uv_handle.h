// Move-only RAII ownership of libuv handles: destruction calls uv_close, and the close callback
// frees.
#pragma once

#include <uv.h>

#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "meshvpn/base/uv_status.h"

namespace meshvpn {

// Owns one heap-allocated libuv handle of type T (uv_timer_t, uv_udp_t, uv_poll_t, ...).
//
// libuv may still touch a handle after uv_close() until its close callback runs, so the memory
// cannot live inside the owning object. UvHandle allocates it, and on destruction (or Reset)
// calls uv_close with a callback that deletes it. The loop must therefore run once more after
// the last handle is released; UvLoop::Close() does that.
//
// The owner points handle->data at itself and forwards each libuv callback to one method.
template <typename T>
class UvHandle {
  static_assert(std::is_standard_layout_v<T>, "T must be a libuv handle struct");

 public:
  UvHandle() = default;
  ~UvHandle() { Reset(); }

  UvHandle(UvHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  // Allocates a T and runs `init(loop, handle, args...)` (uv_timer_init, uv_udp_init_ex, ...).
  // On failure the memory is freed at once: a handle that failed init was never registered.
  template <typename InitFn, typename... Args>
  static absl::StatusOr<UvHandle> Create(uv_loop_t* loop, InitFn init, Args&&... args) {
    T* raw = new T{};
    if (int rc = init(loop, raw, std::forward<Args>(args)...); rc < 0) {
      delete raw;
      return UvToStatus(rc, "libuv handle init");
    }
    return UvHandle(raw);
  }

  T* get() const { return handle_; }
  T* operator->() const { return handle_; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  explicit operator bool() const { return handle_ != nullptr; }

  // Sets handle->data, which callbacks use to find their owner.
  void set_owner(void* owner) const { handle_->data = owner; }

  // Closes the handle; its memory is freed by the close callback on a later loop iteration.
  void Reset() {
    if (handle_ == nullptr) return;
    uv_handle_t* h = base();
    h->data = nullptr;
    if (!uv_is_closing(h)) uv_close(h, &UvHandle::OnClosed);
    handle_ = nullptr;
  }

 private:
  explicit UvHandle(T* handle) : handle_(handle) {}
  static void OnClosed(uv_handle_t* h) { delete reinterpret_cast<T*>(h); }

  T* handle_ = nullptr;
};

using UvTimer = UvHandle<uv_timer_t>;
using UvUdp = UvHandle<uv_udp_t>;
using UvPoll = UvHandle<uv_poll_t>;
using UvSignal = UvHandle<uv_signal_t>;
using UvAsync = UvHandle<uv_async_t>;
using UvTcp = UvHandle<uv_tcp_t>;
using UvPipe = UvHandle<uv_pipe_t>;
using UvCheck = UvHandle<uv_check_t>;

}  // namespace meshvpn
