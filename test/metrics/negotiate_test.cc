// Accept-header negotiation, table-driven: what real scrapers send, q ordering, malformed input.
#include "meshvpn/metrics/negotiate.h"

#include <catch2/catch.hpp>
#include <string>

namespace meshvpn::metrics {
namespace {

constexpr std::string_view kText = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kOm = "application/openmetrics-text; version=1.0.0; charset=utf-8";
constexpr std::string_view kOm001 = "application/openmetrics-text; version=0.0.1; charset=utf-8";

TEST_CASE("NegotiateFormat picks the best range we can serve") {
  const struct {
    const char* accept;
    std::string_view content_type;
  } cases[] = {
      // Prometheus 2.x (2.5 onwards) asks for OpenMetrics first.
      {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
       "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
       kOm},
      // Prometheus before 2.5: protobuf (not served), then text.
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
       "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1",
       kText},
      // curl, browsers, nothing at all.
      {"*/*", kText},
      {"", kText},
      {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", kText},
      {"text/plain", kText},
      {"text/*", kText},
      {"*", kText},
      {"application/openmetrics-text", kOm},
      {"application/openmetrics-text; version=0.0.1", kOm001},
      {"application/*", kOm},
      // q decides; a tie goes to the first listed.
      {"text/plain;q=0.5, application/openmetrics-text;q=0.6", kOm},
      {"application/openmetrics-text;q=0.5, text/plain;q=0.6", kText},
      {"text/plain;q=0.5, application/openmetrics-text;q=0.5", kText},
      {"application/openmetrics-text;q=0.5, text/plain;q=0.5", kOm},
      {"application/openmetrics-text;q=1.000, text/plain", kOm},
      // q=0 means "not this"; unknown versions are not served.
      {"application/openmetrics-text;q=0, text/plain;q=0.1", kText},
      {"application/openmetrics-text;version=2.0.0, text/plain;q=0.1", kText},
      {"text/plain;version=1.0.0, application/openmetrics-text;q=0.2", kOm},
      {"application/json", kText},
      // Case, spaces, quoted parameters.
      {"APPLICATION/OpenMetrics-Text ; Version=\"1.0.0\" ; Q=0.9", kOm},
      {"  text/plain ;version=0.0.4 , application/openmetrics-text;q=0.1", kText},
      {"application/openmetrics-text;foo=\"a,b;c\";q=0.9,text/plain;q=0.8", kOm},
      // Malformed: bad ranges are skipped, never an error.
      {"application/openmetrics-text;q=abc,text/plain;q=0.2", kText},
      {"application/openmetrics-text;q=1.5,text/plain;q=0.2", kText},
      {"application/openmetrics-text;q=-1,text/plain;q=0.2", kText},
      {"application/openmetrics-text;q=,text/plain;q=0.2", kText},
      {",,;,application/openmetrics-text", kOm},
      {"nonsense", kText},
      {"\"unterminated, application/openmetrics-text", kText},
  };
  for (const auto& c : cases) {
    INFO(c.accept);
    const Negotiation n = NegotiateFormat(c.accept);
    CHECK(n.content_type == c.content_type);
    CHECK(n.format == (c.content_type == kText ? Format::kPrometheusText : Format::kOpenMetrics));
  }
}

TEST_CASE("the negotiated content type names the body Expose writes") {
  CHECK(NegotiateFormat("application/openmetrics-text").content_type ==
        ContentType(Format::kOpenMetrics));
  CHECK(NegotiateFormat("text/plain").content_type == ContentType(Format::kPrometheusText));
}

}  // namespace
}  // namespace meshvpn::metrics
