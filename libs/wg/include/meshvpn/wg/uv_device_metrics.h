// Prometheus metrics of a WireGuard device and its driver (a metrics::Collector): every
// DeviceStats figure, drops by reason, per-peer bytes and handshake age, and the UDP, TUN and
// crypto-thread counters, read from the device at each scrape.
#pragma once

#include <string>
#include <vector>

#include "meshvpn/metrics/collector.h"
#include "meshvpn/wg/uv_device.h"

namespace meshvpn::wg {

// Every series carries the label interface="NAME" (a process may run several devices). Names
// follow docs/metrics.md: meshvpn_wg_* for the device, meshvpn_udp_* for its socket,
// meshvpn_tun_* for its TUN side; counters end in _total, sizes are bytes, ages seconds.
//
// Threading: Collect() reads the device without a lock, so the registry must be scraped on the
// device's loop thread (an HTTP server on the same loop does that). `device` and `clock` must
// outlive the collector's registration.
class DeviceMetrics final : public metrics::Collector {
 public:
  DeviceMetrics(const UvDevice* device, std::string interface_name,
                const Clock* clock = &RealClock::Instance());

  std::vector<metrics::FamilyDesc> Describe() const override;
  void Collect(metrics::CollectOutput& out) override;

 private:
  const UvDevice* device_;
  std::string interface_;
  const Clock* clock_;
};

}  // namespace meshvpn::wg
