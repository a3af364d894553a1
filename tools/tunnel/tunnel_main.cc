#include "tunnel_main.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/stderr_log_sink.h"
#include "common/tool_init.h"
#include "meshvpn/base/uv_loop.h"

ABSL_FLAG(std::string, mode, "", "server (waits for the client) or client (connects to --peer)");
ABSL_FLAG(std::string, listen, "",
          "UDP address to bind, e.g. :5000 (server default :5000; client default: any port)");
ABSL_FLAG(std::string, peer, "", "client: the server's UDP address, e.g. 192.168.1.10:5000");
ABSL_FLAG(std::string, tun, "", "TUN device name (default: the kernel picks tunN)");
ABSL_FLAG(std::string, address, "", "this end's tunnel address with prefix, e.g. 10.0.0.1/24");
ABSL_FLAG(std::string, address6, "", "optional IPv6 tunnel address, e.g. fd00:10::1/64");
ABSL_FLAG(int, mtu, 0, "TUN MTU (default: 1500 minus the encapsulation overhead)");
ABSL_FLAG(int, keepalive, 10, "seconds between keepalives to the peer (0: none)");
ABSL_FLAG(int, stats_interval, 0, "print the statistics every N seconds (0: only at exit)");

namespace meshvpn::tunnel {
namespace {

class TunnelApp final : public TunnelObserver {
 public:
  explicit TunnelApp(uv_loop_t* loop) : loop_(loop), started_(RealClock::Instance().Now()) {}

  absl::Status Run(TunnelConfig config, std::unique_ptr<PacketProtector> protector,
                   int stats_interval_seconds) {
    auto tunnel = PointToPointTunnel::Create(loop_, std::move(config), std::move(protector), this,
                                             &log_sink_);
    if (!tunnel.ok()) return tunnel.status();
    tunnel_ = std::move(*tunnel);
    if (absl::Status s = tunnel_->Start(); !s.ok()) return s;

    for (int signum : {SIGINT, SIGTERM, SIGUSR1}) {
      auto handle = UvSignal::Create(loop_, uv_signal_init);
      if (!handle.ok()) return handle.status();
      handle->set_owner(this);
      uv_signal_start(handle->get(), &TunnelApp::OnSignal, signum);
      signals_.push_back(std::move(*handle));
    }
    if (stats_interval_seconds > 0) {
      auto timer = UvTimer::Create(loop_, uv_timer_init);
      if (!timer.ok()) return timer.status();
      stats_timer_ = std::move(*timer);
      stats_timer_.set_owner(this);
      const uint64_t ms = uint64_t(stats_interval_seconds) * 1000;
      uv_timer_start(stats_timer_.get(), &TunnelApp::OnStatsTimer, ms, ms);
    }
    std::printf("[tunnel] device %s is up; press Ctrl-C to stop (SIGUSR1 prints statistics)\n",
                tunnel_->device().name().c_str());
    std::fflush(stdout);
    uv_run(loop_, UV_RUN_DEFAULT);
    PrintStats();
    return fatal_;
  }

  void OnFatal(const absl::Status& error) override {
    fatal_ = error;
    Shutdown();
  }

  // Releases every handle so that the loop can close.
  void Shutdown() {
    for (UvSignal& s : signals_) s.Reset();
    stats_timer_.Reset();
    if (tunnel_) tunnel_->Stop();
  }

  void Destroy() { tunnel_.reset(); }

 private:
  static void OnSignal(uv_signal_t* handle, int signum) {
    auto* self = static_cast<TunnelApp*>(handle->data);
    if (self == nullptr) return;
    if (signum == SIGUSR1) {
      self->PrintStats();
    } else {
      std::printf("\n[tunnel] shutting down\n");
      self->Shutdown();
    }
  }
  static void OnStatsTimer(uv_timer_t* timer) {
    if (auto* self = static_cast<TunnelApp*>(timer->data)) self->PrintStats();
  }

  void PrintStats() {
    if (!tunnel_) return;
    const double uptime =
        std::chrono::duration<double>(RealClock::Instance().Now() - started_).count();
    const std::string peer = tunnel_->peer() ? tunnel_->peer()->ToString() : "(none yet)";
    std::printf("%s", FormatStats(tunnel_->stats(), uptime, peer).c_str());
    std::fflush(stdout);
  }

  uv_loop_t* loop_;
  MonoTime started_;
  tools::StderrLogSink log_sink_;
  std::unique_ptr<PointToPointTunnel> tunnel_;
  std::vector<UvSignal> signals_;
  UvTimer stats_timer_;
  absl::Status fatal_;
};

absl::StatusOr<TunnelConfig> ConfigFromFlags(const TunnelToolSpec& spec) {
  TunnelConfig config;
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "server") {
    config.mode = TunnelConfig::Mode::kServer;
  } else if (mode == "client") {
    config.mode = TunnelConfig::Mode::kClient;
  } else {
    return absl::InvalidArgumentError("--mode must be 'server' or 'client' (see --help)");
  }
  std::string listen = absl::GetFlag(FLAGS_listen);
  if (listen.empty() && config.mode == TunnelConfig::Mode::kServer) listen = ":5000";
  if (!listen.empty()) {
    auto bind = udp::Endpoint::Parse(listen);
    if (!bind.ok())
      return absl::InvalidArgumentError(absl::StrFormat("--listen: %s", bind.status().message()));
    config.bind = *bind;
  }
  const std::string peer = absl::GetFlag(FLAGS_peer);
  if (!peer.empty()) {
    auto endpoint = udp::Endpoint::Parse(peer);
    if (!endpoint.ok())
      return absl::InvalidArgumentError(absl::StrFormat("--peer: %s", endpoint.status().message()));
    config.peer = *endpoint;
  } else if (config.mode == TunnelConfig::Mode::kClient) {
    return absl::InvalidArgumentError("a client needs --peer host:port (the server's address)");
  }
  config.tun.name = absl::GetFlag(FLAGS_tun);
  const std::string address = absl::GetFlag(FLAGS_address);
  if (address.empty()) return absl::InvalidArgumentError("--address is required, e.g. 10.0.0.1/24");
  for (const std::string& text : {address, absl::GetFlag(FLAGS_address6)}) {
    if (text.empty()) continue;
    auto prefix = tun::IpPrefix::Parse(text);
    if (!prefix.ok())
      return absl::InvalidArgumentError(
          absl::StrFormat("address %s: %s", text, prefix.status().message()));
    config.tun.addresses.push_back(*prefix);
  }
  config.tun.mtu = absl::GetFlag(FLAGS_mtu) > 0 ? absl::GetFlag(FLAGS_mtu) : spec.default_mtu;
  config.keepalive_interval = std::chrono::seconds(std::max(0, absl::GetFlag(FLAGS_keepalive)));
  return config;
}

}  // namespace

int RunTunnelTool(int argc, char** argv, const TunnelToolSpec& spec) {
  tools::InitTool(argc, argv, spec.usage);
  if (spec.before_start) {
    if (std::optional<int> exit_code = spec.before_start()) return *exit_code;
  }
  auto config = ConfigFromFlags(spec);
  if (!config.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  auto protector = spec.make_protector(config->mode);
  if (!protector.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(protector.status().message()).c_str());
    return 2;
  }
  UvLoop loop;
  TunnelApp app(loop.get());
  absl::Status status =
      app.Run(std::move(*config), std::move(*protector), absl::GetFlag(FLAGS_stats_interval));
  app.Shutdown();
  app.Destroy();
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return loop.Close() == 0 ? 0 : 1;
}

}  // namespace meshvpn::tunnel
