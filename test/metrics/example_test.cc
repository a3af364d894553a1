// The usage example of libs/metrics/README.md and docs/metrics.md, compiled and checked, so the
// documented API cannot drift from the real one.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "meshvpn/metrics/exposition.h"
#include "meshvpn/metrics/negotiate.h"
#include "meshvpn/metrics/registry.h"

namespace meshvpn::metrics {
namespace {

TEST_CASE("the README example: a labelled counter, a collector, a negotiated exposition") {
  std::map<std::string, double> handshake_age = {{"alice", 4.5}};  // a daemon's own state
  const std::string accept_header = "application/openmetrics-text;version=1.0.0,*/*;q=0.1";

  // --- the example, as in the README ---
  Registry registry;
  auto rx = *registry.AddCounterFamily("meshvpn_wg_rx_bytes_total", "Bytes received.", {"peer"});
  Counter alice_rx = *rx.WithLabels({"alice"});  // setup: once, keep the handle
  alice_rx.Add(1420);                            // hot path: one relaxed add, no lock, no malloc
  auto id = registry.AddCollector(               // read at scrape time, for a changing set
      {{"meshvpn_wg_peer_handshake_age_seconds",
        "Seconds since the last handshake.",
        MetricType::kGauge,
        {"peer"}}},
      [&](CollectOutput& out) {
        for (const auto& [peer, age] : handshake_age) out.Add(0, {peer}, age);
      });
  const Negotiation n = NegotiateFormat(accept_header);           // from the HTTP request
  const std::string body = Expose(registry.Collect(), n.format);  // reply with n.content_type
  // --- end of the example ---

  REQUIRE(id.ok());
  CHECK(n.content_type == kOpenMetricsContentType);
  CHECK(body ==
        "# TYPE meshvpn_wg_peer_handshake_age_seconds gauge\n"
        "# HELP meshvpn_wg_peer_handshake_age_seconds Seconds since the last handshake.\n"
        "meshvpn_wg_peer_handshake_age_seconds{peer=\"alice\"} 4.5\n"
        "# TYPE meshvpn_wg_rx_bytes counter\n"
        "# HELP meshvpn_wg_rx_bytes Bytes received.\n"
        "meshvpn_wg_rx_bytes_total{peer=\"alice\"} 1420\n"
        "# EOF\n");
}

}  // namespace
}  // namespace meshvpn::metrics
