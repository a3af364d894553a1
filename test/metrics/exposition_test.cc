// The two text formats, byte for byte: a golden body per format from the sample registry, then
// the details one at a time (numbers, escaping, le, empty help, negative bounds).
#include "meshvpn/metrics/exposition.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "meshvpn/metrics/registry.h"
#include "sample_registry.h"

namespace meshvpn::metrics {
namespace {

constexpr std::string_view kGoldenText =
    R"txt(# HELP meshvpn_test_dropped_packets_total Packets dropped.
# TYPE meshvpn_test_dropped_packets_total counter
meshvpn_test_dropped_packets_total{reason="no_route"} 0
meshvpn_test_dropped_packets_total{reason="replayed"} 3
# HELP meshvpn_test_handshake_duration_seconds Handshake duration.
# TYPE meshvpn_test_handshake_duration_seconds histogram
meshvpn_test_handshake_duration_seconds_bucket{le="0.25"} 2
meshvpn_test_handshake_duration_seconds_bucket{le="1"} 3
meshvpn_test_handshake_duration_seconds_bucket{le="2.5"} 3
meshvpn_test_handshake_duration_seconds_bucket{le="+Inf"} 4
meshvpn_test_handshake_duration_seconds_sum 3.875
meshvpn_test_handshake_duration_seconds_count 4
# HELP meshvpn_test_handshakes_total Handshakes completed.
# TYPE meshvpn_test_handshakes_total counter
meshvpn_test_handshakes_total 18446744073709551615
# HELP meshvpn_test_peer_last_handshake_seconds Seconds since the peer's last handshake.
# TYPE meshvpn_test_peer_last_handshake_seconds gauge
meshvpn_test_peer_last_handshake_seconds{peer="amy"} 12.5
# HELP meshvpn_test_peer_rx_bytes_total Bytes received from the peer.
# TYPE meshvpn_test_peer_rx_bytes_total counter
meshvpn_test_peer_rx_bytes_total{peer="amy"} 1000
meshvpn_test_peer_rx_bytes_total{peer="zed"} 1
# HELP meshvpn_test_peers Peers configured.
# TYPE meshvpn_test_peers gauge
meshvpn_test_peers 2.5
# HELP meshvpn_test_ratio A ratio.
# TYPE meshvpn_test_ratio gauge
meshvpn_test_ratio{kind="inf"} +Inf
meshvpn_test_ratio{kind="nan"} NaN
meshvpn_test_ratio{kind="neg"} -Inf
# HELP meshvpn_test_rx_bytes_total Bytes "received", with \\ and\nnewline.
# TYPE meshvpn_test_rx_bytes_total counter
meshvpn_test_rx_bytes_total{peer="a"} 5
meshvpn_test_rx_bytes_total{peer="b\"\\\n"} 7
)txt";

constexpr std::string_view kGoldenOpenMetrics = R"txt(# TYPE meshvpn_test_dropped_packets counter
# HELP meshvpn_test_dropped_packets Packets dropped.
meshvpn_test_dropped_packets_total{reason="no_route"} 0
meshvpn_test_dropped_packets_total{reason="replayed"} 3
# TYPE meshvpn_test_handshake_duration_seconds histogram
# HELP meshvpn_test_handshake_duration_seconds Handshake duration.
meshvpn_test_handshake_duration_seconds_bucket{le="0.25"} 2
meshvpn_test_handshake_duration_seconds_bucket{le="1.0"} 3
meshvpn_test_handshake_duration_seconds_bucket{le="2.5"} 3
meshvpn_test_handshake_duration_seconds_bucket{le="+Inf"} 4
meshvpn_test_handshake_duration_seconds_count 4
meshvpn_test_handshake_duration_seconds_sum 3.875
# TYPE meshvpn_test_handshakes counter
# HELP meshvpn_test_handshakes Handshakes completed.
meshvpn_test_handshakes_total 18446744073709551615
# TYPE meshvpn_test_peer_last_handshake_seconds gauge
# HELP meshvpn_test_peer_last_handshake_seconds Seconds since the peer's last handshake.
meshvpn_test_peer_last_handshake_seconds{peer="amy"} 12.5
# TYPE meshvpn_test_peer_rx_bytes counter
# HELP meshvpn_test_peer_rx_bytes Bytes received from the peer.
meshvpn_test_peer_rx_bytes_total{peer="amy"} 1000
meshvpn_test_peer_rx_bytes_total{peer="zed"} 1
# TYPE meshvpn_test_peers gauge
# HELP meshvpn_test_peers Peers configured.
meshvpn_test_peers 2.5
# TYPE meshvpn_test_ratio gauge
# HELP meshvpn_test_ratio A ratio.
meshvpn_test_ratio{kind="inf"} +Inf
meshvpn_test_ratio{kind="nan"} NaN
meshvpn_test_ratio{kind="neg"} -Inf
# TYPE meshvpn_test_rx_bytes counter
# HELP meshvpn_test_rx_bytes Bytes \"received\", with \\ and\nnewline.
meshvpn_test_rx_bytes_total{peer="a"} 5
meshvpn_test_rx_bytes_total{peer="b\"\\\n"} 7
# EOF
)txt";

TEST_CASE("Prometheus text 0.0.4 of the sample registry, byte for byte") {
  auto r = testing::MakeSampleRegistry();
  CHECK(Expose(r->Collect(), Format::kPrometheusText) == kGoldenText);
}

TEST_CASE("OpenMetrics 1.0.0 of the sample registry, byte for byte") {
  auto r = testing::MakeSampleRegistry();
  CHECK(Expose(r->Collect(), Format::kOpenMetrics) == kGoldenOpenMetrics);
}

TEST_CASE("AppendExposition appends to what the buffer holds") {
  auto r = testing::MakeSampleRegistry();
  std::string out = "prefix\n";
  AppendExposition(r->Collect(), Format::kPrometheusText, &out);
  CHECK(out == "prefix\n" + std::string(kGoldenText));
}

// One gauge set to `v`, as its sample line in the text format.
std::string GaugeLine(double v) {
  Registry r;
  (*r.AddGauge("g", "h")).Set(v);
  const std::string body = Expose(r.Collect(), Format::kPrometheusText);
  return body.substr(body.rfind('\n', body.size() - 2) + 1);
}

TEST_CASE("numbers are the shortest text that reads back as the same double") {
  const struct {
    double v;
    const char* line;
  } cases[] = {
      {0, "g 0\n"},
      {1, "g 1\n"},
      {-2, "g -2\n"},
      {0.1, "g 0.1\n"},
      {1.0 / 3, "g 0.3333333333333333\n"},
      {1e21, "g 1e+21\n"},
      {1e-7, "g 1e-07\n"},
      {123456789012, "g 123456789012\n"},
      {std::numeric_limits<double>::max(), "g 1.7976931348623157e+308\n"},
      {INFINITY, "g +Inf\n"},
      {-INFINITY, "g -Inf\n"},
      {std::nan(""), "g NaN\n"},
  };
  for (const auto& c : cases) {
    INFO(c.line);
    CHECK(GaugeLine(c.v) == c.line);
  }
}

TEST_CASE("counters are exact integers, also past 2^53") {
  Registry r;
  Counter c = *r.AddCounter("c_total", "h");
  c.Add((uint64_t{1} << 53) + 1);
  CHECK(Expose(r.Collect(), Format::kPrometheusText) ==
        "# HELP c_total h\n# TYPE c_total counter\nc_total 9007199254740993\n");
}

TEST_CASE("label values escape backslash, double quote and newline, and nothing else") {
  Registry r;
  GaugeFamily f = *r.AddGaugeFamily("g", "", {"a", "b"});
  (*f.WithLabels({"tab\there 'q' {x} = , é", "\\\"\n"})).Set(1);
  const std::string want = "# TYPE g gauge\ng{a=\"tab\there 'q' {x} = , é\",b=\"\\\\\\\"\\n\"} 1\n";
  CHECK(Expose(r.Collect(), Format::kPrometheusText) == want);
  CHECK(Expose(r.Collect(), Format::kOpenMetrics) == want + "# EOF\n");
}

TEST_CASE("an empty help has no HELP line; an empty registry is empty (OpenMetrics: # EOF)") {
  Registry r;
  CHECK(Expose(r.Collect(), Format::kPrometheusText).empty());
  CHECK(Expose(r.Collect(), Format::kOpenMetrics) == "# EOF\n");
  (*r.AddCounter("c", "")).Inc();
  CHECK(Expose(r.Collect(), Format::kPrometheusText) == "# TYPE c_total counter\nc_total 1\n");
  CHECK(Expose(r.Collect(), Format::kOpenMetrics) == "# TYPE c counter\nc_total 1\n# EOF\n");
}

TEST_CASE("a labelled family with no children yet is left out") {
  Registry r;
  CHECK(r.AddCounterFamily("c", "h", {"peer"}).ok());
  CHECK(r.AddHistogramFamily("h", "h", {"peer"}, {1}).ok());
  CHECK(r.Collect().families.empty());
}

TEST_CASE("histogram labels come before le; OpenMetrics le is canonical") {
  Registry r;
  HistogramFamily f = *r.AddHistogramFamily("h", "", {"peer"}, {0.5, 10, 1e6});
  (*f.WithLabels({"p"})).Observe(7);
  CHECK(Expose(r.Collect(), Format::kPrometheusText) ==
        "# TYPE h histogram\n"
        "h_bucket{peer=\"p\",le=\"0.5\"} 0\n"
        "h_bucket{peer=\"p\",le=\"10\"} 1\n"
        "h_bucket{peer=\"p\",le=\"1e+06\"} 1\n"
        "h_bucket{peer=\"p\",le=\"+Inf\"} 1\n"
        "h_sum{peer=\"p\"} 7\n"
        "h_count{peer=\"p\"} 1\n");
  CHECK(Expose(r.Collect(), Format::kOpenMetrics) ==
        "# TYPE h histogram\n"
        "h_bucket{peer=\"p\",le=\"0.5\"} 0\n"
        "h_bucket{peer=\"p\",le=\"10.0\"} 1\n"
        "h_bucket{peer=\"p\",le=\"1e+06\"} 1\n"
        "h_bucket{peer=\"p\",le=\"+Inf\"} 1\n"
        "h_count{peer=\"p\"} 1\n"
        "h_sum{peer=\"p\"} 7\n"
        "# EOF\n");
}

TEST_CASE("OpenMetrics leaves out _sum when a bucket bound is negative") {
  Registry r;
  Histogram h = *r.AddHistogram("t_celsius", "", {-10, 0, 10});
  h.Observe(-20);
  const std::string om = Expose(r.Collect(), Format::kOpenMetrics);
  CHECK(om.find("t_celsius_sum") == std::string::npos);
  CHECK(om.find("t_celsius_count 1\n") != std::string::npos);
  CHECK(om.find("t_celsius_bucket{le=\"-10.0\"} 1\n") != std::string::npos);
  CHECK(Expose(r.Collect(), Format::kPrometheusText).find("t_celsius_sum -20\n") !=
        std::string::npos);
}

TEST_CASE("formats have names and content types") {
  CHECK(ToString(Format::kPrometheusText) == "prometheus-text-0.0.4");
  CHECK(ToString(Format::kOpenMetrics) == "openmetrics-1.0.0");
  CHECK(ContentType(Format::kPrometheusText) == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(ContentType(Format::kOpenMetrics) ==
        "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

}  // namespace
}  // namespace meshvpn::metrics
