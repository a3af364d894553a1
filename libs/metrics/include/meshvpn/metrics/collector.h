// Collectors: code that fills whole labelled families at scrape time from state it already has
// (a dynamic set of peers, drop counts by reason), declared once so names are checked up front.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "meshvpn/metrics/snapshot.h"
#include "meshvpn/metrics/value.h"

namespace meshvpn::metrics {

// A family a collector fills: validated and reserved when the collector is registered, exactly
// like a family registered directly.
struct FamilyDesc {
  std::string name;  // counters: with or without "_total"
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<std::string> label_names;
  std::vector<double> buckets;  // histograms: finite upper bounds, ascending (+Inf is implicit)
};

// What a collector writes into during one scrape. `family` indexes the collector's FamilyDesc
// list. Each Add returns false, and the series is left out, if the index, the type, the number
// of label values or the bucket count is wrong, or a label value is not UTF-8. If one family gets
// the same label values twice in a scrape, the first series is kept and the others dropped.
class CollectOutput {
 public:
  bool Add(size_t family, std::initializer_list<std::string_view> label_values, Value value);
  bool Add(size_t family, std::span<const std::string_view> label_values, Value value);
  // `bucket_counts`: observations per bucket, not cumulative, one per bound and then the count
  // above every bound (so buckets().size() + 1 of them).
  bool AddHistogram(size_t family, std::initializer_list<std::string_view> label_values,
                    std::span<const uint64_t> bucket_counts, double sum);
  bool AddHistogram(size_t family, std::span<const std::string_view> label_values,
                    std::span<const uint64_t> bucket_counts, double sum);
  // Series refused in this scrape.
  size_t rejected() const { return rejected_; }

 private:
  friend class Registry;
  explicit CollectOutput(std::vector<FamilySnapshot>* families) : families_(families) {}
  Series* NewSeries(size_t family, MetricType type, std::span<const std::string_view> values);
  std::vector<FamilySnapshot>* families_;
  size_t rejected_ = 0;
};

// The interface form of a collector (the registry also takes a list of FamilyDesc and a
// function). Collect() runs on the scraping thread with the registry's lock held: it must not
// call into the registry, and what it reads must be safe to read from that thread.
class Collector {
 public:
  virtual ~Collector() = default;
  // The families Collect() fills; asked once, at registration.
  virtual std::vector<FamilyDesc> Describe() const = 0;
  virtual void Collect(CollectOutput& out) = 0;
};

using CollectFn = std::function<void(CollectOutput&)>;
using CollectorId = uint64_t;

}  // namespace meshvpn::metrics
