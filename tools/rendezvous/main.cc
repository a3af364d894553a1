// rendezvous: the server two hole_punch peers meet at - each registers its name, key and
// candidate addresses, and when two peers want each other both learn the other's at once.
#include <csignal>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/stderr_log_sink.h"
#include "common/tool_init.h"
#include "common/tool_metrics.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/holepunch/rendezvous_metrics.h"
#include "meshvpn/holepunch/rendezvous_server.h"
#include "meshvpn/holepunch/uv_runner.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:9000",
          "address and UDP port to listen on, e.g. \"203.0.113.20:9000\" or \"[::]:9000\"");
ABSL_FLAG(std::string, metrics_listen, "", meshvpn::tools::kMetricsListenHelp);
ABSL_FLAG(absl::Duration, lease, absl::Seconds(10),
          "a registration is forgotten this long after the peer's last Register");
ABSL_FLAG(int32_t, max_peers, 4096, "registrations held at most");
ABSL_FLAG(bool, quiet, false, "print only pairings, rejections and the statistics");
ABSL_FLAG(bool, verbose, false, "log socket setup to stderr");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage = R"(the rendezvous server of UDP hole punching.

Two peers behind NATs cannot just send to each other: neither knows the other's
public address, and each NAT drops packets nobody inside asked for. Both first talk
to this server (over UDP, from the very socket they will punch with):
  1. each sends "Register": its name, the peer it wants, its public key, and its
     candidate addresses (its own LAN addresses and what a STUN server saw);
  2. the server answers with where it saw the Register come from (the peer's public
     address:port as the NAT mapped it: one more candidate);
  3. as soon as two peers want each other, the server sends each the other's key and
     candidates AT THE SAME MOMENT, so both start punching together (hole_punch).
The server relays no traffic: after step 3 the peers talk directly, or fall back to a
relay. A name belongs to the key that registered it until its lease runs out.

Examples:
  rendezvous                                   UDP port 9000 on every IPv4 address
  rendezvous --listen 203.0.113.20:9000        (the natlab "rendezvous" host)
then, on two hosts:
  hole_punch --rendezvous 203.0.113.20:9000 --name alice --peer bob
  hole_punch --rendezvous 203.0.113.20:9000 --name bob --peer alice

Output: one line per registration, pairing, refusal and expiry. Ctrl-C or SIGTERM
stops it and prints the counters; with --metrics-listen 127.0.0.1:9100 Prometheus reads
them at http://127.0.0.1:9100/metrics (meshvpn_holepunch_registers_total, ...).

Flags:)";

struct App final : holepunch::UvRunner::Listener {
  holepunch::RendezvousServer* server = nullptr;
  uv_loop_t* loop = nullptr;
  bool quiet = false;
  UvSignal sigint;
  UvSignal sigterm;

  static void OnSignal(uv_signal_t* handle, int) {
    if (handle->data != nullptr) uv_stop(static_cast<App*>(handle->data)->loop);
  }

  void OnProgress() override {
    using Type = holepunch::ServerEvent::Type;
    while (auto e = server->NextEvent()) {
      switch (e->type) {
        case Type::kRegistered:
          if (quiet || e->refresh) break;
          std::printf("[Register] %s from %s (%zu candidates), wants '%s'\n", e->name.c_str(),
                      e->from.ToString().c_str(), e->candidates, e->peer.c_str());
          break;
        case Type::kPaired:
          std::printf("[Pair] %s <-> %s: sent each the other's key and candidates\n",
                      e->name.c_str(), e->peer.c_str());
          break;
        case Type::kRejected:
          std::printf("[Reject] %s (wants '%s') from %s: %s\n", e->name.c_str(), e->peer.c_str(),
                      e->from.ToString().c_str(),
                      std::string(holepunch::ToString(e->code)).c_str());
          break;
        case Type::kExpired:
          if (!quiet) std::printf("[Expire] %s (lease over)\n", e->name.c_str());
          break;
      }
    }
    std::fflush(stdout);
  }
};

int Main(int argc, char** argv) {
  InitTool(argc, argv, kUsage);
  StderrLogSink sink;
  auto listen = udp::Endpoint::Parse(absl::GetFlag(FLAGS_listen));
  if (!listen.ok()) {
    std::fprintf(stderr, "rendezvous: --listen: %s\n", listen.status().ToString().c_str());
    return 2;
  }
  const absl::Duration lease = absl::GetFlag(FLAGS_lease);
  if (lease <= absl::ZeroDuration() || lease > absl::Hours(18) ||
      absl::GetFlag(FLAGS_max_peers) < 1) {
    std::fprintf(stderr, "rendezvous: --lease must be in (0, 18h], --max-peers at least 1\n");
    return 2;
  }
  holepunch::RendezvousServerOptions so;
  so.lease = absl::ToChronoNanoseconds(lease);
  so.max_peers = static_cast<size_t>(absl::GetFlag(FLAGS_max_peers));

  UvLoop loop;
  {
    holepunch::UvRunnerOptions ro;
    ro.bind = *listen;
    ro.pool_buffers = 256;
    if (absl::GetFlag(FLAGS_verbose)) ro.logger = Logger(&sink, "udp");
    auto runner = holepunch::UvRunner::Create(loop.get(), ro);
    if (!runner.ok()) {
      std::fprintf(stderr, "rendezvous: %s\n", runner.status().ToString().c_str());
      return 1;
    }
    holepunch::RendezvousServer server(so);
    App app;
    app.server = &server;
    app.loop = loop.get();
    app.quiet = absl::GetFlag(FLAGS_quiet);
    app.sigint = *UvSignal::Create(loop.get(), uv_signal_init);
    app.sigterm = *UvSignal::Create(loop.get(), uv_signal_init);
    app.sigint.set_owner(&app);
    app.sigterm.set_owner(&app);
    uv_signal_start(app.sigint.get(), &App::OnSignal, SIGINT);
    uv_signal_start(app.sigterm.get(), &App::OnSignal, SIGTERM);
    std::printf("Rendezvous server listening on %s (UDP)\n",
                (*runner)->local_endpoint().ToString().c_str());
    holepunch::RendezvousMetrics server_metrics(&server);
    std::unique_ptr<ToolMetrics> metrics;
    if (const std::string address = absl::GetFlag(FLAGS_metrics_listen); !address.empty()) {
      auto started = ToolMetrics::Start(loop.get(), address, &sink, {&server_metrics});
      if (!started.ok()) {
        std::fprintf(stderr, "rendezvous: --metrics-listen: %s\n",
                     started.status().ToString().c_str());
        return 1;
      }
      metrics = std::move(*started);
      std::printf("Metrics: %s\n", metrics->url().c_str());
    }
    std::fflush(stdout);
    if (auto st = (*runner)->Start(&server, &app); !st.ok()) {
      std::fprintf(stderr, "rendezvous: %s\n", st.ToString().c_str());
      return 1;
    }
    loop.Run();
    (*runner)->Stop();
    metrics.reset();

    const holepunch::RendezvousStats& s = server.stats();
    std::printf("Statistics:\n");
    std::printf("  Registers: %llu\n", static_cast<unsigned long long>(s.registers));
    std::printf("  Pairs: %llu\n", static_cast<unsigned long long>(s.pairs));
    std::printf("  Peer infos sent: %llu\n", static_cast<unsigned long long>(s.peer_infos));
    std::printf("  Refused: %llu\n", static_cast<unsigned long long>(s.errors));
    std::printf("  Expired: %llu\n", static_cast<unsigned long long>(s.expired));
    for (size_t i = 1; i < s.drops.size(); ++i) {
      std::printf("  Dropped (%s): %llu\n",
                  std::string(holepunch::ToString(static_cast<holepunch::ServerDrop>(i))).c_str(),
                  static_cast<unsigned long long>(s.drops[i]));
    }
    std::fflush(stdout);
  }
  loop.Close();
  return 0;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
