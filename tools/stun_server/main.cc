// stun_server: a STUN server (RFC 8489) that also supports RFC 5780 NAT behaviour discovery
// when given a second address and port.
#include <csignal>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/stderr_log_sink.h"
#include "common/tool_init.h"
#include "common/tool_metrics.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/stun/server_metrics.h"
#include "meshvpn/stun/uv_server.h"

ABSL_FLAG(std::string, listen, ":3478",
          "primary address and port A:P, e.g. \"192.0.2.1:3478\"; \":3478\" listens on every "
          "IPv4 and IPv6 address (then RFC 5780 mode is not possible)");
ABSL_FLAG(std::string, alt_address, "",
          "second IP address B of this host for RFC 5780 (needs --alt-port and a concrete "
          "--listen address)");
ABSL_FLAG(int32_t, alt_port, 0, "second port Q for RFC 5780 (needs --alt-address)");
ABSL_FLAG(std::string, metrics_listen, "", meshvpn::tools::kMetricsListenHelp);
ABSL_FLAG(std::string, software, "meshvpn stun_server",
          "SOFTWARE attribute in every answer (empty: none)");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage = R"(answer STUN Binding requests: tell each client its public address.

A client behind a NAT sends a Binding request; the answer carries the address and
port the request arrived from (XOR-MAPPED-ADDRESS), which is the NAT's public side.
Given a second IP address (--alt-address B) and port (--alt-port Q), the server
listens on all four combinations A:P, A:Q, B:P, B:Q and supports RFC 5780 NAT
behaviour discovery: it names its other address in OTHER-ADDRESS, says which socket
answered in RESPONSE-ORIGIN, and honours CHANGE-REQUEST (answer from the other
address and/or port), which is how stun_client tells filtering behaviours apart.

Examples:
  stun_server                                   port 3478 on every address
  stun_server --listen 192.0.2.1:3478 --alt-address 192.0.2.2 --alt-port 3479

It runs until Ctrl-C or SIGTERM, then prints its counters: requests, answers,
errors (400, 420), answers from a changed address, and dropped datagrams by reason.
With --metrics-listen 127.0.0.1:9100 the same counters are served to Prometheus at
http://127.0.0.1:9100/metrics (meshvpn_stun_requests_total, ...).

Flags:)";

struct App {
  UvSignal sigint;
  UvSignal sigterm;
  uv_loop_t* loop = nullptr;
  static void OnSignal(uv_signal_t* handle, int) {
    if (handle->data != nullptr) uv_stop(static_cast<App*>(handle->data)->loop);
  }
};

int Main(int argc, char** argv) {
  InitTool(argc, argv, kUsage);
  StderrLogSink sink;
  auto listen = udp::Endpoint::Parse(absl::GetFlag(FLAGS_listen));
  if (!listen.ok()) {
    std::fprintf(stderr, "stun_server: --listen: %s\n", listen.status().ToString().c_str());
    return 2;
  }
  stun::ServerConfig config;
  config.primary = *listen;
  config.software = absl::GetFlag(FLAGS_software);
  const std::string alt = absl::GetFlag(FLAGS_alt_address);
  const int alt_port = absl::GetFlag(FLAGS_alt_port);
  if (!alt.empty() || alt_port != 0) {
    if (alt.empty() || alt_port <= 0 || alt_port > 65535) {
      std::fprintf(stderr, "stun_server: --alt-address and --alt-port go together\n");
      return 2;
    }
    const std::string text = alt.find(':') != std::string::npos ? absl::StrFormat("[%s]:0", alt)
                                                                : absl::StrFormat("%s:0", alt);
    auto b = udp::Endpoint::Parse(text);
    if (!b.ok()) {
      std::fprintf(stderr, "stun_server: --alt-address: %s\n", b.status().ToString().c_str());
      return 2;
    }
    config.alternate = b->WithPort(static_cast<uint16_t>(alt_port));
  }
  auto server = stun::Server::Create(config);
  if (!server.ok()) {
    std::fprintf(stderr, "stun_server: %s\n", server.status().ToString().c_str());
    return 2;
  }

  UvLoop loop;
  int rc = 0;
  {
    auto uv_server =
        stun::UvStunServer::Start(loop.get(), std::move(*server), Logger(&sink, "stun_server"));
    if (!uv_server.ok()) {
      std::fprintf(stderr, "stun_server: %s\n", uv_server.status().ToString().c_str());
      return 1;
    }
    App app;
    app.loop = loop.get();
    app.sigint = *UvSignal::Create(loop.get(), uv_signal_init);
    app.sigterm = *UvSignal::Create(loop.get(), uv_signal_init);
    app.sigint.set_owner(&app);
    app.sigterm.set_owner(&app);
    uv_signal_start(app.sigint.get(), &App::OnSignal, SIGINT);
    uv_signal_start(app.sigterm.get(), &App::OnSignal, SIGTERM);
    for (int slot = 0; slot < (*uv_server)->core().slot_count(); ++slot) {
      std::printf("Listening: %s\n", (*uv_server)->local_endpoint(slot).ToString().c_str());
    }
    stun::ServerMetrics server_metrics(&(*uv_server)->core());
    std::unique_ptr<ToolMetrics> metrics;
    if (const std::string listen = absl::GetFlag(FLAGS_metrics_listen); !listen.empty()) {
      auto started = ToolMetrics::Start(loop.get(), listen, &sink, {&server_metrics});
      if (!started.ok()) {
        std::fprintf(stderr, "stun_server: --metrics-listen: %s\n",
                     started.status().ToString().c_str());
        return 1;
      }
      metrics = std::move(*started);
      std::printf("Metrics: %s\n", metrics->url().c_str());
    }
    std::fflush(stdout);
    loop.Run();

    const stun::ServerStats& s = (*uv_server)->core().stats();
    std::printf("Statistics:\n");
    std::printf("  Requests: %llu\n", static_cast<unsigned long long>(s.requests));
    std::printf("  Success responses: %llu\n",
                static_cast<unsigned long long>(s.success_responses));
    std::printf("  Error responses: %llu\n", static_cast<unsigned long long>(s.error_responses));
    std::printf("  Answered from a changed address: %llu\n",
                static_cast<unsigned long long>(s.changed_address));
    for (size_t i = 1; i < s.drops.size(); ++i) {
      std::printf("  Dropped (%s): %llu\n",
                  std::string(stun::ToString(static_cast<stun::ServerDrop>(i))).c_str(),
                  static_cast<unsigned long long>(s.drops[i]));
    }
    std::fflush(stdout);
    metrics.reset();
  }
  loop.Close();
  return rc;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
