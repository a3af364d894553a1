// The registry: where families and collectors are registered (names checked, duplicates refused)
// and where a scrape takes a Snapshot of everything.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/metrics/collector.h"
#include "meshvpn/metrics/counter.h"
#include "meshvpn/metrics/gauge.h"
#include "meshvpn/metrics/histogram.h"
#include "meshvpn/metrics/snapshot.h"

namespace meshvpn::metrics {

// Registration, collector removal and Collect() are thread-safe (one mutex, plus one per
// family); updates through the handles never touch either. The registry owns every family and
// cell: handles stay valid as long as it lives, and it neither moves nor copies.
//
// Names: a counter family "x" (given as "x" or "x_total") reserves x, x_total and x_created; a
// histogram "h" reserves h, h_bucket, h_sum, h_count and h_created; a gauge its name. A name a
// family would reserve that another already holds is AlreadyExists.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  absl::StatusOr<CounterFamily> AddCounterFamily(std::string_view name, std::string_view help,
                                                 std::vector<std::string> label_names);
  absl::StatusOr<GaugeFamily> AddGaugeFamily(std::string_view name, std::string_view help,
                                             std::vector<std::string> label_names);
  // `buckets`: finite upper bounds, strictly ascending, 1..kMaxBuckets of them (a trailing +Inf
  // is accepted and dropped). Label names may not include "le".
  absl::StatusOr<HistogramFamily> AddHistogramFamily(std::string_view name, std::string_view help,
                                                     std::vector<std::string> label_names,
                                                     std::vector<double> buckets);

  // Families without labels, and their one child.
  absl::StatusOr<Counter> AddCounter(std::string_view name, std::string_view help);
  absl::StatusOr<Gauge> AddGauge(std::string_view name, std::string_view help);
  absl::StatusOr<Histogram> AddHistogram(std::string_view name, std::string_view help,
                                         std::vector<double> buckets);
  // Unlabelled metrics read from a function at every scrape (see CounterFamily::AddCallback).
  absl::Status AddCounterCallback(std::string_view name, std::string_view help,
                                  std::function<Value()> read);
  absl::Status AddGaugeCallback(std::string_view name, std::string_view help,
                                std::function<Value()> read);

  // A collector filling `families` at every scrape. Every family is validated and reserved now.
  absl::StatusOr<CollectorId> AddCollector(std::vector<FamilyDesc> families, CollectFn collect);
  // The same for the interface form; `collector` must outlive the registry or be removed first.
  absl::StatusOr<CollectorId> AddCollector(Collector* collector);
  // Unregisters a collector and frees its names. When it returns, no Collect() of it is running
  // or will run. Unknown ids are ignored.
  void RemoveCollector(CollectorId id);

  // Everything now: families sorted by name, series by label values. Runs every callback and
  // collector on the calling thread. Families without any series are left out.
  Snapshot Collect() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshvpn::metrics
