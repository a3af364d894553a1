// http_test_server: the http library's UvServer with a handful of routes, for end-to-end tests
// against real outside peers (curl, nginx as a reverse proxy). Not a tool: test scaffolding.
//
//   http_test_server [--listen ADDR:PORT] [--tls --cert-out FILE] [--header-timeout-ms N]
//                    [--max-body N] [--max-header-bytes N] [--max-connections N]
//
// stdout, line by line and flushed: "listening on 127.0.0.1:NNNNN" first, then with --tls
// "pin sha256//<base64>" (the certificate's SPKI pin, as curl's --pinnedpubkey takes it) and,
// at exit, "stats {...}". The certificate (never its key) goes to --cert-out, so a client can
// trust it with --cacert. Log lines go to stderr.
//
// Routes:
//   GET  /hello            a short text body
//   POST /echo             the request body back (X-Received-Framing: chunked|length|none)
//   GET  /json             a JSON object
//   GET  /stream?n=K       K server-sent events ("data: i\n\n"), one from a uv timer every 10 ms
//   GET  /big?bytes=N      N bytes (byte i is i % 251), Content-Length framed; with &stream=1
//                          chunked, written in 64 KiB pieces as the peer reads
//   GET  /upgrade          with "Upgrade: echo": 101, then every byte is echoed back
//   GET  /stats            UvServerStats as one flat JSON object
// SIGTERM / SIGINT: UvServer::Shutdown(2 s) (streams end early with "event: shutdown"), exit 0.
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/http/json.h"
#include "meshvpn/http/router.h"
#include "meshvpn/http/self_signed.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/uv_server.h"

namespace meshvpn::http {
namespace {

using std::chrono::milliseconds;

constexpr size_t kPatternPeriod = 251;  // /big: byte i is i % 251
constexpr uint64_t kMaxWholeBig = 256ull << 20;
constexpr size_t kBigPiece = 64 * 1024;

class StderrSink final : public LogSink {
 public:
  void Write(LogLevel level, std::string_view component, std::string_view message) override {
    std::fprintf(stderr, "[%s] %.*s: %.*s\n", std::string(ToString(level)).c_str(),
                 static_cast<int>(component.size()), component.data(),
                 static_cast<int>(message.size()), message.data());
  }
};

struct Flags {
  std::string listen = "127.0.0.1:0";
  bool tls = false;
  std::string cert_out;
  int64_t header_timeout_ms = -1;
  int64_t max_body = -1;
  int64_t max_header_bytes = -1;
  int64_t max_connections = -1;
};

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr,
               "http_test_server: %s\n"
               "usage: http_test_server [--listen ADDR:PORT] [--tls --cert-out FILE]\n"
               "       [--header-timeout-ms N] [--max-body N] [--max-header-bytes N]\n"
               "       [--max-connections N]\n",
               message);
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto take = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) Usage(("missing value for " + arg).c_str());
      return argv[++i];
    };
    auto number = [&]() -> int64_t {
      int64_t n = 0;
      const std::string text = take();
      if (!absl::SimpleAtoi(text, &n) || n < 0) Usage(("bad number for " + arg).c_str());
      return n;
    };
    if (arg == "--listen") {
      flags.listen = take();
    } else if (arg == "--tls") {
      flags.tls = true;
    } else if (arg == "--cert-out") {
      flags.cert_out = take();
    } else if (arg == "--header-timeout-ms") {
      flags.header_timeout_ms = number();
    } else if (arg == "--max-body") {
      flags.max_body = number();
    } else if (arg == "--max-header-bytes") {
      flags.max_header_bytes = number();
    } else if (arg == "--max-connections") {
      flags.max_connections = number();
    } else if (arg == "-h" || arg == "--help") {
      Usage("help");
    } else {
      Usage(("unknown argument " + arg).c_str());
    }
  }
  if (!flags.cert_out.empty() && !flags.tls) Usage("--cert-out needs --tls");
  return flags;
}

// Bytes [offset, offset + n) of the /big pattern.
std::string Pattern(uint64_t offset, size_t n) {
  std::string out(n, '\0');
  size_t v = offset % kPatternPeriod;
  for (size_t i = 0; i < n; ++i) {
    out[i] = static_cast<char>(v);
    if (++v == kPatternPeriod) v = 0;
  }
  return out;
}

// Something the App owns while a response or stream outlives its request handler.
class Task {
 public:
  virtual ~Task() = default;
  virtual bool done() const = 0;
  // The server is shutting down.
  virtual void Stop() {}
};

// /stream?n=K: K events written from a uv timer, 10 ms apart.
class Ticker final : public Task, public StreamObserver {
 public:
  Ticker(uv_loop_t* loop, ResponseWriter writer, int count)
      : writer_(std::move(writer)), total_(count) {
    timer_ = *UvTimer::Create(loop, uv_timer_init);
    timer_.set_owner(this);
    writer_.set_observer(this);
    writer_.StartStream(kStatusOk,
                        {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}});
    if (total_ <= 0) {
      Finish();
      return;
    }
    uv_timer_start(timer_.get(), &Ticker::OnTick, 10, 10);
  }
  bool done() const override { return finished_; }
  void Stop() override { OnShutdown(); }
  void OnShutdown() override {
    if (finished_) return;
    writer_.Write("event: shutdown\ndata: " + std::to_string(sent_) + "\n\n");
    Finish();
  }
  void OnClosed() override { Finish(); }

 private:
  static void OnTick(uv_timer_t* t) { static_cast<Ticker*>(t->data)->Tick(); }
  void Tick() {
    if (finished_) return;
    // A refused write (the peer is not reading) is tried again at the next tick.
    if (!writer_.Write("data: " + std::to_string(sent_ + 1) + "\n\n")) return;
    if (++sent_ == total_) Finish();
  }
  void Finish() {
    if (finished_) return;
    finished_ = true;
    if (timer_) uv_timer_stop(timer_.get());
    if (writer_.open()) writer_.End();
  }
  UvTimer timer_;
  ResponseWriter writer_;
  int total_;
  int sent_ = 0;
  bool finished_ = false;
};

// /big?bytes=N&stream=1: the pattern in 64 KiB chunks, as fast as the peer takes them.
class BigStream final : public Task, public StreamObserver {
 public:
  BigStream(ResponseWriter writer, uint64_t bytes) : writer_(std::move(writer)), total_(bytes) {
    writer_.set_observer(this);
    writer_.StartStream(kStatusOk, {{"Content-Type", "application/octet-stream"}});
    Pump();
  }
  bool done() const override { return finished_; }
  void OnWritable() override { Pump(); }
  void OnShutdown() override {}  // finish within the grace period, or be cut off
  void OnClosed() override { finished_ = true; }

 private:
  void Pump() {
    while (!finished_ && sent_ < total_) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kBigPiece, total_ - sent_));
      if (!writer_.Write(Pattern(sent_, n))) return;  // OnWritable comes back
      sent_ += n;
    }
    if (!finished_) {
      finished_ = true;
      writer_.End();
    }
  }
  ResponseWriter writer_;
  uint64_t total_;
  uint64_t sent_ = 0;
  bool finished_ = false;
};

// /upgrade: every byte of the raw stream back; what the stream refuses waits in `pending_`.
class EchoStream final : public Task, public StreamHandler {
 public:
  explicit EchoStream(ResponseWriter writer) {
    std::string early;
    stream_ = writer.AcceptUpgrade({{"Upgrade", "echo"}}, this, &early);
    if (!stream_.alive()) {
      closed_ = true;
      return;
    }
    if (!early.empty()) Echo(early);
  }
  bool done() const override { return closed_; }
  void Stop() override {
    stream_.Close();
    closed_ = true;
  }
  void OnStreamData(ByteSpan data) override {
    Echo(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  }
  void OnStreamWritable() override { Flush(); }
  void OnStreamClosed() override { closed_ = true; }

 private:
  void Echo(std::string_view bytes) {
    pending_.append(bytes);
    Flush();
  }
  void Flush() {
    while (!pending_.empty()) {
      const size_t n = std::min(pending_.size(), kBigPiece);
      if (!stream_.Write(AsBytes(std::string_view(pending_).substr(0, n)))) return;
      pending_.erase(0, n);
    }
  }
  UpgradedStream stream_;
  std::string pending_;
  bool closed_ = false;
};

class App {
 public:
  App(uv_loop_t* loop, const Flags& flags) : loop_(loop), flags_(flags) {}

  int Run() {
    UvServerOptions options;
    options.listen = flags_.listen;
    options.log = &sink_;
    if (flags_.header_timeout_ms >= 0) {
      options.limits.header_timeout = milliseconds(flags_.header_timeout_ms);
    }
    if (flags_.max_body >= 0) {
      options.limits.parser.max_body_bytes = static_cast<size_t>(flags_.max_body);
    }
    if (flags_.max_header_bytes >= 0) {
      options.limits.parser.max_header_bytes = static_cast<size_t>(flags_.max_header_bytes);
    }
    if (flags_.max_connections >= 0) {
      options.max_connections = static_cast<size_t>(flags_.max_connections);
    }
    std::string pin;
    if (flags_.tls) {
      auto cert = MakeSelfSignedCertificate({"localhost", "127.0.0.1"});
      if (!cert.ok()) return Fail("self-signed certificate", cert.status());
      auto spki = SpkiPinOfCertificate(cert->cert_pem);
      if (!spki.ok()) return Fail("pin", spki.status());
      pin = FormatSpkiPin(*spki);
      if (!flags_.cert_out.empty()) {
        std::ofstream out(flags_.cert_out, std::ios::binary | std::ios::trunc);
        out << cert->cert_pem;  // the certificate only: the key stays in memory
        out.close();
        if (!out) {
          std::fprintf(stderr, "http_test_server: cannot write %s\n", flags_.cert_out.c_str());
          return 1;
        }
      }
      TlsServerOptions tls;
      tls.pem = std::move(*cert);
      auto context = TlsContext::NewServer(tls);
      if (!context.ok()) return Fail("TLS context", context.status());
      options.tls = *context;
    }
    SetUpRoutes();
    auto server = UvServer::Listen(loop_, options, &router_);
    if (!server.ok()) return Fail("listen", server.status());
    server_ = std::move(*server);
    std::printf("listening on %s\n", server_->local_address().c_str());
    if (!pin.empty()) std::printf("pin %s\n", pin.c_str());
    std::fflush(stdout);

    for (auto [signum, handle] : {std::pair{SIGINT, &sigint_}, std::pair{SIGTERM, &sigterm_}}) {
      *handle = *UvSignal::Create(loop_, uv_signal_init);
      handle->set_owner(this);
      uv_signal_start(handle->get(), &App::OnSignal, signum);
    }
    uv_run(loop_, UV_RUN_DEFAULT);

    std::printf("stats %s\n", StatsJson().dump().c_str());
    std::fflush(stdout);
    tasks_.clear();
    server_.reset();
    return 0;
  }

 private:
  static int Fail(const char* what, const absl::Status& status) {
    std::fprintf(stderr, "http_test_server: %s: %s\n", what, status.ToString().c_str());
    return 1;
  }

  void SetUpRoutes() {
    router_.Exact("GET", "/hello", [this](Request&, ResponseWriter w) {
      Sweep();
      w.Send(Response::Text(kStatusOk, "hello from meshvpn\n"));
    });
    router_.Exact("POST", "/echo", [this](Request& r, ResponseWriter w) {
      Sweep();
      Response response;
      response.body = std::move(r.body);
      response.headers.Add(
          "Content-Type",
          std::string(r.headers.Get("Content-Type").value_or("application/octet-stream")));
      const char* framing = r.headers.HasToken("Transfer-Encoding", "chunked") ? "chunked"
                            : r.headers.Has("Content-Length")                  ? "length"
                                                                               : "none";
      response.headers.Add("X-Received-Framing", framing);
      w.Send(std::move(response));
    });
    router_.Exact("GET", "/json", [this](Request&, ResponseWriter w) {
      Sweep();
      w.Send(JsonResponse(kStatusOk, {{"hello", "world"},
                                      {"n", 42},
                                      {"list", {1, 2, 3}},
                                      {"nested", {{"ok", true}, {"text", "h\u00e9llo"}}}}));
    });
    router_.Exact("GET", "/stream", [this](Request& r, ResponseWriter w) {
      Sweep();
      int n = 5;
      if (auto q = r.QueryParam("n"); q && (!absl::SimpleAtoi(*q, &n) || n < 0 || n > 100000)) {
        w.Send(Response::Text(kStatusBadRequest, "bad n\n"));
        return;
      }
      tasks_.push_back(std::make_unique<Ticker>(loop_, std::move(w), n));
    });
    router_.Exact("GET", "/big", [this](Request& r, ResponseWriter w) {
      Sweep();
      uint64_t bytes = 0;
      auto q = r.QueryParam("bytes");
      if (!q || !absl::SimpleAtoi(*q, &bytes)) {
        w.Send(Response::Text(kStatusBadRequest, "bytes=N needed\n"));
        return;
      }
      if (r.QueryParam("stream").value_or("0") == "1") {
        tasks_.push_back(std::make_unique<BigStream>(std::move(w), bytes));
        return;
      }
      if (bytes > kMaxWholeBig) {
        w.Send(Response::Text(kStatusBadRequest, "too big without stream=1\n"));
        return;
      }
      Response response;
      response.headers.Add("Content-Type", "application/octet-stream");
      response.body = Pattern(0, static_cast<size_t>(bytes));
      w.Send(std::move(response));
    });
    router_.Exact("GET", "/upgrade", [this](Request& r, ResponseWriter w) {
      Sweep();
      if (!r.upgrade || !r.headers.HasToken("Upgrade", "echo")) {
        Response response = Response::Text(426, "send Upgrade: echo\n");
        response.headers.Add("Upgrade", "echo");
        w.Send(std::move(response));
        return;
      }
      tasks_.push_back(std::make_unique<EchoStream>(std::move(w)));
    });
    router_.Exact("GET", "/stats", [this](Request&, ResponseWriter w) {
      Sweep();
      w.Send(JsonResponse(kStatusOk, StatsJson()));
    });
  }

  nlohmann::json StatsJson() const {
    if (server_ == nullptr) return nlohmann::json::object();
    const UvServerStats& s = server_->stats();
    return {
        {"accepted", s.accepted},
        {"rejected_connections", s.rejected_connections},
        {"closed", s.closed},
        {"tls_failures", s.tls_failures},
        {"connections", server_->connection_count()},
        {"requests", s.http.requests},
        {"responses", s.http.responses},
        {"pipelined", s.http.pipelined},
        {"upgrades", s.http.upgrades},
        {"bad_requests", s.http.bad_requests},
        {"header_too_large", s.http.header_too_large},
        {"target_too_long", s.http.target_too_long},
        {"body_too_large", s.http.body_too_large},
        {"header_timeouts", s.http.header_timeouts},
        {"body_timeouts", s.http.body_timeouts},
        {"idle_timeouts", s.http.idle_timeouts},
        {"send_timeouts", s.http.send_timeouts},
        {"writes_refused", s.http.writes_refused},
        {"handler_dropped", s.http.handler_dropped},
        {"invalid_fields", s.http.invalid_fields},
    };
  }

  // Frees finished tasks (never from inside their own callbacks: only from route handlers).
  void Sweep() {
    tasks_.remove_if([](const std::unique_ptr<Task>& t) { return t->done(); });
  }

  static void OnSignal(uv_signal_t* handle, int signum) {
    static_cast<App*>(handle->data)->HandleSignal(signum);
  }
  void HandleSignal(int signum) {
    if (shutting_down_) {
      std::fprintf(stderr, "http_test_server: second signal %d: stopping now\n", signum);
      uv_stop(loop_);
      return;
    }
    shutting_down_ = true;
    std::fprintf(stderr, "http_test_server: signal %d: graceful shutdown (2 s)\n", signum);
    server_->Shutdown(std::chrono::seconds(2), [this] {
      std::fprintf(stderr, "http_test_server: every connection closed\n");
      sigint_ = UvSignal();
      sigterm_ = UvSignal();
      uv_stop(loop_);
    });
    for (auto& task : tasks_) task->Stop();
  }

  uv_loop_t* loop_;
  Flags flags_;
  StderrSink sink_;
  Router router_;
  std::unique_ptr<UvServer> server_;
  std::list<std::unique_ptr<Task>> tasks_;
  UvSignal sigint_;
  UvSignal sigterm_;
  bool shutting_down_ = false;
};

}  // namespace
}  // namespace meshvpn::http

int main(int argc, char** argv) {
  const meshvpn::http::Flags flags = meshvpn::http::ParseFlags(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  int rc = 0;
  meshvpn::UvLoop loop;
  {
    meshvpn::http::App app(loop.get(), flags);
    rc = app.Run();
  }
  if (loop.Close() != 0 && rc == 0) {
    std::fprintf(stderr, "http_test_server: a libuv handle was left open\n");
    rc = 1;
  }
  return rc;
}
