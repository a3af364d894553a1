#include "family.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "meshvpn/metrics/names.h"

namespace meshvpn::metrics::internal {

absl::StatusOr<std::vector<std::string>> Family::CheckValues(
    std::span<const std::string_view> values) const {
  if (values.size() != desc_.label_names.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s has %d label(s) (%s); got %d value(s)", desc_.name, desc_.label_names.size(),
        absl::StrJoin(desc_.label_names, ", "), values.size()));
  }
  std::vector<std::string> key;
  key.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (!IsValidUtf8(values[i])) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: the value of label %s is not UTF-8",
                                                        desc_.name, desc_.label_names[i]));
    }
    key.emplace_back(values[i]);
  }
  return key;
}

absl::StatusOr<Family::Child*> Family::StoredChild(std::span<const std::string_view> values) {
  auto key = CheckValues(values);
  if (!key.ok()) return key.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = children_.try_emplace(*std::move(key));
  Child& child = it->second;
  if (!inserted) {
    if (child.read) {
      return absl::AlreadyExistsError(
          absl::StrFormat("%s{%s}: these label values are read from a callback", desc_.name,
                          absl::StrJoin(it->first, ",")));
    }
    return &child;
  }
  switch (desc_.type) {
    case MetricType::kCounter:
      child.run = arena_->AllocateRun(1);
      break;
    case MetricType::kHistogram:
      child.run = arena_->AllocateRun(desc_.buckets.size() + 2);
      break;
    case MetricType::kGauge:
      child.gauge = arena_->AllocateGauge();
      break;
  }
  return &child;
}

absl::StatusOr<Cell*> Family::Run(std::span<const std::string_view> values) {
  auto child = StoredChild(values);
  if (!child.ok()) return child.status();
  return (*child)->run;
}

absl::StatusOr<GaugeCell*> Family::Gauge(std::span<const std::string_view> values) {
  auto child = StoredChild(values);
  if (!child.ok()) return child.status();
  return (*child)->gauge;
}

absl::Status Family::AddCallback(std::span<const std::string_view> values,
                                 std::function<Value()> read) {
  if (!read) return absl::InvalidArgumentError(absl::StrFormat("%s: empty callback", desc_.name));
  auto key = CheckValues(values);
  if (!key.ok()) return key.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = children_.try_emplace(*std::move(key));
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrFormat("%s{%s} is already registered", desc_.name, absl::StrJoin(it->first, ",")));
  }
  it->second.read = std::move(read);
  return absl::OkStatus();
}

FamilySnapshot Family::Collect() const {
  FamilySnapshot out;
  out.name = desc_.name;
  out.help = desc_.help;
  out.type = desc_.type;
  out.label_names = desc_.label_names;
  out.buckets = desc_.buckets;
  std::lock_guard<std::mutex> lock(mu_);
  out.series.reserve(children_.size());
  const size_t n = desc_.buckets.size();
  for (const auto& [values, child] : children_) {
    Series& s = out.series.emplace_back();
    s.label_values = values;
    if (child.read) {
      s.value = child.read();
    } else if (desc_.type == MetricType::kCounter) {
      s.value = SumRows(child.run, 0);
    } else if (desc_.type == MetricType::kGauge) {
      s.value = LoadDouble(child.gauge->bits);
    } else {
      s.histogram.cumulative.resize(n + 1);
      uint64_t running = 0;
      for (size_t i = 0; i <= n; ++i) {
        running += SumRows(child.run, i);
        s.histogram.cumulative[i] = running;
      }
      s.histogram.sum = SumRowsDouble(child.run, n + 1);
    }
  }
  return out;
}

}  // namespace meshvpn::metrics::internal
