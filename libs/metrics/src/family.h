// A family's children (one per tuple of label values) and how each is read at a scrape. Shared by
// the counter, gauge and histogram families; private to the library.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/metrics/cells.h"
#include "meshvpn/metrics/collector.h"
#include "meshvpn/metrics/snapshot.h"

namespace meshvpn::metrics::internal {

class Family {
 public:
  // `desc` is already validated; a counter's name has no "_total".
  Family(FamilyDesc desc, CellArena* arena) : desc_(std::move(desc)), arena_(arena) {}

  const FamilyDesc& desc() const { return desc_; }

  // The cells of the child with these label values, created zeroed on first use: a counter's one
  // cell, a histogram's buckets + 2 cells (Histogram's layout).
  absl::StatusOr<Cell*> Run(std::span<const std::string_view> values);
  absl::StatusOr<GaugeCell*> Gauge(std::span<const std::string_view> values);
  // A child read from `read` at each scrape. AlreadyExists if the tuple has a child already.
  absl::Status AddCallback(std::span<const std::string_view> values, std::function<Value()> read);

  // The family's series now (runs the callbacks, under this family's lock).
  FamilySnapshot Collect() const;

 private:
  struct Child {
    Cell* run = nullptr;
    GaugeCell* gauge = nullptr;
    std::function<Value()> read;
  };
  absl::StatusOr<std::vector<std::string>> CheckValues(
      std::span<const std::string_view> values) const;
  // Finds or makes the stored (not callback) child for `values`.
  absl::StatusOr<Child*> StoredChild(std::span<const std::string_view> values);

  const FamilyDesc desc_;
  CellArena* const arena_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, Child> children_;  // sorted: the exposition order
};

// std::span over an initializer_list, for the public overloads.
inline std::span<const std::string_view> AsSpan(std::initializer_list<std::string_view> values) {
  return std::span<const std::string_view>(values.begin(), values.size());
}

}  // namespace meshvpn::metrics::internal
