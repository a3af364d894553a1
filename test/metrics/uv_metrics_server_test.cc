// MetricsServer on loopback, read by the http library's client: the exposition in both formats,
// HEAD, 404, and the server's own request counters.
#include "meshvpn/metrics/uv_metrics_server.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "common/uv_run_until.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/http/uv_client.h"

namespace meshvpn::metrics {
namespace {

using test::RunUntil;

absl::StatusOr<http::Response> Fetch(uv_loop_t* loop, http::UvClient& client, std::string method,
                                     std::string target, std::string accept = "") {
  http::Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  if (!accept.empty()) request.headers.Add("Accept", accept);
  std::optional<absl::StatusOr<http::Response>> got;
  client.Fetch(request, [&](absl::StatusOr<http::Response> r) { got = std::move(r); });
  if (!RunUntil(loop, [&] { return got.has_value(); })) return absl::DeadlineExceededError("fetch");
  return *got;
}

TEST_CASE("MetricsServer serves the registry at /metrics in the negotiated format") {
  UvLoop loop;
  {
    Registry registry;
    auto packets = registry.AddCounter("meshvpn_test_packets_total", "Packets seen.");
    REQUIRE(packets.ok());
    packets->Add(42);
    MetricsServerOptions options;
    options.listen = "127.0.0.1:0";
    auto server = MetricsServer::Start(loop.get(), &registry, options);
    REQUIRE(server.ok());
    CHECK((*server)->port() != 0);
    http::UvClient client(loop.get(), {.host = "127.0.0.1", .port = (*server)->port()});

    auto text = Fetch(loop.get(), client, "GET", "/metrics");
    REQUIRE(text.ok());
    CHECK(text->status == 200);
    CHECK(text->headers.Get("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(text->body.find("meshvpn_test_packets_total 42\n") != std::string::npos);
    CHECK(text->body.find("# EOF") == std::string::npos);

    auto open_metrics =
        Fetch(loop.get(), client, "GET", "/metrics", "application/openmetrics-text;version=1.0.0");
    REQUIRE(open_metrics.ok());
    CHECK(open_metrics->headers.Get("Content-Type")->starts_with("application/openmetrics-text"));
    CHECK(open_metrics->body.ends_with("# EOF\n"));

    auto head = Fetch(loop.get(), client, "HEAD", "/metrics");
    REQUIRE(head.ok());
    CHECK(head->status == 200);
    CHECK(head->body.empty());

    auto missing = Fetch(loop.get(), client, "GET", "/nothing");
    REQUIRE(missing.ok());
    CHECK(missing->status == 404);

    // Its own traffic: the three answered requests before this one, on one open connection.
    auto again = Fetch(loop.get(), client, "GET", "/metrics");
    REQUIRE(again.ok());
    CHECK(again->body.find("meshvpn_metrics_http_requests_total{outcome=\"answered\"} 4\n") !=
          std::string::npos);
    CHECK(again->body.find("meshvpn_metrics_http_connections 1\n") != std::string::npos);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("MetricsServer refuses an address it cannot listen on, with the address in the error") {
  UvLoop loop;
  {
    Registry registry;
    MetricsServerOptions options;
    options.listen = "not-an-address";
    auto server = MetricsServer::Start(loop.get(), &registry, options);
    CHECK_FALSE(server.ok());
    options.listen = "192.0.2.1:9100";  // TEST-NET: not an address of this host
    server = MetricsServer::Start(loop.get(), &registry, options);
    REQUIRE_FALSE(server.ok());
    CHECK(std::string(server.status().message()).find("192.0.2.1:9100") != std::string::npos);
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::metrics
