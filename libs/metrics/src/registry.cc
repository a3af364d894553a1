#include "meshvpn/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "family.h"
#include "meshvpn/base/status.h"
#include "meshvpn/metrics/names.h"

namespace meshvpn::metrics {
namespace {

struct CollectorEntry {
  CollectorId id;
  std::vector<FamilyDesc> families;  // normalized
  CollectFn collect;
};

absl::Status CheckBuckets(std::string_view name, std::vector<double>* buckets) {
  if (!buckets->empty() && buckets->back() == INFINITY) buckets->pop_back();
  if (buckets->empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("histogram %s needs at least one finite bucket bound", name));
  }
  if (buckets->size() > kMaxBuckets) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "histogram %s has %d bucket bounds; at most %d", name, buckets->size(), kMaxBuckets));
  }
  for (size_t i = 0; i < buckets->size(); ++i) {
    const double b = (*buckets)[i];
    if (!std::isfinite(b)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("histogram %s: bucket bound %d is not finite", name, i));
    }
    if (i > 0 && !((*buckets)[i - 1] < b)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("histogram %s: bucket bounds must be strictly ascending (%g then %g)",
                          name, (*buckets)[i - 1], b));
    }
  }
  return absl::OkStatus();
}

// Validates a family and brings it to its stored form (a counter loses "_total").
absl::StatusOr<FamilyDesc> Normalize(FamilyDesc desc) {
  MESHVPN_RETURN_IF_ERROR(ValidateMetricName(desc.name));
  if (desc.type == MetricType::kCounter) desc.name = std::string(CounterBaseName(desc.name));
  if (!IsValidUtf8(desc.help)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: help is not UTF-8", desc.name));
  }
  std::set<std::string_view> seen;
  for (const std::string& label : desc.label_names) {
    MESHVPN_RETURN_IF_ERROR(ValidateLabelName(label));
    if (!seen.insert(label).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: label name %s appears twice", desc.name, label));
    }
    if (desc.type == MetricType::kHistogram && label == "le") {
      return absl::InvalidArgumentError(
          absl::StrFormat("histogram %s: label name \"le\" is reserved for buckets", desc.name));
    }
  }
  if (desc.type == MetricType::kHistogram) {
    MESHVPN_RETURN_IF_ERROR(CheckBuckets(desc.name, &desc.buckets));
  } else if (!desc.buckets.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: only histograms have bucket bounds", desc.name));
  }
  return desc;
}

// The sample names a family would produce, and its own name: no other family may use them.
std::vector<std::string> ReservedNames(const FamilyDesc& desc) {
  const std::string& n = desc.name;
  switch (desc.type) {
    case MetricType::kCounter:
      return {n, n + "_total", n + "_created"};
    case MetricType::kHistogram:
      return {n, n + "_bucket", n + "_sum", n + "_count", n + "_created"};
    case MetricType::kGauge:
      break;
  }
  return {n};
}

bool SeriesLess(const Series& a, const Series& b) { return a.label_values < b.label_values; }

}  // namespace

struct Registry::Impl {
  mutable std::mutex mu;
  internal::CellArena arena;
  std::map<std::string, std::unique_ptr<internal::Family>> families;  // by name
  absl::flat_hash_map<std::string, std::string> taken;  // reserved name -> family holding it
  std::vector<CollectorEntry> collectors;
  CollectorId next_id = 1;

  // Checks that none of `descs` (normalized) collides with a registered name or with another of
  // them, then reserves their names. Called with mu held.
  absl::Status Reserve(const std::vector<FamilyDesc>& descs) {
    absl::flat_hash_map<std::string, std::string> mine;
    for (const FamilyDesc& d : descs) {
      for (std::string& name : ReservedNames(d)) {
        const std::string* owner = nullptr;
        if (auto it = taken.find(name); it != taken.end()) {
          owner = &it->second;
        } else if (auto jt = mine.find(name); jt != mine.end()) {
          owner = &jt->second;
        }
        if (owner != nullptr) {
          return absl::AlreadyExistsError(absl::StrFormat(
              "metric %s: the name %s is already taken by %s", d.name, name, *owner));
        }
        mine.emplace(std::move(name), absl::StrFormat("%s %s", ToString(d.type), d.name));
      }
    }
    for (auto& [name, owner] : mine) taken.emplace(name, std::move(owner));
    return absl::OkStatus();
  }

  void Release(const std::vector<FamilyDesc>& descs) {
    for (const FamilyDesc& d : descs) {
      for (const std::string& name : ReservedNames(d)) taken.erase(name);
    }
  }

  absl::StatusOr<internal::Family*> AddFamily(FamilyDesc desc) {
    MESHVPN_ASSIGN_OR_RETURN(desc, Normalize(std::move(desc)));
    std::lock_guard<std::mutex> lock(mu);
    MESHVPN_RETURN_IF_ERROR(Reserve({desc}));
    std::string name = desc.name;
    auto family = std::make_unique<internal::Family>(std::move(desc), &arena);
    internal::Family* raw = family.get();
    families.emplace(std::move(name), std::move(family));
    return raw;
  }
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

absl::StatusOr<CounterFamily> Registry::AddCounterFamily(std::string_view name,
                                                         std::string_view help,
                                                         std::vector<std::string> label_names) {
  MESHVPN_ASSIGN_OR_RETURN(internal::Family * f, impl_->AddFamily({std::string(name),
                                                                   std::string(help),
                                                                   MetricType::kCounter,
                                                                   std::move(label_names),
                                                                   {}}));
  return CounterFamily(f);
}

absl::StatusOr<GaugeFamily> Registry::AddGaugeFamily(std::string_view name, std::string_view help,
                                                     std::vector<std::string> label_names) {
  MESHVPN_ASSIGN_OR_RETURN(
      internal::Family * f,
      impl_->AddFamily(
          {std::string(name), std::string(help), MetricType::kGauge, std::move(label_names), {}}));
  return GaugeFamily(f);
}

absl::StatusOr<HistogramFamily> Registry::AddHistogramFamily(std::string_view name,
                                                             std::string_view help,
                                                             std::vector<std::string> label_names,
                                                             std::vector<double> buckets) {
  MESHVPN_ASSIGN_OR_RETURN(
      internal::Family * f,
      impl_->AddFamily({std::string(name), std::string(help), MetricType::kHistogram,
                        std::move(label_names), std::move(buckets)}));
  return HistogramFamily(f);
}

absl::StatusOr<Counter> Registry::AddCounter(std::string_view name, std::string_view help) {
  MESHVPN_ASSIGN_OR_RETURN(CounterFamily f, AddCounterFamily(name, help, {}));
  return f.WithLabels({});
}

absl::StatusOr<Gauge> Registry::AddGauge(std::string_view name, std::string_view help) {
  MESHVPN_ASSIGN_OR_RETURN(GaugeFamily f, AddGaugeFamily(name, help, {}));
  return f.WithLabels({});
}

absl::StatusOr<Histogram> Registry::AddHistogram(std::string_view name, std::string_view help,
                                                 std::vector<double> buckets) {
  MESHVPN_ASSIGN_OR_RETURN(HistogramFamily f,
                           AddHistogramFamily(name, help, {}, std::move(buckets)));
  return f.WithLabels({});
}

absl::Status Registry::AddCounterCallback(std::string_view name, std::string_view help,
                                          std::function<Value()> read) {
  if (!read) return absl::InvalidArgumentError(absl::StrFormat("%s: empty callback", name));
  MESHVPN_ASSIGN_OR_RETURN(CounterFamily f, AddCounterFamily(name, help, {}));
  return f.AddCallback({}, std::move(read));
}

absl::Status Registry::AddGaugeCallback(std::string_view name, std::string_view help,
                                        std::function<Value()> read) {
  if (!read) return absl::InvalidArgumentError(absl::StrFormat("%s: empty callback", name));
  MESHVPN_ASSIGN_OR_RETURN(GaugeFamily f, AddGaugeFamily(name, help, {}));
  return f.AddCallback({}, std::move(read));
}

absl::StatusOr<CollectorId> Registry::AddCollector(std::vector<FamilyDesc> families,
                                                   CollectFn collect) {
  if (!collect) return absl::InvalidArgumentError("collector: empty collect function");
  if (families.empty()) return absl::InvalidArgumentError("collector: no families");
  for (FamilyDesc& d : families) {
    MESHVPN_ASSIGN_OR_RETURN(d, Normalize(std::move(d)));
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  MESHVPN_RETURN_IF_ERROR(impl_->Reserve(families));
  const CollectorId id = impl_->next_id++;
  impl_->collectors.push_back({id, std::move(families), std::move(collect)});
  return id;
}

absl::StatusOr<CollectorId> Registry::AddCollector(Collector* collector) {
  if (collector == nullptr) return absl::InvalidArgumentError("collector: null");
  return AddCollector(collector->Describe(),
                      [collector](CollectOutput& out) { collector->Collect(out); });
}

void Registry::RemoveCollector(CollectorId id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& list = impl_->collectors;
  auto it = std::find_if(list.begin(), list.end(), [id](const auto& c) { return c.id == id; });
  if (it == list.end()) return;
  impl_->Release(it->families);
  list.erase(it);
}

Snapshot Registry::Collect() const {
  Snapshot snap;
  std::lock_guard<std::mutex> lock(impl_->mu);
  snap.families.reserve(impl_->families.size());
  for (const auto& [name, family] : impl_->families) {
    FamilySnapshot f = family->Collect();
    if (!f.series.empty()) snap.families.push_back(std::move(f));
  }
  for (const CollectorEntry& c : impl_->collectors) {
    std::vector<FamilySnapshot> out(c.families.size());
    for (size_t i = 0; i < c.families.size(); ++i) {
      const FamilyDesc& d = c.families[i];
      out[i].name = d.name;
      out[i].help = d.help;
      out[i].type = d.type;
      out[i].label_names = d.label_names;
      out[i].buckets = d.buckets;
    }
    CollectOutput writer(&out);
    c.collect(writer);
    for (FamilySnapshot& f : out) {
      // Sorted for a stable exposition; a repeated tuple keeps its first series.
      std::stable_sort(f.series.begin(), f.series.end(), SeriesLess);
      auto dup = std::unique(f.series.begin(), f.series.end(), [](const auto& a, const auto& b) {
        return a.label_values == b.label_values;
      });
      f.series.erase(dup, f.series.end());
      if (!f.series.empty()) snap.families.push_back(std::move(f));
    }
  }
  std::sort(snap.families.begin(), snap.families.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return snap;
}

}  // namespace meshvpn::metrics
