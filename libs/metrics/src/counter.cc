#include "meshvpn/metrics/counter.h"

#include "family.h"

namespace meshvpn::metrics {

absl::StatusOr<Counter> CounterFamily::WithLabels(
    std::initializer_list<std::string_view> values) const {
  return WithLabels(internal::AsSpan(values));
}

absl::StatusOr<Counter> CounterFamily::WithLabels(std::span<const std::string_view> values) const {
  auto run = family_->Run(values);
  if (!run.ok()) return run.status();
  return Counter(*run);
}

absl::Status CounterFamily::AddCallback(std::initializer_list<std::string_view> values,
                                        std::function<Value()> read) const {
  return family_->AddCallback(internal::AsSpan(values), std::move(read));
}

absl::Status CounterFamily::AddCallback(std::span<const std::string_view> values,
                                        std::function<Value()> read) const {
  return family_->AddCallback(values, std::move(read));
}

const std::string& CounterFamily::name() const { return family_->desc().name; }

}  // namespace meshvpn::metrics
