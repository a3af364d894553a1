#include "meshvpn/metrics/gauge.h"

#include "family.h"

namespace meshvpn::metrics {

absl::StatusOr<Gauge> GaugeFamily::WithLabels(
    std::initializer_list<std::string_view> values) const {
  return WithLabels(internal::AsSpan(values));
}

absl::StatusOr<Gauge> GaugeFamily::WithLabels(std::span<const std::string_view> values) const {
  auto cell = family_->Gauge(values);
  if (!cell.ok()) return cell.status();
  return Gauge(*cell);
}

absl::Status GaugeFamily::AddCallback(std::initializer_list<std::string_view> values,
                                      std::function<Value()> read) const {
  return family_->AddCallback(internal::AsSpan(values), std::move(read));
}

absl::Status GaugeFamily::AddCallback(std::span<const std::string_view> values,
                                      std::function<Value()> read) const {
  return family_->AddCallback(values, std::move(read));
}

const std::string& GaugeFamily::name() const { return family_->desc().name; }

}  // namespace meshvpn::metrics
