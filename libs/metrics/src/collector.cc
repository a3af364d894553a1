#include "meshvpn/metrics/collector.h"

#include "meshvpn/metrics/names.h"

namespace meshvpn::metrics {
namespace {

std::span<const std::string_view> AsSpan(std::initializer_list<std::string_view> values) {
  return std::span<const std::string_view>(values.begin(), values.size());
}

}  // namespace

Series* CollectOutput::NewSeries(size_t family, MetricType type,
                                 std::span<const std::string_view> values) {
  if (family >= families_->size()) return nullptr;
  FamilySnapshot& f = (*families_)[family];
  if (f.type != type || values.size() != f.label_names.size()) return nullptr;
  for (std::string_view v : values) {
    if (!IsValidUtf8(v)) return nullptr;
  }
  Series& s = f.series.emplace_back();
  s.label_values.assign(values.begin(), values.end());
  return &s;
}

bool CollectOutput::Add(size_t family, std::initializer_list<std::string_view> label_values,
                        Value value) {
  return Add(family, AsSpan(label_values), value);
}

bool CollectOutput::Add(size_t family, std::span<const std::string_view> label_values,
                        Value value) {
  MetricType type = MetricType::kGauge;
  if (family < families_->size()) type = (*families_)[family].type;
  Series* s = type == MetricType::kHistogram ? nullptr : NewSeries(family, type, label_values);
  if (s == nullptr) {
    ++rejected_;
    return false;
  }
  s->value = value;
  return true;
}

bool CollectOutput::AddHistogram(size_t family,
                                 std::initializer_list<std::string_view> label_values,
                                 std::span<const uint64_t> bucket_counts, double sum) {
  return AddHistogram(family, AsSpan(label_values), bucket_counts, sum);
}

bool CollectOutput::AddHistogram(size_t family, std::span<const std::string_view> label_values,
                                 std::span<const uint64_t> bucket_counts, double sum) {
  if (family >= families_->size() ||
      bucket_counts.size() != (*families_)[family].buckets.size() + 1) {
    ++rejected_;
    return false;
  }
  Series* s = NewSeries(family, MetricType::kHistogram, label_values);
  if (s == nullptr) {
    ++rejected_;
    return false;
  }
  s->histogram.cumulative.resize(bucket_counts.size());
  uint64_t running = 0;
  for (size_t i = 0; i < bucket_counts.size(); ++i) {
    running += bucket_counts[i];
    s->histogram.cumulative[i] = running;
  }
  s->histogram.sum = sum;
  return true;
}

}  // namespace meshvpn::metrics
