#include "sample_registry.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

namespace meshvpn::metrics::testing {
namespace {

template <typename T>
T Must(absl::StatusOr<T> v) {
  if (!v.ok()) std::abort();
  return *std::move(v);
}
void Must(const absl::Status& s) {
  if (!s.ok()) std::abort();
}

// A component's own statistics, exposed without keeping a second copy.
struct FakeStats {
  std::array<uint64_t, 2> drops{3, 0};
  uint64_t handshakes = std::numeric_limits<uint64_t>::max();
};

}  // namespace

std::unique_ptr<Registry> MakeSampleRegistry() {
  auto r = std::make_unique<Registry>();

  CounterFamily rx = Must(r->AddCounterFamily(
      "meshvpn_test_rx_bytes_total", "Bytes \"received\", with \\ and\nnewline.", {"peer"}));
  Must(rx.WithLabels({"a"})).Add(5);
  Must(rx.WithLabels({"b\"\\\n"})).Add(7);

  Must(r->AddGauge("meshvpn_test_peers", "Peers configured.")).Set(2.5);

  GaugeFamily ratio = Must(r->AddGaugeFamily("meshvpn_test_ratio", "A ratio.", {"kind"}));
  Must(ratio.WithLabels({"nan"})).Set(std::nan(""));
  Must(ratio.WithLabels({"inf"})).Set(INFINITY);
  Must(ratio.WithLabels({"neg"})).Set(-INFINITY);

  Histogram latency = Must(r->AddHistogram("meshvpn_test_handshake_duration_seconds",
                                           "Handshake duration.", {0.25, 1, 2.5}));
  for (double v : {0.125, 0.25, 0.5, 3.0}) latency.Observe(v);

  // Read from a stats struct at scrape time: every drop reason, and a counter past 2^53.
  static FakeStats stats;
  CounterFamily drops = Must(
      r->AddCounterFamily("meshvpn_test_dropped_packets_total", "Packets dropped.", {"reason"}));
  Must(drops.AddCallback({"replayed"}, [] { return stats.drops[0]; }));
  Must(drops.AddCallback({"no_route"}, [] { return stats.drops[1]; }));
  Must(r->AddCounterCallback("meshvpn_test_handshakes_total", "Handshakes completed.",
                             [] { return stats.handshakes; }));

  // A dynamic set of peers, filled at scrape time.
  Must(r->AddCollector({{"meshvpn_test_peer_rx_bytes_total",
                         "Bytes received from the peer.",
                         MetricType::kCounter,
                         {"peer"}},
                        {"meshvpn_test_peer_last_handshake_seconds",
                         "Seconds since the peer's last handshake.",
                         MetricType::kGauge,
                         {"peer"}}},
                       [](CollectOutput& out) {
                         out.Add(0, {"zed"}, uint64_t{1});
                         out.Add(0, {"amy"}, uint64_t{1000});
                         out.Add(1, {"amy"}, 12.5);
                       }));
  return r;
}

}  // namespace meshvpn::metrics::testing
