// UvClient: a request queue over one kept-alive connection (resolve, connect, TLS), reconnecting
// when the server closes; upgraded connections are handed over and live on until closed.
#include "meshvpn/http/uv_client.h"

#include <netdb.h>
#include <sys/un.h>

#include "absl/strings/str_format.h"
#include "meshvpn/base/uv_status.h"
#include "meshvpn/http/address.h"
#include "meshvpn/http/connection_stack.h"
#include "uv_connection.h"

namespace meshvpn::http {

// A uv_getaddrinfo in flight; `client` is null once the client is gone.
struct ResolveRequest {
  uv_getaddrinfo_t req{};
  UvClient* client = nullptr;
};

// A uv_tcp_connect or uv_pipe_connect in flight, owning the socket until it connects.
struct UvClient::ConnectRequest {
  uv_connect_t req{};
  UvClient* client = nullptr;
  UvStream stream;

  // The callback of both connects.
  static void OnConnect(uv_connect_t* req, int status) {
    auto* request = static_cast<ConnectRequest*>(req->data);
    UvClient* client = request->client;
    UvStream socket = std::move(request->stream);
    delete request;
    if (client == nullptr) return;  // `socket` closes
    client->connecting_ = nullptr;
    client->OnConnected(status, std::move(socket));
  }
};

class UvClient::Owner final : public UvConnectionOwner {
 public:
  explicit Owner(UvClient* client) : client_(client) {}
  void OnConnectionClosed(UvConnection* connection) override {
    client_->OnConnectionClosed(connection);
  }

 private:
  UvClient* client_;
};

// Passes every call to the user's handler and tells the client when the response has ended.
class UvClient::Relay final : public ResponseHandler {
 public:
  Relay(UvClient* client, ResponseHandler* user) : client_(client), user_(user) {}
  void OnResponseHead(const ResponseHead& head) override { user_->OnResponseHead(head); }
  void OnResponseBody(std::string_view data) override { user_->OnResponseBody(data); }
  void OnResponseComplete() override {
    user_->OnResponseComplete();
    client_->OnResponseEnded(false);
  }
  void OnResponseError(const absl::Status& error) override {
    user_->OnResponseError(error);
    client_->OnResponseEnded(false);
  }
  void OnUpgrade(const ResponseHead& head, UpgradedStream stream, std::string buffered) override {
    user_->OnUpgrade(head, std::move(stream), std::move(buffered));
    client_->OnResponseEnded(true);
  }

 private:
  UvClient* client_;
  ResponseHandler* user_;
};

UvClient::UvClient(uv_loop_t* loop, UvClientOptions options)
    : loop_(loop),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &RealClock::Instance()),
      owner_(std::make_unique<Owner>(this)) {
  if (options_.port == 0) options_.port = options_.tls != nullptr ? 443 : 80;
  if (!options_.unix_socket.empty() && options_.host.empty()) options_.host = "localhost";
  if (options_.server_name.empty()) options_.server_name = options_.host;
  host_field_ =
      HostPort{options_.host, options_.port}.HostField(options_.tls != nullptr ? 443 : 80);
}

UvClient::~UvClient() {
  if (resolving_ != nullptr) resolving_->client = nullptr;  // it frees itself
  if (connecting_ != nullptr) connecting_->client = nullptr;
  FailAll(absl::CancelledError("the HTTP client was destroyed"));
  if (connection_ != nullptr) {
    UvConnection* c = std::exchange(connection_, nullptr);
    core_ = nullptr;
    delete c;  // aborts the core: the response in flight hears OnResponseError
  }
  for (UvConnection* c : std::exchange(upgraded_, {})) delete c;
  in_flight_.reset();
  retired_.reset();
}

std::string UvClient::Target() const {
  if (!options_.unix_socket.empty()) return "unix:" + options_.unix_socket;
  return HostPort{options_.host, options_.port}.ToString();
}

void UvClient::Send(Request request, ResponseHandler* handler) {
  Pending p;
  p.request = std::move(request);
  p.handler = handler;
  queue_.push_back(std::move(p));
  Pump();
}

void UvClient::Fetch(Request request, std::function<void(absl::StatusOr<Response>)> done) {
  Pending p;
  p.request = std::move(request);
  p.owned = std::make_unique<BufferingResponseHandler>(std::move(done),
                                                       options_.limits.parser.max_body_bytes);
  p.handler = p.owned.get();
  queue_.push_back(std::move(p));
  Pump();
}

void UvClient::Close() {
  if (core_ != nullptr) core_->Close();
  if (connection_ != nullptr) connection_->Poke();
}

void UvClient::Pump() {
  if (in_flight_ != nullptr || queue_.empty()) return;
  if (connection_ == nullptr) {
    if (resolving_ == nullptr && connecting_ == nullptr) StartConnect();
    return;
  }
  if (!core_->ready()) return;  // closing: a new connection follows its close
  in_flight_ = std::make_unique<Pending>(std::move(queue_.front()));
  queue_.pop_front();
  in_flight_->relay = std::make_unique<Relay>(this, in_flight_->handler);
  if (!core_->Send(in_flight_->request, host_field_, in_flight_->relay.get())) {
    std::unique_ptr<Pending> failed = std::move(in_flight_);
    failed->handler->OnResponseError(
        absl::FailedPreconditionError("the HTTP connection refused the request"));
    return;
  }
  connection_->Poke();
}

void UvClient::OnResponseEnded(bool upgraded) {
  retired_ = std::move(in_flight_);  // its relay and handler may still be on the stack
  if (upgraded && connection_ != nullptr) {
    // The connection now belongs to the UpgradedStream; HTTP goes on over a new one.
    upgraded_.push_back(connection_);
    connection_ = nullptr;
    core_ = nullptr;
  }
  Pump();
}

void UvClient::FailAll(const absl::Status& error) {
  std::deque<Pending> queue = std::move(queue_);
  queue_.clear();
  for (Pending& p : queue) p.handler->OnResponseError(error);
}

void UvClient::StartConnect() {
  if (!options_.unix_socket.empty()) {
    ConnectUnix();
    return;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  sockaddr_storage literal{};
  if (uv_ip4_addr(options_.host.c_str(), options_.port, reinterpret_cast<sockaddr_in*>(&literal)) ==
          0 ||
      uv_ip6_addr(options_.host.c_str(), options_.port,
                  reinterpret_cast<sockaddr_in6*>(&literal)) == 0) {
    addrinfo ai{};
    ai.ai_family = literal.ss_family;
    ai.ai_socktype = SOCK_STREAM;
    ai.ai_addr = reinterpret_cast<sockaddr*>(&literal);
    ai.ai_addrlen = literal.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    OnResolved(0, &ai);
    return;
  }
  auto* r = new ResolveRequest;
  r->client = this;
  r->req.data = r;
  const std::string port = std::to_string(options_.port);
  const int rc = uv_getaddrinfo(
      loop_, &r->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* request = static_cast<ResolveRequest*>(req->data);
        UvClient* client = request->client;
        if (client != nullptr) {
          client->resolving_ = nullptr;
          client->OnResolved(status, res);
        }
        uv_freeaddrinfo(res);
        delete request;
      },
      options_.host.c_str(), port.c_str(), &hints);
  if (rc < 0) {
    delete r;
    FailAll(UvToStatus(rc, absl::StrFormat("resolve %s", options_.host)));
    return;
  }
  resolving_ = r;
}

void UvClient::OnResolved(int status, const addrinfo* addresses) {
  if (status < 0 || addresses == nullptr) {
    FailAll(UvToStatus(status < 0 ? status : UV_EAI_NONAME,
                       absl::StrFormat("resolve %s", options_.host)));
    return;
  }
  auto tcp = UvTcp::Create(loop_, uv_tcp_init);
  if (!tcp.ok()) {
    FailAll(tcp.status());
    return;
  }
  auto* c = new ConnectRequest;
  c->client = this;
  c->stream = std::move(*tcp);
  c->req.data = c;
  const int rc =
      uv_tcp_connect(&c->req, c->stream.tcp(), addresses->ai_addr, &ConnectRequest::OnConnect);
  if (rc < 0) {
    delete c;
    FailAll(UvToStatus(rc, absl::StrFormat("connect to %s", Target())));
    return;
  }
  connecting_ = c;
}

void UvClient::ConnectUnix() {
  if (options_.unix_socket.size() >= sizeof(sockaddr_un{}.sun_path)) {  // libuv would truncate it
    FailAll(absl::InvalidArgumentError(
        absl::StrFormat("connect to %s: the path is longer than %d bytes", Target(),
                        sizeof(sockaddr_un{}.sun_path) - 1)));
    return;
  }
  auto pipe = UvPipe::Create(loop_, uv_pipe_init, 0);
  if (!pipe.ok()) {
    FailAll(pipe.status());
    return;
  }
  auto* c = new ConnectRequest;
  c->client = this;
  c->stream = std::move(*pipe);
  c->req.data = c;
  connecting_ = c;
  // Errors (ENOENT, ECONNREFUSED, EACCES) arrive in the callback, on a later loop turn.
  uv_pipe_connect(&c->req, c->stream.pipe(), options_.unix_socket.c_str(),
                  &ConnectRequest::OnConnect);
}

void UvClient::OnConnected(int status, UvStream stream) {
  if (status < 0) {
    FailAll(UvToStatus(status, absl::StrFormat("connect to %s", Target())));
    return;
  }
  std::unique_ptr<TlsSession> tls;
  if (options_.tls != nullptr) {
    auto session = TlsSession::NewClient(options_.tls, options_.server_name);
    if (!session.ok()) {
      FailAll(session.status());
      return;
    }
    tls = std::move(*session);
  }
  auto core = std::make_unique<ClientConnection>(clock_, options_.limits);
  ClientConnection* core_ptr = core.get();
  auto stack = std::make_unique<ConnectionStack>(std::move(core), std::move(tls));
  connection_ =
      new UvConnection(loop_, clock_, std::move(stream), std::move(stack), {}, owner_.get());
  core_ = core_ptr;
  if (absl::Status s = connection_->Start(); !s.ok()) {
    connection_->Close();  // OnConnectionClosed fails what is queued
    return;
  }
  Pump();
}

void UvClient::OnConnectionClosed(UvConnection* connection) {
  if (connection == connection_) {
    connection_ = nullptr;
    core_ = nullptr;
    const TlsSession* tls = connection->stack().tls();
    const bool tls_failed = tls != nullptr && tls->state() == TlsState::kFailed;
    absl::Status why = tls_failed ? absl::UnavailableError(absl::StrFormat(
                                        "TLS with %s failed: %s", Target(), tls->error().message()))
                                  : absl::OkStatus();
    delete connection;
    // A TLS failure fails what is queued too: reconnecting would fail the same way.
    if (!why.ok()) {
      FailAll(why);
      return;
    }
    Pump();  // the next request on a new connection
    return;
  }
  for (auto it = upgraded_.begin(); it != upgraded_.end(); ++it) {
    if (*it == connection) {
      upgraded_.erase(it);
      delete connection;
      return;
    }
  }
}

}  // namespace meshvpn::http
