// Content negotiation for /metrics: from an HTTP Accept header value to the format to reply in.
#pragma once

#include <string_view>

#include "meshvpn/metrics/exposition.h"

namespace meshvpn::metrics {

struct Negotiation {
  Format format = Format::kPrometheusText;
  std::string_view content_type = kPrometheusTextContentType;  // for the Content-Type header
};

// Picks the acceptable media range with the highest q (the first listed on a tie):
// application/openmetrics-text with version 1.0.0 or none (OpenMetrics 1.0.0), or version 0.0.1
// (the same body, labelled 0.0.1, as client_golang does); text/plain with version 0.0.4 or none,
// text/* and */* (Prometheus text); application/* (OpenMetrics). q=0 excludes a range. Anything
// else, an empty or unparsable header: Prometheus text, the format every scraper reads. Never
// fails: a scraper always gets an answer it can read.
Negotiation NegotiateFormat(std::string_view accept);

}  // namespace meshvpn::metrics
