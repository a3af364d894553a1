// A registry's state at one scrape, as plain data: the input of the exposition formats.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "meshvpn/metrics/value.h"

namespace meshvpn::metrics {

// One histogram series: cumulative counts per bucket bound, then the +Inf bucket (== count).
struct HistogramPoint {
  std::vector<uint64_t> cumulative;
  double sum = 0;
  uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
};

// One series of a family: its label values (in the family's label-name order) and its value.
struct Series {
  std::vector<std::string> label_values;
  Value value;               // counters and gauges
  HistogramPoint histogram;  // histograms
};

struct FamilySnapshot {
  std::string name;  // a counter's name has no "_total": the exposition adds it to samples
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<std::string> label_names;
  std::vector<double> buckets;  // histograms: finite upper bounds, ascending (+Inf is implicit)
  std::vector<Series> series;   // sorted by label values
};

struct Snapshot {
  std::vector<FamilySnapshot> families;  // sorted by name
};

}  // namespace meshvpn::metrics
