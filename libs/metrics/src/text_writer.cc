#include "text_writer.h"

#include <charconv>
#include <cmath>

namespace meshvpn::metrics::internal {

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    const auto result = std::to_chars(buf, buf + sizeof(buf), v);
    out->append(buf, result.ptr);
  }
}

void AppendCanonicalDouble(double v, std::string* out) {
  const size_t start = out->size();
  AppendDouble(v, out);
  if (!std::isfinite(v)) return;
  if (out->find_first_of(".e", start) == std::string::npos) out->append(".0");
}

void AppendValue(const Value& v, std::string* out) {
  if (!v.is_integer()) {
    AppendDouble(v.real(), out);
    return;
  }
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v.integer());
  out->append(buf, result.ptr);
}

void AppendEscapedLabelValue(std::string_view v, std::string* out) {
  out->push_back('"');
  for (char c : v) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendEscapedHelp(std::string_view help, bool escape_quotes, std::string* out) {
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && escape_quotes) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace meshvpn::metrics::internal
