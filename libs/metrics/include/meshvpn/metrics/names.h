// Prometheus naming rules for metric and label names, and the UTF-8 check for values and help.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace meshvpn::metrics {

// A metric name: [a-zA-Z_][a-zA-Z0-9_]*. Prometheus also allows ':', but reserves it for
// recording rules ("should not be used by exporters"), so it is refused here.
absl::Status ValidateMetricName(std::string_view name);
// A label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for Prometheus).
absl::Status ValidateLabelName(std::string_view name);
// Label values and help text may hold anything that is valid UTF-8.
bool IsValidUtf8(std::string_view text);
// A counter family's name: `name` without a trailing "_total" (the exposition adds it back).
std::string_view CounterBaseName(std::string_view name);
// A reason text ("bad fingerprint") as a label value in the style of every meshvpn reason label
// ("bad-fingerprint"): lower case, runs of spaces and underscores as one '-'.
std::string ReasonLabel(std::string_view text);

}  // namespace meshvpn::metrics
