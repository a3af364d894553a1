// UvClient: the libuv driver of the HTTP client: connects to host:port (plain or TLS) or to a
// Unix-domain socket, sends
// requests one at a time over a kept-alive connection, streams responses, and hands over
// upgraded connections.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_stream.h"
#include "meshvpn/http/client_connection.h"
#include "meshvpn/http/limits.h"
#include "meshvpn/http/request.h"
#include "meshvpn/http/response.h"
#include "meshvpn/http/tls_context.h"

namespace meshvpn::http {

class UvConnection;
struct ResolveRequest;

struct UvClientOptions {
  std::string host;   // a name (resolved with uv_getaddrinfo) or an IP literal
  uint16_t port = 0;  // 0: 443 with TLS, 80 without
  // Non-empty: connect to the Unix-domain socket at this path (uv_pipe_connect) instead of
  // resolving host:port, which then only make the Host field (host default "localhost"), as
  // with `curl --unix-socket PATH http://localhost/`.
  std::string unix_socket;
  std::shared_ptr<const TlsContext> tls;  // null: plain HTTP
  // SNI and the name checked against the certificate; default: `host`.
  std::string server_name;
  ClientLimits limits;
  const Clock* clock = nullptr;  // null: the real clock
};

// Requests queue and go out one at a time; a response that lets the connection stay open is
// followed by the next request on it, otherwise a new connection is made. A request is not
// retried: if the connection fails, its handler hears OnResponseError.
//
// Threading: the loop's thread only. Handlers must outlive their response.
class UvClient {
 public:
  UvClient(uv_loop_t* loop, UvClientOptions options);
  // Closes the connection at once; queued and in-flight handlers hear OnResponseError
  // (Cancelled). Run the loop afterwards so libuv can free the handles.
  ~UvClient();
  UvClient(const UvClient&) = delete;
  UvClient& operator=(const UvClient&) = delete;

  // Queues `request`; `handler` gets the response (streamed), an error, or the upgraded
  // connection (send "Upgrade: <proto>" and "Connection: Upgrade" in the request).
  void Send(Request request, ResponseHandler* handler);
  // Queues `request` and calls `done` once with the whole response (up to the limits'
  // max_body_bytes) or an error.
  void Fetch(Request request, std::function<void(absl::StatusOr<Response>)> done);
  // Closes the connection after the response in flight; later requests connect again.
  void Close();

  bool connected() const { return connection_ != nullptr; }
  size_t queued() const { return queue_.size(); }

 private:
  class Owner;  // what the connections tell when they close
  class Relay;  // the ResponseHandler in front of the user's, to know when a response ends
  struct ConnectRequest;
  struct Pending {
    Request request;
    ResponseHandler* handler = nullptr;
    std::unique_ptr<BufferingResponseHandler> owned;  // Fetch's
    std::unique_ptr<Relay> relay;
  };

  void Pump();
  void StartConnect();
  void OnResolved(int status, const struct addrinfo* addresses);
  void ConnectUnix();
  void OnConnected(int status, UvStream stream);
  void OnConnectionClosed(UvConnection* connection);
  void OnResponseEnded(bool upgraded);
  void FailAll(const absl::Status& error);
  std::string Target() const;  // "host:port" or "unix:/path" for messages

  uv_loop_t* loop_;
  UvClientOptions options_;
  const Clock* clock_;
  std::unique_ptr<Owner> owner_;
  std::deque<Pending> queue_;
  std::unique_ptr<Pending> in_flight_;
  std::unique_ptr<Pending> retired_;  // the response that just ended (its handler may be running)
  UvConnection* connection_ = nullptr;
  ClientConnection* core_ = nullptr;     // inside connection_
  std::vector<UvConnection*> upgraded_;  // connections handed to an UpgradedStream
  ResolveRequest* resolving_ = nullptr;
  ConnectRequest* connecting_ = nullptr;
  std::string host_field_;
};

}  // namespace meshvpn::http
