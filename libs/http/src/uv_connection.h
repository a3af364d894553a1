// UvConnection: the libuv driver of one connection (TCP or a Unix-domain socket) under a
// ConnectionStack, shared by UvServer and UvClient (private to the library): reads, writes, the
// timer, and a graceful close.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "meshvpn/base/clock.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_stream.h"
#include "meshvpn/http/connection_stack.h"

namespace meshvpn::http {

class UvConnection;

// Told once when a connection is gone (its handles are closing); it may delete the connection.
class UvConnectionOwner {
 public:
  virtual ~UvConnectionOwner() = default;
  virtual void OnConnectionClosed(UvConnection* connection) = 0;
};

// After every event the driver looks at the stack: it writes PendingWire() (uv_try_write, then
// one uv_write of a copy of the rest), reads while WantsRead(), arms its timer at NextExpiry(),
// and on WantsClose() shuts the socket down (FIN), drains what the peer still sends for up to
// kLinger so the kernel does not answer with a reset, and closes.
class UvConnection final : private CoreListener {
 public:
  static constexpr std::chrono::milliseconds kLinger{1000};
  // Writes larger than this go out in pieces (one uv_write in flight at a time).
  static constexpr size_t kMaxWrite = 256 * 1024;

  // `stream` is connected (accepted, or after uv_tcp_connect / uv_pipe_connect). `read_buffer` is
  // shared by the owner's connections (a read is delivered before the next read on the loop
  // starts); empty: the connection has its own.
  UvConnection(uv_loop_t* loop, const Clock* clock, UvStream stream,
               std::unique_ptr<ConnectionStack> stack, std::span<char> read_buffer,
               UvConnectionOwner* owner);
  ~UvConnection() override;
  UvConnection(const UvConnection&) = delete;
  UvConnection& operator=(const UvConnection&) = delete;

  // Starts reading (and, for a TLS client, sends the ClientHello).
  absl::Status Start();
  // Closes at once: the stack is aborted (its handlers hear it) and the owner is told.
  void Close();
  // Looks at the stack again (after the owner changed something in it, e.g. a graceful
  // shutdown of the core).
  void Poke() { Pump(); }

  ConnectionStack& stack() { return *stack_; }
  bool closed() const { return closed_; }
  // The peer as PeerAddressString says: "203.0.113.5:41234", or "unix:" over a Unix socket.
  const std::string& peer() const { return peer_; }

  // The owner's intrusive list.
  UvConnection* prev = nullptr;
  UvConnection* next = nullptr;

 private:
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnShutdown(uv_shutdown_t* req, int status);
  static void OnTimer(uv_timer_t* timer);
  void HandleRead(ssize_t nread, const uv_buf_t* buf);
  void OnCoreActivity() override;
  void Pump();
  void StartWrite();
  void UpdateReading();
  void UpdateTimer();
  void BeginShutdown();
  void Enter() { ++depth_; }
  void Leave();

  uv_loop_t* loop_;
  const Clock* clock_;
  UvStream stream_;
  UvTimer timer_;
  std::unique_ptr<ConnectionStack> stack_;
  std::span<char> read_buffer_;
  std::unique_ptr<char[]> own_read_buffer_;
  UvConnectionOwner* owner_;
  std::string peer_;
  // libuv requests live on the heap: a request still in flight when the connection is deleted
  // completes (cancelled) later and must not touch it.
  struct WriteOp {
    uv_write_t req{};
    UvConnection* connection = nullptr;  // null once the connection is gone
    std::string bytes;                   // what this uv_write sends
  };
  struct ShutdownOp {
    uv_shutdown_t req{};
    UvConnection* connection = nullptr;
  };
  WriteOp* write_op_ = nullptr;
  ShutdownOp* shutdown_op_ = nullptr;
  int depth_ = 0;
  bool reading_ = false;
  bool eof_ = false;
  bool shutting_down_ = false;  // FIN sent or being sent: lingering until EOF or kLinger
  bool closed_ = false;
  bool owner_told_ = false;
  bool pumping_ = false;
  bool pump_again_ = false;
};

// "ADDR:PORT" of a socket's peer or local end ("?" if unknown).
std::string SocketAddressString(const struct sockaddr_storage& address);

// The prefix of every Unix-domain peer's address (see Request::remote_address).
inline constexpr std::string_view kUnixAddressPrefix = "unix:";

// A connected stream's peer: "ADDR:PORT" over TCP (empty if getpeername fails); over a Unix
// socket "unix:" followed by the peer's bound path, which a client normally has not (so "unix:").
std::string PeerAddressString(const UvStream& stream);

}  // namespace meshvpn::http
