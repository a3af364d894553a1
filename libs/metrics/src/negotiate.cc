#include "meshvpn/metrics/negotiate.h"

#include <optional>
#include <string>
#include <vector>

namespace meshvpn::metrics {
namespace {

constexpr std::string_view kOpenMetrics001ContentType =
    "application/openmetrics-text; version=0.0.1; charset=utf-8";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Splits on `sep` outside double-quoted strings (a backslash escapes the next character in one).
std::vector<std::string_view> SplitUnquoted(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == sep && !quoted) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(std::min(start, s.size())));
  return parts;
}

std::string Unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
  std::string out;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '\\' && i + 2 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

// RFC 9110's qvalue, leniently: digits, optionally '.' and digits, between 0 and 1.
std::optional<double> ParseQ(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double value = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    value = value * 10 + (s[i] - '0');
    if (value > 1) return std::nullopt;
  }
  if (i == 0) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != '.') return std::nullopt;
    double scale = 0.1;
    for (++i; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      value += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (value > 1) return std::nullopt;
  return value;
}

struct MediaRange {
  std::string type;  // "text/plain", lower case
  std::string version;
  double q = 1;
};

std::optional<MediaRange> ParseRange(std::string_view text) {
  const std::vector<std::string_view> parts = SplitUnquoted(text, ';');
  MediaRange range;
  range.type = Lower(Trim(parts[0]));
  if (range.type == "*") range.type = "*/*";
  if (range.type.empty() || range.type.find('/') == std::string::npos) return std::nullopt;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string_view param = Trim(parts[i]);
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = Lower(Trim(param.substr(0, eq)));
    const std::string value = Unquote(Trim(param.substr(eq + 1)));
    if (name == "q") {
      const std::optional<double> q = ParseQ(value);
      if (!q) return std::nullopt;
      range.q = *q;
    } else if (name == "version") {
      range.version = value;
    }
  }
  return range;
}

// What we would reply to a range, if we can serve it at all.
std::optional<Negotiation> Classify(const MediaRange& r) {
  const Negotiation text{Format::kPrometheusText, kPrometheusTextContentType};
  const Negotiation om{Format::kOpenMetrics, kOpenMetricsContentType};
  if (r.type == "application/openmetrics-text") {
    if (r.version.empty() || r.version == "1.0.0") return om;
    if (r.version == "0.0.1") return Negotiation{Format::kOpenMetrics, kOpenMetrics001ContentType};
    return std::nullopt;
  }
  if (r.type == "text/plain") {
    if (r.version.empty() || r.version == "0.0.4") return text;
    return std::nullopt;
  }
  if (r.type == "text/*" || r.type == "*/*") return text;
  if (r.type == "application/*") return om;
  return std::nullopt;
}

}  // namespace

Negotiation NegotiateFormat(std::string_view accept) {
  Negotiation best;
  double best_q = 0;
  for (std::string_view part : SplitUnquoted(accept, ',')) {
    if (Trim(part).empty()) continue;
    const std::optional<MediaRange> range = ParseRange(part);
    if (!range || range->q <= best_q) continue;
    if (const std::optional<Negotiation> reply = Classify(*range)) {
      best = *reply;
      best_q = range->q;
    }
  }
  return best;
}

}  // namespace meshvpn::metrics
