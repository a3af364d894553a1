// mini-wireguard's application: the TUN device, the UvDevice, the UAPI socket, signals, the
// start-up lines of the seed and the statistics block.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/stderr_log_sink.h"
#include "common/tool_metrics.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/tun/tun_device.h"
#include "meshvpn/wg/uv_device.h"
#include "meshvpn/wg/uv_device_metrics.h"
#include "meshvpn/wg/uv_uapi_server.h"
#include "meshvpn/wg/wg_quick_config.h"
#include "seed_tracer.h"

namespace meshvpn::tools {

struct WgAppConfig {
  std::string interface_name;
  std::optional<wg::WgQuickConfig> file;  // -config: addresses, MTU and peers from a file
  int mtu = 1420;
  int stats_interval_seconds = 0;
  LogLevel log_level = LogLevel::kInfo;
  uint64_t trace_packets = 0;  // print the first N packets in the seed's words
  bool offload = true;         // TUN with TSO/checksum offload (IFF_VNET_HDR)
  bool udp_offload = true;     // UDP GSO on send, GRO on receive
  bool crypto_thread = false;  // AEAD on a second thread (wg::CryptoWorker)
  bool tun_coalesce = true;    // with offload: coalesced TUN writes (tun::TcpCoalescer)
  // --metrics-listen ADDR:PORT: serve Prometheus metrics at http://ADDR:PORT/metrics.
  std::string metrics_listen;
  // Called once the device is ready (the daemon's parent waits for it).
  std::function<void()> on_ready;
};

class WgApp {
 public:
  explicit WgApp(uv_loop_t* loop) : loop_(loop) {}
  // Creates everything, runs the loop until SIGINT/SIGTERM, prints the statistics.
  absl::Status Run(const WgAppConfig& config);
  void Shutdown();
  void Destroy();

 private:
  static void OnSignal(uv_signal_t* handle, int signum);
  static void OnStatsTimer(uv_timer_t* timer);
  void PrintConfiguration(const WgAppConfig& config) const;
  void PrintStats() const;

  uv_loop_t* loop_;
  MonoTime started_{};
  StderrLogSink log_sink_;
  std::optional<tun::TunDevice> tun_;
  std::unique_ptr<SeedTracer> tracer_;
  std::unique_ptr<wg::UvDevice> device_;
  std::unique_ptr<wg::UvUapiServer> uapi_;
  std::unique_ptr<wg::DeviceMetrics> device_metrics_;
  std::unique_ptr<ToolMetrics> metrics_;  // --metrics-listen
  std::vector<UvSignal> signals_;
  UvTimer stats_timer_;
};

}  // namespace meshvpn::tools
