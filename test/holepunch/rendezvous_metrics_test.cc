// RendezvousMetrics: the rendezvous server's counters after real datagrams, as a scrape shows them.
#include "meshvpn/holepunch/rendezvous_metrics.h"

#include <catch2/catch.hpp>

#include "meshvpn/base/clock.h"
#include "meshvpn/metrics/exposition.h"
#include "meshvpn/metrics/registry.h"

namespace meshvpn::holepunch {
namespace {

TEST_CASE("RendezvousMetrics exposes the counters and drops by reason") {
  FakeClock clock;
  RendezvousServer server;
  const udp::Endpoint from = *udp::Endpoint::Parse("203.0.113.5:51000");
  // A holepunch header with a type the server does not answer, then a truncated one.
  const uint8_t not_request[] = {'M', 'V', 'H', 'P', 1, 0x10, 0, 0, 1, 2, 3};
  REQUIRE(server.HandleDatagram(not_request, from, clock.Now()) == ServerDrop::kNotRequest);
  REQUIRE(server.HandleDatagram(ByteSpan(not_request + 1, 5), from, clock.Now()) ==
          ServerDrop::kMalformed);
  REQUIRE(server.HandleDatagram(ByteSpan(not_request + 1, 5), from, clock.Now()) ==
          ServerDrop::kMalformed);

  RendezvousMetrics collector(&server);
  metrics::Registry registry;
  REQUIRE(registry.AddCollector(&collector).ok());
  const std::string text = metrics::Expose(registry.Collect(), metrics::Format::kPrometheusText);
  CHECK(text.find("meshvpn_holepunch_registers_total 0\n") != std::string::npos);
  CHECK(text.find("meshvpn_holepunch_dropped_datagrams_total{reason=\"malformed\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("meshvpn_holepunch_dropped_datagrams_total{reason=\"not-a-register\"} 1\n") !=
        std::string::npos);
}

}  // namespace
}  // namespace meshvpn::holepunch
