// MetricsHandler: a Registry served over the internal http library's Router (GET/HEAD /metrics),
// in the format the scraper's Accept header asks for.
#pragma once

#include "meshvpn/http/router.h"
#include "meshvpn/metrics/registry.h"

namespace meshvpn::metrics {

// Collects `registry` at every request and answers 200 with the negotiated format
// (Prometheus text 0.0.4, or OpenMetrics 1.0.0 when the Accept header prefers it) and
// "Cache-Control: no-store". `registry` must outlive the handler. Runs on the server's thread:
// every collector it reaches must be safe to read from there.
http::Router::Handler MetricsHandler(const Registry* registry);

}  // namespace meshvpn::metrics
