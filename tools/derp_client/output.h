// derp_client's output helpers: human lines flushed as they are written (another program often
// reads them through a pipe), numbers with thousands separators, JSON strings.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace meshvpn::tools {

// printf to `out`, then fflush: each line reaches a pipe at once.
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
inline void
Say(std::FILE* out, const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vfprintf(out, format, args);
  va_end(args);
  std::fflush(out);
}

// 1234567 -> "1,234,567".
inline std::string WithThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// A JSON string literal (quotes included).
inline std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

// A finite double with `digits` decimals, or null (JSON has no NaN).
inline std::string JsonNumber(double v, int digits) {
  if (!(v == v) || v > 1e300 || v < -1e300) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace meshvpn::tools
