#include "meshvpn/metrics/names.h"

#include <cstdint>

#include "absl/strings/str_format.h"

namespace meshvpn::metrics {
namespace {

bool IsFirstNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsNameChar(char c) { return IsFirstNameChar(c) || (c >= '0' && c <= '9'); }

// The offset of the first character that breaks [a-zA-Z_][a-zA-Z0-9_]*, or npos.
size_t FirstBadChar(std::string_view name) {
  for (size_t i = 0; i < name.size(); ++i) {
    if (i == 0 ? !IsFirstNameChar(name[i]) : !IsNameChar(name[i])) return i;
  }
  return std::string_view::npos;
}

}  // namespace

absl::Status ValidateMetricName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("metric name is empty");
  const size_t bad = FirstBadChar(name);
  if (bad == std::string_view::npos) return absl::OkStatus();
  if (name[bad] == ':') {
    return absl::InvalidArgumentError(absl::StrFormat(
        "metric name \"%s\": ':' is reserved for recording rules, not for exporters", name));
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "metric name \"%s\" has an invalid character at offset %d (want [a-zA-Z_][a-zA-Z0-9_]*)",
      name, bad));
}

absl::Status ValidateLabelName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("label name is empty");
  const size_t bad = FirstBadChar(name);
  if (bad != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "label name \"%s\" has an invalid character at offset %d (want [a-zA-Z_][a-zA-Z0-9_]*)",
        name, bad));
  }
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_') {
    return absl::InvalidArgumentError(
        absl::StrFormat("label name \"%s\": names starting with \"__\" are reserved", name));
  }
  return absl::OkStatus();
}

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string_view CounterBaseName(std::string_view name) {
  constexpr std::string_view kTotal = "_total";
  if (name.size() > kTotal.size() && name.substr(name.size() - kTotal.size()) == kTotal) {
    return name.substr(0, name.size() - kTotal.size());
  }
  return name;
}

std::string ReasonLabel(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '_') {
      if (!out.empty() && out.back() != '-') out.push_back('-');
    } else if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace meshvpn::metrics
