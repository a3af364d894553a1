// UvServer on a Unix-domain socket ("unix:PATH") and UvClient over it (unix_socket): requests
// over one kept-alive connection, a POST body, an Upgrade, the peer seen as "unix:", the file's
// mode 0600 whatever the umask, a stale socket replaced, a live one or a regular file refused,
// the file removed on destruction and on Shutdown, curl --unix-socket; every handle closed
// afterwards (UvLoop::Close() == 0).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "common/uv_run_until.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/http/json.h"
#include "meshvpn/http/router.h"
#include "meshvpn/http/uv_client.h"
#include "meshvpn/http/uv_server.h"
#include "tls_test_util.h"

namespace meshvpn::http {
namespace {

using ::meshvpn::test::RunUntil;
using test::TempDir;

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
    stream.Write(AsBytes(std::string_view("ping over the unix socket")));
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

// The routes: /who says how the client came ("unix" or "tcp", remote_address, Host).
struct Routes {
  Routes() {
    router.Exact("GET", "/who", [](Request& r, ResponseWriter w) {
      w.Send(JsonResponse(kStatusOk, {{"via", r.from_unix_socket() ? "unix" : "tcp"},
                                      {"remote", r.remote_address},
                                      {"host", std::string(r.headers.Get("Host").value_or(""))}}));
    });
    router.Exact("POST", "/api/echo", [](Request& r, ResponseWriter w) {
      auto body = ParseJsonBody(r);
      if (!body.ok()) {
        w.Send(JsonError(kStatusBadRequest, std::string(body.status().message())));
        return;
      }
      w.Send(JsonResponse(kStatusOk, {{"got", *body}}));
    });
    router.Exact("GET", "/upgrade", [this](Request&, ResponseWriter w) {
      std::string early;
      echo.stream = w.AcceptUpgrade({{"Upgrade", "echo"}}, &echo, &early);
      if (!early.empty()) echo.stream.Write(AsBytes(early));
    });
  }
  Router router;
  Echo echo;
};

absl::StatusOr<std::unique_ptr<UvServer>> ListenOn(uv_loop_t* loop, const std::string& listen,
                                                   Routes* routes) {
  UvServerOptions options;
  options.listen = listen;
  return UvServer::Listen(loop, options, &routes->router);
}

Request Get(std::string target) {
  Request r;
  r.target = std::move(target);
  return r;
}

// One GET over the socket at `path`, run to completion.
absl::StatusOr<Response> FetchOnce(uv_loop_t* loop, const std::string& path, std::string target) {
  UvClient client(loop, {.unix_socket = path});
  std::optional<absl::StatusOr<Response>> got;
  client.Fetch(Get(std::move(target)), [&](absl::StatusOr<Response> r) { got = std::move(r); });
  REQUIRE(RunUntil(loop, [&] { return got.has_value(); }));
  return *std::move(got);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// A socket file nobody listens on: bound, then closed without unlinking (a server that died).
void MakeStaleSocket(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  REQUIRE(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
  close(fd);
  struct stat st {};
  REQUIRE(lstat(path.c_str(), &st) == 0);
  REQUIRE(S_ISSOCK(st.st_mode));
}

TEST_CASE("uv unix: requests over one kept-alive connection, a POST body, the peer is unix:") {
  UvLoop loop;
  TempDir dir;
  const std::string path = dir.path() + "/server.sock";
  {
    Routes routes;
    auto server = ListenOn(loop.get(), "unix:" + path, &routes);
    REQUIRE(server.ok());
    CHECK((*server)->local_address() == "unix:" + path);
    CHECK((*server)->port() == 0);

    UvClient client(loop.get(), {.unix_socket = path});
    std::vector<absl::StatusOr<Response>> got;
    client.Fetch(Get("/who"), [&](absl::StatusOr<Response> r) { got.push_back(r); });
    Request post;
    post.method = "POST";
    post.target = "/api/echo";
    post.body = R"({"n": 1, "s": "over a unix socket"})";
    client.Fetch(post, [&](absl::StatusOr<Response> r) { got.push_back(r); });
    client.Fetch(Get("/missing"), [&](absl::StatusOr<Response> r) { got.push_back(r); });
    REQUIRE(RunUntil(loop.get(), [&] { return got.size() == 3; }));
    REQUIRE(got[0].ok());
    CHECK(got[0]->status == 200);
    const auto who = nlohmann::json::parse(got[0]->body);
    CHECK(who["via"] == "unix");
    CHECK(who["remote"] == "unix:");
    CHECK(who["host"] == "localhost");  // the default host of a unix_socket client
    REQUIRE(got[1].ok());
    CHECK(nlohmann::json::parse(got[1]->body) ==
          nlohmann::json{{"got", {{"n", 1}, {"s", "over a unix socket"}}}});
    REQUIRE(got[2].ok());
    CHECK(got[2]->status == 404);
    CHECK((*server)->stats().accepted == 1);  // all three on one connection
    CHECK((*server)->stats().http.requests == 3);
    CHECK(client.connected());

    // The same routes over TCP say "tcp": a handler can tell the two apart.
    auto tcp = ListenOn(loop.get(), "127.0.0.1:0", &routes);
    REQUIRE(tcp.ok());
    UvClient tcp_client(loop.get(), {.host = "127.0.0.1", .port = (*tcp)->port()});
    std::optional<absl::StatusOr<Response>> over_tcp;
    tcp_client.Fetch(Get("/who"), [&](absl::StatusOr<Response> r) { over_tcp = r; });
    REQUIRE(RunUntil(loop.get(), [&] { return over_tcp.has_value(); }));
    REQUIRE(over_tcp->ok());
    const auto tcp_who = nlohmann::json::parse((*over_tcp)->body);
    CHECK(tcp_who["via"] == "tcp");
    CHECK(tcp_who["remote"].get<std::string>().starts_with("127.0.0.1:"));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv unix: the Host field follows `host`; an Upgrade works over the socket") {
  UvLoop loop;
  TempDir dir;
  const std::string path = dir.path() + "/s";
  {
    Routes routes;
    auto server = ListenOn(loop.get(), "unix:" + path, &routes);
    REQUIRE(server.ok());
    UvClient client(loop.get(), {.host = "control.example", .unix_socket = path});
    std::optional<absl::StatusOr<Response>> got;
    client.Fetch(Get("/who"), [&](absl::StatusOr<Response> r) { got = r; });
    REQUIRE(RunUntil(loop.get(), [&] { return got.has_value(); }));
    REQUIRE(got->ok());
    CHECK(nlohmann::json::parse((*got)->body)["host"] == "control.example");

    UpgradeClient up;
    Request r = Get("/upgrade");
    r.headers.Add("Upgrade", "echo");
    r.headers.Add("Connection", "Upgrade");
    client.Send(r, &up);
    REQUIRE(RunUntil(loop.get(), [&] { return up.received == "ping over the unix socket"; }));
    CHECK(up.status == 101);
    CHECK(up.error.empty());
    up.stream.Close();
    REQUIRE(RunUntil(loop.get(), [&] { return routes.echo.closed; }));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv unix: the socket is created 0600 even under umask 0, and the umask is restored") {
  UvLoop loop;
  TempDir dir;
  const std::string path = dir.path() + "/server.sock";
  {
    Routes routes;
    const mode_t before = umask(0);  // the most open umask: bind alone would make it 0777
    auto server = ListenOn(loop.get(), "unix:" + path, &routes);
    const mode_t during = umask(before);
    CHECK(during == 0);  // Listen put the caller's umask back
    REQUIRE(server.ok());
    struct stat st {};
    REQUIRE(lstat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == geteuid());
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv unix: a stale socket file is replaced") {
  UvLoop loop;
  TempDir dir;
  const std::string path = dir.path() + "/server.sock";
  MakeStaleSocket(path);
  {
    Routes routes;
    auto server = ListenOn(loop.get(), "unix:" + path, &routes);
    REQUIRE(server.ok());
    auto got = FetchOnce(loop.get(), path, "/who");
    REQUIRE(got.ok());
    CHECK(got->status == 200);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv unix: a live server's socket is refused and left working") {
  UvLoop loop;
  TempDir dir;
  const std::string path = dir.path() + "/server.sock";
  {
    Routes routes;
    auto first = ListenOn(loop.get(), "unix:" + path, &routes);
    REQUIRE(first.ok());
    auto second = ListenOn(loop.get(), "unix:" + path, &routes);
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == absl::StatusCode::kAlreadyExists);
    CHECK(std::string(second.status().message()).find("another server is listening") !=
          std::string::npos);
    // The refused server removed nothing: the first still answers on the same file.
    REQUIRE(Exists(path));
    auto got = FetchOnce(loop.get(), path, "/who");
    REQUIRE(got.ok());
    CHECK(got->status == 200);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv unix: a path that is not a socket is refused and left alone") {
  UvLoop loop;
  TempDir dir;
  {
    Routes routes;
    const std::string file = dir.Write("state.db", "precious");
    auto on_file = ListenOn(loop.get(), "unix:" + file, &routes);
    REQUIRE_FALSE(on_file.ok());
    CHECK(on_file.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(on_file.status().message()).find("not a socket") != std::string::npos);
    std::ifstream in(file);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == "precious");

    auto on_dir = ListenOn(loop.get(), "unix:" + dir.path(), &routes);
    REQUIRE_FALSE(on_dir.ok());
    CHECK(on_dir.status().code() == absl::StatusCode::kFailedPrecondition);

    // A symlink to a socket is not a socket either (lstat): not followed, not removed.
    const std::string target = dir.path() + "/real.sock";
    MakeStaleSocket(target);
    const std::string link = dir.path() + "/link.sock";
    REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
    auto on_link = ListenOn(loop.get(), "unix:" + link, &routes);
    REQUIRE_FALSE(on_link.ok());
    CHECK(on_link.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(Exists(target));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv unix: bad listen values and TLS are refused") {
  UvLoop loop;
  TempDir dir;
  {
    Routes routes;
    auto empty = ListenOn(loop.get(), "unix:", &routes);
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.status().code() == absl::StatusCode::kInvalidArgument);

    auto long_path =
        ListenOn(loop.get(), "unix:" + dir.path() + "/" + std::string(120, 'x'), &routes);
    REQUIRE_FALSE(long_path.ok());
    CHECK(long_path.status().code() == absl::StatusCode::kInvalidArgument);

    auto cert = MakeSelfSignedCertificate({"localhost"});
    REQUIRE(cert.ok());
    TlsServerOptions so;
    so.pem = *cert;
    auto tls = TlsContext::NewServer(so);
    REQUIRE(tls.ok());
    UvServerOptions options;
    options.listen = "unix:" + dir.path() + "/tls.sock";
    options.tls = *tls;
    auto with_tls = UvServer::Listen(loop.get(), options, &routes.router);
    REQUIRE_FALSE(with_tls.ok());
    CHECK(with_tls.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_FALSE(Exists(dir.path() + "/tls.sock"));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv unix: the socket file is removed when the server is destroyed or shut down") {
  UvLoop loop;
  TempDir dir;
  const std::string path = dir.path() + "/server.sock";
  {
    Routes routes;
    auto server = ListenOn(loop.get(), "unix:" + path, &routes);
    REQUIRE(server.ok());
    CHECK(Exists(path));
    server->reset();
    CHECK_FALSE(Exists(path));

    auto again = ListenOn(loop.get(), "unix:" + path, &routes);
    REQUIRE(again.ok());
    bool done = false;
    (*again)->Shutdown(std::chrono::seconds(1), [&] { done = true; });
    REQUIRE(RunUntil(loop.get(), [&] { return done; }));
    CHECK_FALSE(Exists(path));  // not listening: no stale file left for the next server
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv unix: a client of a missing socket hears an error; one destroyed mid-connect") {
  UvLoop loop;
  TempDir dir;
  {
    auto got = FetchOnce(loop.get(), dir.path() + "/nobody.sock", "/who");
    REQUIRE_FALSE(got.ok());
    CHECK(std::string(got.status().message()).find("unix:") != std::string::npos);

    Routes routes;
    const std::string path = dir.path() + "/server.sock";
    auto server = ListenOn(loop.get(), "unix:" + path, &routes);
    REQUIRE(server.ok());
    std::optional<absl::StatusOr<Response>> cancelled;
    {
      UvClient client(loop.get(), {.unix_socket = path});
      client.Fetch(Get("/who"), [&](absl::StatusOr<Response> r) { cancelled = r; });
    }  // gone before the connect completes: the connect's callback closes the socket
    REQUIRE(cancelled.has_value());
    CHECK(cancelled->status().code() == absl::StatusCode::kCancelled);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("uv unix: curl --unix-socket talks to the server") {
  if (access("/usr/bin/curl", X_OK) != 0) {
    WARN("curl is not installed: skipped");
    return;
  }
  UvLoop loop;
  TempDir dir;
  const std::string path = dir.path() + "/server.sock";
  {
    Routes routes;
    auto server = ListenOn(loop.get(), "unix:" + path, &routes);
    REQUIRE(server.ok());
    std::atomic<bool> done{false};
    std::string output;
    std::thread curl([&] {
      const std::string socket = " --max-time 5 --unix-socket '" + path + "'";
      const std::string command = "/usr/bin/curl -sS" + socket +
                                  " -w ' %{http_code}\\n' http://localhost/who --next" + socket +
                                  " -w ' %{http_code}\\n' -H 'Content-Type: application/json'" +
                                  " -d '{\"k\":2}' http://localhost/api/echo 2>&1";
      if (FILE* f = popen(command.c_str(), "r"); f != nullptr) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) output.append(buf, n);
        pclose(f);
      }
      done = true;
    });
    const bool finished = RunUntil(
        loop.get(), [&] { return done.load(); }, std::chrono::milliseconds(10000));
    curl.join();
    REQUIRE(finished);
    INFO(output);
    CHECK(output.find(R"("via":"unix")") != std::string::npos);
    CHECK(output.find(R"({"got":{"k":2}} 200)") != std::string::npos);
    CHECK((*server)->stats().http.requests == 2);
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::http
