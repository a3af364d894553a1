// MagicDNS labels from hostnames, made unique, and FQDNs.
#include "meshvpn/control/names.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace meshvpn::control {
namespace {

constexpr size_t kMaxLabel = 63;

bool IsLabelChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

bool IsValidLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabel) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsLabelChar(c)) return false;
  }
  return true;
}

}  // namespace

std::string DnsLabelFromHostname(std::string_view hostname) {
  // Only the first DNS label of a hostname that is a FQDN ("laptop.local" → "laptop").
  hostname = hostname.substr(0, hostname.find('.'));
  std::string out;
  bool hyphen = false;
  for (char c : hostname) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (hyphen && !out.empty()) out.push_back('-');
      hyphen = false;
      out.push_back(c);
    } else if (c == '\'') {
      continue;  // "Bob's" → "bobs"
    } else {
      hyphen = true;  // spaces, underscores, anything else: one hyphen between words
    }
    if (out.size() >= kMaxLabel) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > kMaxLabel) out.resize(kMaxLabel);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "node" : out;
}

std::string UniqueDnsLabel(std::string_view label,
                           absl::FunctionRef<bool(std::string_view)> taken) {
  if (!taken(label)) return std::string(label);
  for (uint64_t n = 1;; ++n) {
    const std::string suffix = absl::StrCat("-", n);
    std::string base(label.substr(0, kMaxLabel - suffix.size()));
    while (!base.empty() && base.back() == '-') base.pop_back();
    std::string candidate = base + suffix;
    if (!taken(candidate)) return candidate;
  }
}

std::string NodeFqdn(std::string_view label, std::string_view base_domain) {
  return absl::StrCat(absl::string_view(label.data(), label.size()), ".",
                      absl::string_view(base_domain.data(), base_domain.size()), ".");
}

bool IsValidBaseDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 200) return false;
  for (absl::string_view label :
       absl::StrSplit(absl::string_view(domain.data(), domain.size()), '.')) {
    if (!IsValidLabel(std::string_view(label.data(), label.size()))) return false;
  }
  return true;
}

}  // namespace meshvpn::control
