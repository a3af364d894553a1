#include "meshvpn/metrics/histogram.h"

#include "family.h"

namespace meshvpn::metrics {

uint64_t Histogram::count() const noexcept {
  uint64_t total = 0;
  for (size_t i = 0; i <= bucket_count_; ++i) total += internal::SumRows(cells_, i);
  return total;
}

double Histogram::sum() const noexcept {
  return internal::SumRowsDouble(cells_, bucket_count_ + 1);
}

absl::StatusOr<Histogram> HistogramFamily::WithLabels(
    std::initializer_list<std::string_view> values) const {
  return WithLabels(internal::AsSpan(values));
}

absl::StatusOr<Histogram> HistogramFamily::WithLabels(
    std::span<const std::string_view> values) const {
  auto run = family_->Run(values);
  if (!run.ok()) return run.status();
  const std::vector<double>& bounds = family_->desc().buckets;
  return Histogram(*run, bounds.data(), bounds.size());
}

const std::string& HistogramFamily::name() const { return family_->desc().name; }

const std::vector<double>& HistogramFamily::buckets() const { return family_->desc().buckets; }

std::vector<double> DefaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, size_t count) {
  std::vector<double> out;
  if (!(start > 0) || !(factor > 1) || count == 0) return out;
  out.reserve(count);
  double bound = start;
  for (size_t i = 0; i < count; ++i) {
    out.push_back(bound);
    bound *= factor;
  }
  return out;
}

std::vector<double> LinearBuckets(double start, double width, size_t count) {
  std::vector<double> out;
  if (!(width > 0) || count == 0) return out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(start + width * static_cast<double>(i));
  return out;
}

}  // namespace meshvpn::metrics
