// MagicDNS names: a node's DNS label made from the hostname it reports (lowercase letters,
// digits and hyphens, at most 63), made unique in the tailnet with a numeric suffix, and the FQDN
// under the tailnet's base domain.
#pragma once

#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"

namespace meshvpn::control {

// "Bob's MacBook Pro" → "bobs-macbook-pro"; "" or nothing usable → "node".
std::string DnsLabelFromHostname(std::string_view hostname);
// `label`, or "label-1", "label-2", ... (shortened to stay within 63) — the first for which
// `taken` is false.
std::string UniqueDnsLabel(std::string_view label, absl::FunctionRef<bool(std::string_view)> taken);
// "laptop" + "mesh.internal" → "laptop.mesh.internal." (Tailscale puts every node directly
// under the tailnet's domain; the user is not part of the name).
std::string NodeFqdn(std::string_view label, std::string_view base_domain);
// A base domain is one or more valid labels ("mesh.internal"); used to check configuration.
bool IsValidBaseDomain(std::string_view domain);

}  // namespace meshvpn::control
