// UvServer and UvClient on loopback, plain and TLS: requests over a kept-alive connection, JSON,
// a response streamed from a timer, an Upgrade echo, the connection limit, slowloris, pinned and
// failed TLS, graceful shutdown; every handle closed afterwards (UvLoop::Close() == 0).
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "common/uv_run_until.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/http/json.h"
#include "meshvpn/http/router.h"
#include "meshvpn/http/self_signed.h"
#include "meshvpn/http/uv_client.h"
#include "meshvpn/http/uv_server.h"

namespace meshvpn::http {
namespace {

using std::chrono::milliseconds;

using test::RunUntil;

// A streamed response written from a timer: `count` events, 5 ms apart.
class Ticker final : public StreamObserver {
 public:
  Ticker(uv_loop_t* loop, ResponseWriter writer, int count)
      : writer_(std::move(writer)), left_(count) {
    uv_timer_init(loop, &timer_);
    timer_.data = this;
    writer_.set_observer(this);
    writer_.StartStream(kStatusOk, {{"Content-Type", "text/event-stream"}});
    uv_timer_start(&timer_, &Ticker::OnTick, 5, 5);
  }
  ~Ticker() override { Stop(); }
  void OnClosed() override { Stop(); }
  bool done() const { return stopped_; }

 private:
  static void OnTick(uv_timer_t* t) {
    auto* self = static_cast<Ticker*>(t->data);
    self->writer_.Write("data: " + std::to_string(self->left_) + "\n\n");
    if (--self->left_ == 0) {
      self->writer_.End();
      self->Stop();
    }
  }
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  }
  uv_timer_t timer_;
  ResponseWriter writer_;
  int left_;
  bool stopped_ = false;
};

// Echoes an upgraded stream's bytes back.
class Echo final : public StreamHandler {
 public:
  void OnStreamData(ByteSpan data) override { stream.Write(data); }
  void OnStreamClosed() override { closed = true; }
  UpgradedStream stream;
  bool closed = false;
};

// The client side of the Upgrade: collects the echoed bytes.
class UpgradeClient final : public ResponseHandler, public StreamHandler {
 public:
  void OnResponseHead(const ResponseHead&) override {}
  void OnResponseBody(std::string_view) override {}
  void OnResponseComplete() override { error = "a plain response"; }
  void OnResponseError(const absl::Status& e) override { error = e.ToString(); }
  void OnUpgrade(const ResponseHead& head, UpgradedStream s, std::string buffered) override {
    status = head.status;
    received += buffered;
    stream = std::move(s);
    stream.set_handler(this);
    stream.Write(AsBytes(std::string_view("ping over the raw stream")));
  }
  void OnStreamData(ByteSpan data) override {
    received.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  void OnStreamClosed() override { closed = true; }
  UpgradedStream stream;
  std::string received;
  std::string error;
  int status = 0;
  bool closed = false;
};

struct Server {
  explicit Server(uv_loop_t* loop, std::shared_ptr<const TlsContext> tls = nullptr,
                  ServerLimits limits = {}, size_t max_connections = 100) {
    router.Exact("GET", "/hello", [](Request& r, ResponseWriter w) {
      w.Send(Response::Text(kStatusOk, "hello " + r.QueryParam("name").value_or("?")));
    });
    router.Exact("POST", "/api/echo", [](Request& r, ResponseWriter w) {
      auto body = ParseJsonBody(r);
      if (!body.ok()) {
        w.Send(JsonError(kStatusBadRequest, std::string(body.status().message())));
        return;
      }
      w.Send(JsonResponse(kStatusOk, {{"got", *body}}));
    });
    router.Exact("GET", "/events", [this, loop](Request&, ResponseWriter w) {
      tickers.push_back(std::make_unique<Ticker>(loop, std::move(w), 5));
    });
    router.Exact("GET", "/upgrade", [this](Request&, ResponseWriter w) {
      std::string early;
      echo.stream = w.AcceptUpgrade({{"Upgrade", "echo"}}, &echo, &early);
      if (!early.empty()) echo.stream.Write(AsBytes(early));
    });
    UvServerOptions options;
    options.listen = "127.0.0.1:0";
    options.tls = std::move(tls);
    options.limits = limits;
    options.max_connections = max_connections;
    auto s = UvServer::Listen(loop, options, &router);
    REQUIRE(s.ok());
    server = std::move(*s);
  }
  Router router;
  Echo echo;
  std::vector<std::unique_ptr<Ticker>> tickers;
  std::unique_ptr<UvServer> server;
};

Request Get(std::string target) {
  Request r;
  r.target = std::move(target);
  return r;
}

TEST_CASE("uv: requests over one kept-alive connection, JSON in and out") {
  UvLoop loop;
  {
    Server s(loop.get());
    UvClient client(loop.get(), {.host = "127.0.0.1", .port = s.server->port()});
    std::vector<absl::StatusOr<Response>> got;
    client.Fetch(Get("/hello?name=mesh%20vpn"),
                 [&](absl::StatusOr<Response> r) { got.push_back(r); });
    Request post;
    post.method = "POST";
    post.target = "/api/echo";
    post.body = R"({"n": 1})";
    client.Fetch(post, [&](absl::StatusOr<Response> r) { got.push_back(r); });
    client.Fetch(Get("/missing"), [&](absl::StatusOr<Response> r) { got.push_back(r); });
    REQUIRE(RunUntil(loop.get(), [&] { return got.size() == 3; }));
    REQUIRE(got[0].ok());
    CHECK(got[0]->status == 200);
    CHECK(got[0]->body == "hello mesh vpn");
    REQUIRE(got[1].ok());
    CHECK(nlohmann::json::parse(got[1]->body) == nlohmann::json{{"got", {{"n", 1}}}});
    CHECK(got[1]->headers.Get("Content-Type") == "application/json");
    REQUIRE(got[2].ok());
    CHECK(got[2]->status == 404);
    CHECK(s.server->stats().accepted == 1);  // all three on one connection
    CHECK(s.server->stats().http.requests == 3);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv: a response streamed from a timer arrives in pieces") {
  UvLoop loop;
  {
    Server s(loop.get());
    UvClient client(loop.get(), {.host = "127.0.0.1", .port = s.server->port()});
    std::optional<absl::StatusOr<Response>> got;
    client.Fetch(Get("/events"), [&](absl::StatusOr<Response> r) { got = r; });
    REQUIRE(RunUntil(loop.get(), [&] { return got.has_value(); }));
    REQUIRE(got->ok());
    CHECK((*got)->body == "data: 5\n\ndata: 4\n\ndata: 3\n\ndata: 2\n\ndata: 1\n\n");
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv: an Upgrade hands both ends the raw connection") {
  UvLoop loop;
  {
    Server s(loop.get());
    UvClient client(loop.get(), {.host = "127.0.0.1", .port = s.server->port()});
    UpgradeClient up;
    Request r = Get("/upgrade");
    r.headers.Add("Upgrade", "echo");
    r.headers.Add("Connection", "Upgrade");
    client.Send(r, &up);
    REQUIRE(RunUntil(loop.get(), [&] { return up.received == "ping over the raw stream"; }));
    CHECK(up.status == 101);
    CHECK(up.error.empty());
    // The client's HTTP goes on over a new connection.
    std::optional<absl::StatusOr<Response>> got;
    client.Fetch(Get("/hello?name=again"), [&](absl::StatusOr<Response> r2) { got = r2; });
    REQUIRE(RunUntil(loop.get(), [&] { return got.has_value(); }));
    CHECK((*got)->body == "hello again");
    up.stream.Close();
    REQUIRE(RunUntil(loop.get(), [&] { return s.echo.closed; }));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv: TLS with a self-signed certificate, pinned; a wrong pin fails the request") {
  UvLoop loop;
  {
    auto cert = MakeSelfSignedCertificate({"localhost", "127.0.0.1"});
    REQUIRE(cert.ok());
    TlsServerOptions so;
    so.pem = *cert;
    auto server_tls = TlsContext::NewServer(so);
    REQUIRE(server_tls.ok());
    Server s(loop.get(), *server_tls);

    TlsClientOptions co;
    co.pins.push_back(*SpkiPinOfCertificate(cert->cert_pem));
    co.alpn = {"http/1.1"};
    auto client_tls = TlsContext::NewClient(co);
    REQUIRE(client_tls.ok());
    UvClient client(loop.get(),
                    {.host = "127.0.0.1", .port = s.server->port(), .tls = *client_tls});
    std::optional<absl::StatusOr<Response>> got;
    client.Fetch(Get("/hello?name=tls"), [&](absl::StatusOr<Response> r) { got = r; });
    REQUIRE(RunUntil(loop.get(), [&] { return got.has_value(); }));
    REQUIRE(got->ok());
    CHECK((*got)->body == "hello tls");

    TlsClientOptions wrong;
    SpkiPin pin{};
    pin[0] = 1;
    wrong.pins.push_back(pin);
    auto wrong_tls = TlsContext::NewClient(wrong);
    REQUIRE(wrong_tls.ok());
    UvClient bad(loop.get(), {.host = "127.0.0.1", .port = s.server->port(), .tls = *wrong_tls});
    std::optional<absl::StatusOr<Response>> refused;
    bad.Fetch(Get("/hello"), [&](absl::StatusOr<Response> r) { refused = r; });
    REQUIRE(RunUntil(loop.get(), [&] { return refused.has_value(); }));
    REQUIRE_FALSE(refused->ok());
    // The reason reaches the caller: the certificate check, not a generic abort.
    CHECK(refused->status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(std::string(refused->status().message()).find("pinned") != std::string::npos);
    REQUIRE(RunUntil(loop.get(), [&] { return s.server->stats().tls_failures == 1; }));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv: connections over the limit are closed at once") {
  UvLoop loop;
  {
    Server s(loop.get(), nullptr, {}, /*max_connections=*/1);
    UvClient first(loop.get(), {.host = "127.0.0.1", .port = s.server->port()});
    std::optional<absl::StatusOr<Response>> a;
    first.Fetch(Get("/hello"), [&](absl::StatusOr<Response> r) { a = r; });
    REQUIRE(RunUntil(loop.get(), [&] { return a.has_value(); }));
    REQUIRE(a->ok());
    UvClient second(loop.get(), {.host = "127.0.0.1", .port = s.server->port()});
    std::optional<absl::StatusOr<Response>> b;
    second.Fetch(Get("/hello"), [&](absl::StatusOr<Response> r) { b = r; });
    REQUIRE(RunUntil(loop.get(), [&] { return b.has_value(); }));
    CHECK_FALSE(b->ok());
    CHECK(s.server->stats().rejected_connections == 1);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv: a silent connection is closed at header_timeout (slowloris)") {
  UvLoop loop;
  {
    ServerLimits limits;
    limits.header_timeout = milliseconds(100);
    Server s(loop.get(), nullptr, limits);
    // A raw TCP connection that never sends a byte.
    auto raw = UvTcp::Create(loop.get(), uv_tcp_init);
    REQUIRE(raw.ok());
    uv_connect_t connect;
    sockaddr_in address;
    uv_ip4_addr("127.0.0.1", s.server->port(), &address);
    uv_tcp_connect(&connect, raw->get(), reinterpret_cast<const sockaddr*>(&address),
                   [](uv_connect_t*, int) {});
    REQUIRE(RunUntil(loop.get(), [&] { return s.server->connection_count() == 1; }));
    REQUIRE(RunUntil(loop.get(), [&] { return s.server->connection_count() == 0; }));
    CHECK(s.server->stats().http.header_timeouts == 1);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv: graceful shutdown lets a stream finish, then reports done") {
  UvLoop loop;
  {
    Server s(loop.get());
    UvClient client(loop.get(), {.host = "127.0.0.1", .port = s.server->port()});
    std::optional<absl::StatusOr<Response>> got;
    client.Fetch(Get("/events"), [&](absl::StatusOr<Response> r) { got = r; });
    REQUIRE(RunUntil(loop.get(), [&] { return s.tickers.size() == 1; }));
    bool done = false;
    s.server->Shutdown(std::chrono::seconds(5), [&] { done = true; });
    REQUIRE(RunUntil(loop.get(), [&] { return done && got.has_value(); }));
    REQUIRE(got->ok());
    CHECK((*got)->body.find("data: 1\n\n") != std::string::npos);
    CHECK(s.server->connection_count() == 0);
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::http
