// The text exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0.0, as pure functions
// from a Snapshot to the bytes of a /metrics response body.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "meshvpn/metrics/snapshot.h"

namespace meshvpn::metrics {

enum class Format : uint8_t {
  kPrometheusText,  // text/plain; version=0.0.4
  kOpenMetrics,     // application/openmetrics-text; version=1.0.0
};
std::string_view ToString(Format format);  // "prometheus-text-0.0.4", "openmetrics-1.0.0"

inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
std::string_view ContentType(Format format);

// The body for `snapshot` in `format`. Prometheus text: HELP and TYPE per family (a counter's
// TYPE line names its samples, "x_total"), label values escaped (\\ \" \n), help escaped (\\ \n),
// histograms as _bucket{le=...} / _sum / _count. OpenMetrics: a counter family's TYPE and HELP
// name it without "_total", help also escapes '"', `le` is a canonical float ("1.0"), _sum is
// left out when a bound is negative, and the body ends with "# EOF".
std::string Expose(const Snapshot& snapshot, Format format);
// The same, appended to `out` (to reuse a buffer).
void AppendExposition(const Snapshot& snapshot, Format format, std::string* out);

}  // namespace meshvpn::metrics
