// Counters: a handle that adds without locks or allocation, and the labelled family it comes from.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/metrics/cells.h"
#include "meshvpn/metrics/value.h"

namespace meshvpn::metrics {

namespace internal {
class Family;
}

// A monotonically increasing count. Copy it freely; it is a pointer into the registry's cells and
// stays valid as long as the registry. Add() is one relaxed atomic add on the calling thread's
// shard: no lock, no allocation, no contention with other threads' shards.
class Counter {
 public:
  // A handle whose counts go nowhere (for components built without a registry).
  Counter() noexcept : cells_(internal::DiscardRun()) {}

  void Inc() const noexcept { Add(1); }
  void Add(uint64_t n) const noexcept {
    cells_[internal::RowOffset()].fetch_add(n, std::memory_order_relaxed);
  }
  // The total over all shards (for tests and tools; a scrape reads it the same way).
  uint64_t value() const noexcept { return internal::SumRows(cells_, 0); }

 private:
  friend class CounterFamily;
  explicit Counter(internal::Cell* cells) : cells_(cells) {}
  internal::Cell* cells_;
};

// A counter family: one name and help, label names, and one child per tuple of label values.
// Obtain children at setup (WithLabels allocates and locks); keep the handles for the hot path.
class CounterFamily {
 public:
  // The child for these label values (in label-name order), created on first use; the same tuple
  // always yields the same cells. InvalidArgument on a wrong count or invalid UTF-8.
  absl::StatusOr<Counter> WithLabels(std::initializer_list<std::string_view> values) const;
  absl::StatusOr<Counter> WithLabels(std::span<const std::string_view> values) const;
  // A child whose value is read from `read` at every scrape, on the scraping thread, instead of
  // being counted here (for stats a component keeps anyway). `read` must stay callable as long as
  // the registry, must not call into the registry, and must be monotonic to be a counter.
  absl::Status AddCallback(std::initializer_list<std::string_view> values,
                           std::function<Value()> read) const;
  absl::Status AddCallback(std::span<const std::string_view> values,
                           std::function<Value()> read) const;
  // The family's name without "_total".
  const std::string& name() const;

 private:
  friend class Registry;
  explicit CounterFamily(internal::Family* family) : family_(family) {}
  internal::Family* family_;
};

}  // namespace meshvpn::metrics
