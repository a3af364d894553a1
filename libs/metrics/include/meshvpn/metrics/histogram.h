// Histograms: observations counted into fixed buckets (Prometheus `le` semantics), their family,
// and helpers that make bucket bounds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/metrics/cells.h"

namespace meshvpn::metrics {

namespace internal {
class Family;
}

// Most bucket bounds a histogram may have (its cells must fit in one row of a cell block).
inline constexpr size_t kMaxBuckets = 256;

// Observe(v) counts v in the first bucket whose upper bound is >= v (a value equal to a bound
// belongs to that bound's bucket; NaN and values above every bound go to +Inf) and adds v to the
// sum: two relaxed atomic operations on the calling thread's shard, after a binary search. No
// lock, no allocation. Valid as long as the registry; copy it freely.
class Histogram {
 public:
  // A handle whose observations go nowhere (for components built without a registry).
  Histogram() noexcept : cells_(internal::DiscardRun()) {}

  void Observe(double v) const noexcept {
    size_t lo = 0;
    size_t hi = bucket_count_;
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (bounds_[mid] >= v) {
        hi = mid;
      } else {
        lo = mid + 1;  // also for NaN, which compares false: it ends in +Inf
      }
    }
    internal::Cell* row = cells_ + internal::RowOffset();
    row[lo].fetch_add(1, std::memory_order_relaxed);
    internal::AddDouble(row[bucket_count_ + 1], v);
  }

  // Observations so far, and their sum (for tests and tools).
  uint64_t count() const noexcept;
  double sum() const noexcept;

 private:
  friend class HistogramFamily;
  Histogram(internal::Cell* cells, const double* bounds, size_t bucket_count)
      : cells_(cells), bounds_(bounds), bucket_count_(bucket_count) {}
  // Per row: one count per bound, the +Inf count, then the sum (a double's bits).
  internal::Cell* cells_;
  const double* bounds_ = nullptr;
  size_t bucket_count_ = 0;
};

// A histogram family: one name, help, label names and bucket bounds shared by every child.
class HistogramFamily {
 public:
  absl::StatusOr<Histogram> WithLabels(std::initializer_list<std::string_view> values) const;
  absl::StatusOr<Histogram> WithLabels(std::span<const std::string_view> values) const;
  const std::string& name() const;
  // The finite upper bounds, ascending.
  const std::vector<double>& buckets() const;

 private:
  friend class Registry;
  explicit HistogramFamily(internal::Family* family) : family_(family) {}
  internal::Family* family_;
};

// Prometheus' default bounds, for latencies in seconds: 0.005 ... 10.
std::vector<double> DefaultBuckets();
// `count` bounds start, start*factor, start*factor^2, ... (start > 0, factor > 1, count >= 1;
// otherwise empty, which registration refuses).
std::vector<double> ExponentialBuckets(double start, double factor, size_t count);
// `count` bounds start, start+width, ... (width > 0, count >= 1; otherwise empty).
std::vector<double> LinearBuckets(double start, double width, size_t count);

}  // namespace meshvpn::metrics
