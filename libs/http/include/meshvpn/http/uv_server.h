// UvServer: the libuv driver of the HTTP server: listens on ADDR:PORT (plain or TLS) or on a
// Unix-domain socket (plain), accepts up to a connection limit, and moves bytes between each
// connection's uv_stream_t and its ConnectionStack.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_stream.h"
#include "meshvpn/http/limits.h"
#include "meshvpn/http/response_writer.h"
#include "meshvpn/http/server_connection.h"
#include "meshvpn/http/tls_context.h"

namespace meshvpn::http {

class UvConnection;

struct UvServerOptions {
  // "ADDR:PORT", "[::1]:8443", ":80" (every address), or "unix:/path/to/socket": a Unix-domain
  // socket, created with mode 0600 (never more open, whatever the umask) and removed when the
  // server stops listening. A socket file already there is replaced if nothing answers on it
  // (stale, left by a server that died); Listen fails with AlreadyExists if a server answers, and
  // with FailedPrecondition if the path is something other than a socket. Clients on it are seen
  // as remote_address "unix:" (Request::from_unix_socket()).
  std::string listen = "127.0.0.1:0";
  std::shared_ptr<const TlsContext> tls;  // null: plain HTTP; must be null on a Unix socket
  ServerLimits limits;
  // Connections beyond this are accepted and closed at once (counted in rejected_connections).
  size_t max_connections = 10000;
  int backlog = 1024;
  const Clock* clock = nullptr;  // null: the real clock
  LogSink* log = nullptr;        // null: nothing is logged
};

struct UvServerStats {
  uint64_t accepted = 0;
  uint64_t rejected_connections = 0;  // over max_connections
  uint64_t closed = 0;
  uint64_t tls_failures = 0;  // handshakes or records that failed
  ServerStats http;           // summed over every connection
};

// Each connection holds: its uv_tcp_t (or uv_pipe_t) and uv_timer_t, a ServerConnection, and under
// TLS a TlsSession; reads go through one 64 KiB buffer the server shares, so an idle connection
// holds no read buffer. The connection's timer is re-armed from ConnectionStack::NextExpiry() after
// every event. Threading: the loop's thread only; the handler runs on it.
class UvServer {
 public:
  // Binds and listens. `handler` must outlive the server.
  static absl::StatusOr<std::unique_ptr<UvServer>> Listen(uv_loop_t* loop, UvServerOptions options,
                                                          RequestHandler* handler);
  // Closes the listener and every connection at once (handlers hear OnClosed). Run the loop
  // afterwards so libuv can free the handles (UvLoop::Close does).
  ~UvServer();
  UvServer(const UvServer&) = delete;
  UvServer& operator=(const UvServer&) = delete;

  // Graceful: stops listening, closes idle connections, lets responses in progress finish
  // (streams hear OnShutdown), and closes what is left after `grace`. `done` runs once no
  // connection is left.
  void Shutdown(Duration grace, std::function<void()> done = {});

  uint16_t port() const { return port_; }  // 0 on a Unix socket
  // "127.0.0.1:8080" as bound, or "unix:/path/to/socket".
  const std::string& local_address() const { return local_address_; }
  size_t connection_count() const { return connection_count_; }
  const UvServerStats& stats() const { return stats_; }

 private:
  class Owner;  // what the connections tell when they close
  static constexpr size_t kReadBufferSize = 64 * 1024;

  UvServer(uv_loop_t* loop, UvServerOptions options, RequestHandler* handler);
  absl::Status Bind();
  absl::Status BindTcp();
  absl::Status BindUnix(const std::string& path);
  void StopListening();  // closes the listener (libuv unlinks a Unix socket's file)
  static void OnConnection(uv_stream_t* server, int status);
  void HandleConnection(int status);
  void OnConnectionClosed(UvConnection* connection);
  void Unlink(UvConnection* connection);
  static void OnGraceTimer(uv_timer_t* timer);
  void CheckShutdownDone();

  uv_loop_t* loop_;
  UvServerOptions options_;
  RequestHandler* handler_;
  const Clock* clock_;
  Logger log_;
  std::unique_ptr<Owner> owner_;
  std::unique_ptr<char[]> read_buffer_;  // shared by every connection's reads
  UvStream listener_;                    // a uv_tcp_t, or a uv_pipe_t on a Unix socket
  bool unix_ = false;
  std::string unix_path_;  // set once bound: the socket file is ours to remove
  uint64_t unix_device_ = 0, unix_inode_ = 0;
  UvTimer grace_timer_;
  uint16_t port_ = 0;
  std::string local_address_;
  UvConnection* connections_ = nullptr;  // intrusive list of live connections
  size_t connection_count_ = 0;
  UvServerStats stats_;
  std::function<void()> shutdown_done_;
  bool shutting_down_ = false;
};

}  // namespace meshvpn::http
