#include "meshvpn/metrics/exposition.h"

#include <cmath>
#include <optional>

#include "text_writer.h"

namespace meshvpn::metrics {
namespace {

using internal::AppendCanonicalDouble;
using internal::AppendDouble;
using internal::AppendEscapedHelp;
using internal::AppendEscapedLabelValue;
using internal::AppendValue;

class FamilyWriter {
 public:
  FamilyWriter(const FamilySnapshot& f, Format format, std::string* out)
      : f_(f), om_(format == Format::kOpenMetrics), out_(out) {}

  void Write() {
    WriteMetadata();
    for (const Series& s : f_.series) {
      switch (f_.type) {
        case MetricType::kCounter:
          Sample("_total", s, std::nullopt);
          AppendValue(s.value, out_);
          out_->push_back('\n');
          break;
        case MetricType::kGauge:
          Sample("", s, std::nullopt);
          AppendValue(s.value, out_);
          out_->push_back('\n');
          break;
        case MetricType::kHistogram:
          WriteHistogram(s);
          break;
      }
    }
  }

 private:
  // Prometheus text: HELP then TYPE, naming a counter's samples (x_total). OpenMetrics: TYPE then
  // HELP, naming the family (x).
  void WriteMetadata() {
    const std::string_view suffix = (!om_ && f_.type == MetricType::kCounter) ? "_total" : "";
    auto help = [&] {
      if (f_.help.empty()) return;
      out_->append("# HELP ").append(f_.name).append(suffix).push_back(' ');
      AppendEscapedHelp(f_.help, om_, out_);
      out_->push_back('\n');
    };
    auto type = [&] {
      out_->append("# TYPE ").append(f_.name).append(suffix).push_back(' ');
      out_->append(ToString(f_.type)).push_back('\n');
    };
    if (om_) {
      type();
      help();
    } else {
      help();
      type();
    }
  }

  // Writes "name<suffix>{labels[,le="bound"]} ", up to the value.
  void Sample(std::string_view suffix, const Series& s, std::optional<double> le) {
    out_->append(f_.name).append(suffix);
    if (!f_.label_names.empty() || le.has_value()) {
      out_->push_back('{');
      for (size_t i = 0; i < f_.label_names.size(); ++i) {
        if (i > 0) out_->push_back(',');
        out_->append(f_.label_names[i]).push_back('=');
        AppendEscapedLabelValue(s.label_values[i], out_);
      }
      if (le.has_value()) {
        if (!f_.label_names.empty()) out_->push_back(',');
        out_->append("le=\"");
        if (om_) {
          AppendCanonicalDouble(*le, out_);
        } else {
          AppendDouble(*le, out_);
        }
        out_->push_back('"');
      }
      out_->push_back('}');
    }
    out_->push_back(' ');
  }

  void WriteHistogram(const Series& s) {
    const HistogramPoint& h = s.histogram;
    for (size_t i = 0; i < f_.buckets.size(); ++i) {
      Sample("_bucket", s, f_.buckets[i]);
      AppendValue(i < h.cumulative.size() ? h.cumulative[i] : 0, out_);
      out_->push_back('\n');
    }
    Sample("_bucket", s, INFINITY);
    AppendValue(h.count(), out_);
    out_->push_back('\n');
    // OpenMetrics: the sum is a counter, which a histogram with negative bounds cannot promise.
    const bool sum = !om_ || f_.buckets.empty() || f_.buckets.front() >= 0;
    if (!om_) WriteSum(s);
    Sample("_count", s, std::nullopt);
    AppendValue(h.count(), out_);
    out_->push_back('\n');
    if (om_ && sum) WriteSum(s);
  }

  void WriteSum(const Series& s) {
    Sample("_sum", s, std::nullopt);
    AppendDouble(s.histogram.sum, out_);
    out_->push_back('\n');
  }

  const FamilySnapshot& f_;
  const bool om_;
  std::string* out_;
};

}  // namespace

std::string_view ToString(Format format) {
  switch (format) {
    case Format::kPrometheusText:
      return "prometheus-text-0.0.4";
    case Format::kOpenMetrics:
      return "openmetrics-1.0.0";
  }
  return "unknown";
}

std::string_view ContentType(Format format) {
  return format == Format::kOpenMetrics ? kOpenMetricsContentType : kPrometheusTextContentType;
}

void AppendExposition(const Snapshot& snapshot, Format format, std::string* out) {
  for (const FamilySnapshot& f : snapshot.families) FamilyWriter(f, format, out).Write();
  if (format == Format::kOpenMetrics) out->append("# EOF\n");
}

std::string Expose(const Snapshot& snapshot, Format format) {
  std::string out;
  // Roughly 64 bytes per sample line, so one allocation for most registries.
  size_t lines = 0;
  for (const FamilySnapshot& f : snapshot.families) {
    lines += 2 + f.series.size() * (f.type == MetricType::kHistogram ? f.buckets.size() + 3 : 1);
  }
  out.reserve(lines * 64);
  AppendExposition(snapshot, format, &out);
  return out;
}

}  // namespace meshvpn::metrics
