// http_bench_server: the http library's UvServer answering `GET /` with a fixed 13-byte body
// ("Hello, world\n"), plain or TLS, for bench/http/run.sh to measure against nginx.
//
//   http_bench_server [--listen ADDR:PORT] [--tls [--cert FILE --key FILE]]
//                     [--timeout SECONDS] [--max-connections N]
//
// Prints "listening on ADDR:PORT" once bound. `GET /stats` answers, and SIGUSR1 prints to stdout,
// one line: "rss_kb=N connections=N accepted=N requests=N". SIGINT/SIGTERM shut it down.
// --timeout sets the header, idle and body timeouts (the idle-connection measurement holds
// handshaken connections that never send a request longer than the 10 s default allows).
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/http/router.h"
#include "meshvpn/http/self_signed.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/uv_server.h"

namespace {

using meshvpn::UvLoop;
using namespace meshvpn::http;  // NOLINT: a bench driver of one library

constexpr std::string_view kBody = "Hello, world\n";
static_assert(kBody.size() == 13);

// VmRSS of this process, in KiB (0 if /proc is unreadable).
long RssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

struct Options {
  std::string listen = "127.0.0.1:8080";
  bool tls = false;
  std::string cert_file;
  std::string key_file;
  int timeout_s = 0;  // 0: the library's defaults
  size_t max_connections = 20000;
};

[[noreturn]] void Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--listen ADDR:PORT] [--tls [--cert FILE --key FILE]] "
               "[--timeout SECONDS] [--max-connections N]\n",
               argv0);
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(argv[0]);
      return argv[++i];
    };
    if (arg == "--listen") {
      o.listen = value();
    } else if (arg == "--tls") {
      o.tls = true;
    } else if (arg == "--cert") {
      o.cert_file = value();
    } else if (arg == "--key") {
      o.key_file = value();
    } else if (arg == "--timeout") {
      o.timeout_s = std::atoi(value().c_str());
    } else if (arg == "--max-connections") {
      o.max_connections = std::strtoul(value().c_str(), nullptr, 10);
    } else {
      Usage(argv[0]);
    }
  }
  if (o.cert_file.empty() != o.key_file.empty()) Usage(argv[0]);
  return o;
}

class BenchServer {
 public:
  std::string StatsLine() const {
    const size_t connections = server_ ? server_->connection_count() : 0;
    const UvServerStats empty;
    const UvServerStats& s = server_ ? server_->stats() : empty;
    return absl::StrFormat("rss_kb=%d connections=%d accepted=%d requests=%d", RssKb(), connections,
                           s.accepted, s.http.requests);
  }

  int Run(const Options& options) {
    router_.Exact("GET", "/", [](Request&, ResponseWriter w) {
      w.Send(Response::Text(kStatusOk, std::string(kBody), "text/plain"));
    });
    router_.Exact("GET", "/stats", [this](Request&, ResponseWriter w) {
      w.Send(Response::Text(kStatusOk, StatsLine() + "\n", "text/plain"));
    });

    UvServerOptions server_options;
    server_options.listen = options.listen;
    server_options.max_connections = options.max_connections;
    server_options.backlog = 4096;
    if (options.timeout_s > 0) {
      const std::chrono::seconds t(options.timeout_s);
      server_options.limits.header_timeout = t;
      server_options.limits.idle_timeout = t;
      server_options.limits.body_timeout = t;
    }
    if (options.tls) {
      TlsServerOptions tls;
      if (!options.cert_file.empty()) {
        tls.cert_file = options.cert_file;
        tls.key_file = options.key_file;
      } else {
        auto cert = MakeSelfSignedCertificate({"localhost", "127.0.0.1"});
        if (!cert.ok()) return Fail("certificate", cert.status());
        tls.pem = *std::move(cert);
      }
      auto context = TlsContext::NewServer(tls);
      if (!context.ok()) return Fail("TLS context", context.status());
      server_options.tls = *std::move(context);
    }
    auto server = UvServer::Listen(loop_.get(), server_options, &router_);
    if (!server.ok()) return Fail("listen", server.status());
    server_ = *std::move(server);
    std::printf("listening on %s%s\n", server_->local_address().c_str(),
                options.tls ? " (tls)" : "");
    std::fflush(stdout);

    uv_signal_init(loop_.get(), &usr1_);
    usr1_.data = this;
    uv_signal_start(
        &usr1_,
        [](uv_signal_t* s, int) {
          auto* self = static_cast<BenchServer*>(s->data);
          std::printf("%s\n", self->StatsLine().c_str());
          std::fflush(stdout);
        },
        SIGUSR1);
    for (uv_signal_t* sig : {&int_, &term_}) {
      uv_signal_init(loop_.get(), sig);
      sig->data = this;
    }
    auto stop = [](uv_signal_t* s, int) { static_cast<BenchServer*>(s->data)->Stop(); };
    uv_signal_start(&int_, stop, SIGINT);
    uv_signal_start(&term_, stop, SIGTERM);

    loop_.Run();
    server_.reset();
    return loop_.Close() == 0 ? 0 : 1;
  }

 private:
  int Fail(const char* what, const absl::Status& status) {
    std::fprintf(stderr, "http_bench_server: %s: %s\n", what,
                 std::string(status.message()).c_str());
    return 1;
  }

  void Stop() {
    for (uv_signal_t* sig : {&usr1_, &int_, &term_}) {
      uv_close(reinterpret_cast<uv_handle_t*>(sig), nullptr);
    }
    server_.reset();  // closes the listener and every connection; the loop then ends
  }

  UvLoop loop_;
  Router router_;
  std::unique_ptr<UvServer> server_;
  uv_signal_t usr1_{};
  uv_signal_t int_{};
  uv_signal_t term_{};
};

}  // namespace

int main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv);
  BenchServer server;
  return server.Run(options);
}
