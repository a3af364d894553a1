#include "wg_app.h"

#include <csignal>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "meshvpn/base/status.h"

namespace meshvpn::tools {
namespace {

std::string ShortKey(const x25519::PublicKey& key) {
  const std::string b64 = key.ToBase64();
  return b64.substr(0, 6) + "...";
}

std::string Bytes(uint64_t n) {
  if (n < 1024) return absl::StrFormat("%d B", n);
  if (n < 1024 * 1024) return absl::StrFormat("%.1f KiB", n / 1024.0);
  if (n < 1024ull * 1024 * 1024) return absl::StrFormat("%.1f MiB", n / (1024.0 * 1024));
  return absl::StrFormat("%.2f GiB", n / (1024.0 * 1024 * 1024));
}

// " (no_buffer=7086 ...)" for the UDP reasons that happened, or "" when none did.
std::string FormatUdpDrops(const udp::UdpStats& stats) {
  std::string out;
  for (size_t i = 0; i < udp::kDropReasonCount; ++i) {
    if (stats.drops[i] == 0) continue;
    absl::StrAppendFormat(&out, "%s%s=%d", out.empty() ? " (" : " ",
                          udp::ToString(static_cast<udp::DropReason>(i)), stats.drops[i]);
  }
  return out.empty() ? out : out + ")";
}

}  // namespace

absl::Status WgApp::Run(const WgAppConfig& config) {
  started_ = RealClock::Instance().Now();
  tun::TunConfig tun_config;
  tun_config.name = config.interface_name;
  tun_config.mtu = config.file && config.file->mtu ? *config.file->mtu : config.mtu;
  if (config.file) tun_config.addresses = config.file->addresses;
  // As wireguard-go: the interface comes up when its owner says so (ip link set up), unless a
  // config file describes the whole interface.
  tun_config.up = config.file.has_value();
  tun_config.offload = config.offload;
  std::printf("Creating TUN interface %s...\n", config.interface_name.c_str());
  std::fflush(stdout);
  MESHVPN_ASSIGN_OR_RETURN(tun::TunDevice tun, tun::TunDevice::Create(tun_config, &log_sink_));
  tun_.emplace(std::move(tun));

  wg::UvDeviceOptions options;
  options.tun_fd = tun_->fd();
  options.tun_vnet_header = tun_->vnet_header();
  options.udp_offload = config.udp_offload;
  options.crypto_thread = config.crypto_thread;
  options.tun_coalesce = config.tun_coalesce;
  options.mtu = static_cast<size_t>(tun_config.mtu);
  options.log_sink = &log_sink_;
  options.log_level = config.log_level;
  MESHVPN_ASSIGN_OR_RETURN(device_, wg::UvDevice::Create(loop_, options));
  tracer_ = std::make_unique<SeedTracer>(config.trace_packets);
  device_->set_tracer(tracer_.get());
  if (config.file) {
    PrintConfiguration(config);
    MESHVPN_RETURN_IF_ERROR(device_->Apply(config.file->device));
  }
  MESHVPN_RETURN_IF_ERROR(device_->Start());
  MESHVPN_ASSIGN_OR_RETURN(
      uapi_, wg::UvUapiServer::Listen(loop_, wg::UapiSocketPath(config.interface_name),
                                      device_.get(), Logger(&log_sink_, "uapi")));
  if (!config.metrics_listen.empty()) {
    device_metrics_ = std::make_unique<wg::DeviceMetrics>(device_.get(), config.interface_name);
    MESHVPN_ASSIGN_OR_RETURN(metrics_, ToolMetrics::Start(loop_, config.metrics_listen, &log_sink_,
                                                          {device_metrics_.get()}));
    std::printf("Metrics: %s\n", metrics_->url().c_str());
  }
  for (int signum : {SIGINT, SIGTERM, SIGUSR1}) {
    MESHVPN_ASSIGN_OR_RETURN(UvSignal handle, UvSignal::Create(loop_, uv_signal_init));
    handle.set_owner(this);
    uv_signal_start(handle.get(), &WgApp::OnSignal, signum);
    signals_.push_back(std::move(handle));
  }
  if (config.stats_interval_seconds > 0) {
    MESHVPN_ASSIGN_OR_RETURN(stats_timer_, UvTimer::Create(loop_, uv_timer_init));
    stats_timer_.set_owner(this);
    const uint64_t ms = uint64_t(config.stats_interval_seconds) * 1000;
    uv_timer_start(stats_timer_.get(), &WgApp::OnStatsTimer, ms, ms);
  }
  std::printf("Interface %s ready: UDP port %d, UAPI %s\n", config.interface_name.c_str(),
              device_->bound_port(), uapi_->path().c_str());
  std::printf("Configure it with `wg setconf %s FILE` / `wg set`; `wg show %s` shows it.\n",
              config.interface_name.c_str(), config.interface_name.c_str());
  std::fflush(stdout);
  if (config.on_ready) config.on_ready();
  uv_run(loop_, UV_RUN_DEFAULT);
  PrintStats();
  return absl::OkStatus();
}

void WgApp::PrintConfiguration(const WgAppConfig& config) const {
  const wg::WgQuickConfig& file = *config.file;
  std::printf("Interface: %s\n", config.interface_name.c_str());
  for (const tun::IpPrefix& address : file.addresses) {
    std::printf("Address: %s\n", address.ToString().c_str());
  }
  std::printf("Private key: %s\n", file.device.private_key ? "loaded" : "none");
  std::printf("Listen port: %d\n", file.device.listen_port ? *file.device.listen_port : 0);
  std::printf("Loading peer configuration...\n");
  for (const wg::PeerConfigUpdate& peer : file.device.peers) {
    std::printf("Peer: %s\n", ShortKey(peer.public_key).c_str());
    if (peer.endpoint) std::printf("  Endpoint: %s\n", peer.endpoint->ToString().c_str());
    std::string allowed;
    for (const tun::IpPrefix& p : peer.allowed_ips) {
      if (!allowed.empty()) allowed += ", ";
      allowed += p.ToString();
    }
    std::printf("  AllowedIPs: %s\n", allowed.empty() ? "(none)" : allowed.c_str());
    if (peer.preshared_key && !peer.preshared_key->IsZero()) {
      std::printf("  Preshared key: loaded\n");
    }
    if (peer.persistent_keepalive && peer.persistent_keepalive->count() > 0) {
      std::printf("  Persistent keepalive: every %llds\n",
                  static_cast<long long>(peer.persistent_keepalive->count()));
    }
    std::printf("  Handshake: pending\n");
  }
  std::fflush(stdout);
}

void WgApp::OnSignal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<WgApp*>(handle->data);
  if (self == nullptr) return;
  if (signum == SIGUSR1) {
    self->PrintStats();
    return;
  }
  std::printf("\nShutting down\n");
  self->Shutdown();
}

void WgApp::OnStatsTimer(uv_timer_t* timer) {
  if (auto* self = static_cast<WgApp*>(timer->data)) self->PrintStats();
}

void WgApp::PrintStats() const {
  if (!device_) return;
  const wg::Device& device = device_->device();
  const wg::DeviceStats& s = device.stats();
  const double uptime =
      std::chrono::duration<double>(RealClock::Instance().Now() - started_).count();
  std::printf("=== mini-wireguard statistics (%.1fs) ===\n", uptime);
  std::printf(
      "Handshakes: %llu completed, %llu initiations sent, %llu received, %llu responses "
      "sent, %llu cookie replies sent\n",
      (unsigned long long)s.handshakes_completed, (unsigned long long)s.initiations_sent,
      (unsigned long long)s.initiations_received, (unsigned long long)s.responses_sent,
      (unsigned long long)s.cookie_replies_sent);
  std::printf("Packets: %llu sent, %llu received; keepalives %llu sent, %llu received\n",
              (unsigned long long)s.packets_sent, (unsigned long long)s.packets_received,
              (unsigned long long)s.keepalives_sent, (unsigned long long)s.keepalives_received);
  for (const wg::PeerStatus& peer : device.Status().peers) {
    std::printf("Peer %s: endpoint %s, rx %s, tx %s\n", ShortKey(peer.public_key).c_str(),
                peer.endpoint ? peer.endpoint->ToString().c_str() : "(none)",
                Bytes(peer.rx_bytes).c_str(), Bytes(peer.tx_bytes).c_str());
  }
  if (const tun::TunStats* t = device_->tun_stats()) {
    std::printf(
        "TUN: %llu packets read (%llu TSO super-packets cut into %llu), %llu written "
        "(%llu coalesced into %llu super-packets), %llu dropped\n",
        (unsigned long long)t->packets_read, (unsigned long long)t->tso_packets,
        (unsigned long long)t->tso_segments, (unsigned long long)t->packets_written,
        (unsigned long long)t->coalesced_segments, (unsigned long long)t->coalesced_writes,
        (unsigned long long)t->total_dropped());
  }
  if (const udp::UdpStats* u = device_->udp_stats()) {
    std::printf(
        "UDP: %llu datagrams sent in %llu calls (%llu by GSO), %llu received in %llu "
        "calls (%llu coalesced by GRO), %llu dropped%s\n",
        (unsigned long long)u->packets_sent, (unsigned long long)u->send_calls,
        (unsigned long long)u->gso_segments_sent, (unsigned long long)u->packets_received,
        (unsigned long long)u->receive_calls, (unsigned long long)u->gro_segments_received,
        (unsigned long long)u->total_drops(), FormatUdpDrops(*u).c_str());
    std::printf(
        "UDP receive queue: at most %llu bytes waiting after a read; %llu datagrams dropped by "
        "the kernel (receive buffer full)\n",
        (unsigned long long)u->largest_receive_queue_bytes,
        (unsigned long long)u->kernel_receive_drops);
  }
  if (const wg::CryptoWorkerStats* c = device_->crypto_stats()) {
    std::printf("Crypto thread: %llu packets sealed/opened there, %llu inline; %llu wake-ups\n",
                (unsigned long long)c->jobs_submitted, (unsigned long long)c->jobs_inline,
                (unsigned long long)c->wakeups);
  }
  std::printf("Dropped: %s\n", wg::FormatDrops(s).c_str());
  std::fflush(stdout);
}

void WgApp::Shutdown() {
  for (UvSignal& s : signals_) s.Reset();
  stats_timer_.Reset();
  uapi_.reset();
  metrics_.reset();
  if (device_) device_->Stop();
}

void WgApp::Destroy() {
  uapi_.reset();
  metrics_.reset();
  device_metrics_.reset();
  device_.reset();
  tracer_.reset();
  tun_.reset();
}

}  // namespace meshvpn::tools
