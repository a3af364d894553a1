// Request-target splitting (http_parser_parse_url) and query parameters.
#include "meshvpn/http/request.h"

#include <http_parser.h>

namespace meshvpn::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool SplitTarget(std::string_view target, std::string* path, std::string* query) {
  path->clear();
  query->clear();
  if (target == "*") {
    path->assign(1, '*');
    return true;
  }
  if (target.empty() || target.size() > 0xffff) return false;
  http_parser_url url;
  http_parser_url_init(&url);
  if (http_parser_parse_url(target.data(), target.size(), 0, &url) != 0) return false;
  auto field = [&](int f) -> std::string_view {
    if ((url.field_set & (1 << f)) == 0) return {};
    return target.substr(url.field_data[f].off, url.field_data[f].len);
  };
  const std::string_view p = field(UF_PATH);
  // (assign, not operator= with a literal: GCC 12's -Wrestrict misfires on the latter)
  if (p.empty()) {
    path->assign(1, '/');
  } else {
    path->assign(p.data(), p.size());
  }
  const std::string_view q = field(UF_QUERY);
  query->assign(q.data(), q.size());
  return true;
}

std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (auto decoded_key = PercentDecode(key, true); decoded_key && *decoded_key == name) {
      return PercentDecode(value, true);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace meshvpn::http
