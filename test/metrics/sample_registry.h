// A registry with one of everything (labelled and plain counters, gauges, a histogram, callbacks,
// a collector, values that need escaping, NaN and infinities), fixed values, for the golden
// exposition tests and for `promtool check metrics`.
#pragma once

#include <memory>

#include "meshvpn/metrics/registry.h"

namespace meshvpn::metrics::testing {

// Registers and fills the sample metrics.
std::unique_ptr<Registry> MakeSampleRegistry();

}  // namespace meshvpn::metrics::testing
