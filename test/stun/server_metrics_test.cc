// ServerMetrics: the server's counters after real datagrams, as a scrape shows them.
#include "meshvpn/stun/server_metrics.h"

#include <catch2/catch.hpp>
#include <vector>

#include "meshvpn/metrics/exposition.h"
#include "meshvpn/metrics/registry.h"
#include "meshvpn/stun/builder.h"
#include "meshvpn/stun/message.h"

namespace meshvpn::stun {
namespace {

TEST_CASE("ServerMetrics exposes requests, responses and drops by reason") {
  ServerConfig config;
  config.primary = *udp::Endpoint::Parse("192.0.2.1:3478");
  auto server = Server::Create(config);
  REQUIRE(server.ok());
  const udp::Endpoint client = *udp::Endpoint::Parse("203.0.113.5:51000");
  std::vector<uint8_t> request(256);
  MessageBuilder b(request);
  b.Start(kBindingRequest, TransactionId{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  b.AddFingerprint();
  REQUIRE(b.ok());
  request.resize(b.size());
  std::vector<uint8_t> out(kMaxUdpMessageSize);
  ServerReply reply;
  REQUIRE(server->HandleDatagram(request, client, 0, out, &reply) == ServerDrop::kNone);
  REQUIRE(server->HandleDatagram(request, client, 0, out, &reply) == ServerDrop::kNone);
  const std::vector<uint8_t> junk = {1, 2, 3};
  REQUIRE(server->HandleDatagram(junk, client, 0, out, &reply) == ServerDrop::kMalformed);

  ServerMetrics collector(&*server);
  metrics::Registry registry;
  REQUIRE(registry.AddCollector(&collector).ok());
  const std::string text = metrics::Expose(registry.Collect(), metrics::Format::kPrometheusText);
  CHECK(text.find("meshvpn_stun_requests_total 2\n") != std::string::npos);
  CHECK(text.find("meshvpn_stun_responses_total{result=\"success\"} 2\n") != std::string::npos);
  CHECK(text.find("meshvpn_stun_responses_total{result=\"error\"} 0\n") != std::string::npos);
  CHECK(text.find("meshvpn_stun_dropped_datagrams_total{reason=\"malformed\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("meshvpn_stun_dropped_datagrams_total{reason=\"bad-fingerprint\"} 0\n") !=
        std::string::npos);
}

}  // namespace
}  // namespace meshvpn::stun
