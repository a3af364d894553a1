// Gauges: a value that goes up and down or is set, and the labelled family it comes from.
#pragma once

#include <atomic>
#include <bit>
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

// A double on its own cache line. Set() is one relaxed store; Add() a compare-and-swap loop. No
// lock, no allocation. Valid as long as the registry; copy it freely.
class Gauge {
 public:
  // A handle whose values go nowhere (for components built without a registry).
  Gauge() noexcept : cell_(internal::DiscardGauge()) {}

  void Set(double v) const noexcept {
    cell_->bits.store(std::bit_cast<uint64_t>(v), std::memory_order_relaxed);
  }
  void Add(double delta) const noexcept { internal::AddDouble(cell_->bits, delta); }
  void Sub(double delta) const noexcept { Add(-delta); }
  void Inc() const noexcept { Add(1); }
  void Dec() const noexcept { Add(-1); }
  double value() const noexcept { return internal::LoadDouble(cell_->bits); }

 private:
  friend class GaugeFamily;
  explicit Gauge(internal::GaugeCell* cell) : cell_(cell) {}
  internal::GaugeCell* cell_;
};

// A gauge family: one name and help, label names, one child per tuple of label values. Obtain
// children at setup; keep the handles for the hot path.
class GaugeFamily {
 public:
  absl::StatusOr<Gauge> WithLabels(std::initializer_list<std::string_view> values) const;
  absl::StatusOr<Gauge> WithLabels(std::span<const std::string_view> values) const;
  // A child read from `read` at every scrape, on the scraping thread (see CounterFamily).
  absl::Status AddCallback(std::initializer_list<std::string_view> values,
                           std::function<Value()> read) const;
  absl::Status AddCallback(std::span<const std::string_view> values,
                           std::function<Value()> read) const;
  const std::string& name() const;

 private:
  friend class Registry;
  explicit GaugeFamily(internal::Family* family) : family_(family) {}
  internal::Family* family_;
};

}  // namespace meshvpn::metrics
