// Quoting a configuration value for an error message, shared by the UAPI and wg-quick parsers.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace meshvpn::wg {

// The value C-escaped in double quotes, cut at 64 characters ("..." marks the cut). Only for
// values that are never secret (numbers, endpoints, prefixes, names): never for keys.
inline std::string Quote(std::string_view value) {
  constexpr size_t kMax = 64;
  const bool cut = value.size() > kMax;
  if (cut) value = value.substr(0, kMax);
  return absl::StrFormat("\"%s\"%s",
                         absl::CHexEscape(absl::string_view(value.data(), value.size())),
                         cut ? "..." : "");
}

}  // namespace meshvpn::wg
