// UvStream: owns one libuv byte stream of either kind a socket can be, a TCP socket (uv_tcp_t)
// or a Unix-domain socket (uv_pipe_t), so that code which only reads, writes and closes is
// written once against uv_stream_t.
#pragma once

#include <uv.h>

#include <utility>

#include "meshvpn/base/uv_handle.h"

namespace meshvpn {

// Holds a UvTcp or a UvPipe (or nothing); each is closed and freed the way UvHandle does.
class UvStream {
 public:
  UvStream() = default;
  UvStream(UvTcp tcp) : tcp_(std::move(tcp)) {}      // NOLINT(google-explicit-constructor)
  UvStream(UvPipe pipe) : pipe_(std::move(pipe)) {}  // NOLINT(google-explicit-constructor)

  uv_stream_t* get() const {
    if (tcp_) return reinterpret_cast<uv_stream_t*>(tcp_.get());
    return reinterpret_cast<uv_stream_t*>(pipe_.get());  // null if empty
  }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(get()); }
  // The TCP socket, or null (a pipe, or nothing).
  uv_tcp_t* tcp() const { return tcp_.get(); }
  // The Unix-domain socket, or null.
  uv_pipe_t* pipe() const { return pipe_.get(); }
  bool is_tcp() const { return static_cast<bool>(tcp_); }
  bool is_pipe() const { return static_cast<bool>(pipe_); }
  explicit operator bool() const { return tcp_ || pipe_; }

  // Sets handle->data, which callbacks use to find their owner.
  void set_owner(void* owner) const { get()->data = owner; }
  // Closes the handle (freed by the close callback on a later loop iteration).
  void Reset() {
    tcp_.Reset();
    pipe_.Reset();
  }

 private:
  UvTcp tcp_;
  UvPipe pipe_;
};

}  // namespace meshvpn
