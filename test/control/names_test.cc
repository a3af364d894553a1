// MagicDNS labels from hostnames, uniqueness suffixes, FQDNs, base domains.
#include "meshvpn/control/names.h"

#include <catch2/catch.hpp>
#include <set>

namespace meshvpn::control {
namespace {

TEST_CASE("DNS labels from hostnames", "[control][names]") {
  CHECK(DnsLabelFromHostname("laptop") == "laptop");
  CHECK(DnsLabelFromHostname("Bob's MacBook Pro") == "bobs-macbook-pro");
  CHECK(DnsLabelFromHostname("web_server__01") == "web-server-01");
  CHECK(DnsLabelFromHostname("laptop.local") == "laptop");
  CHECK(DnsLabelFromHostname("--weird--") == "weird");
  CHECK(DnsLabelFromHostname("") == "node");
  CHECK(DnsLabelFromHostname("!!!") == "node");
  CHECK(DnsLabelFromHostname("\xc3\xa9t\xc3\xa9") == "t");  // non-ASCII letters are dropped
  const std::string long_name(100, 'a');
  CHECK(DnsLabelFromHostname(long_name).size() == 63);
}

TEST_CASE("unique labels get a numeric suffix", "[control][names]") {
  std::set<std::string> taken{"laptop", "laptop-1"};
  auto is_taken = [&](std::string_view l) { return taken.contains(std::string(l)); };
  CHECK(UniqueDnsLabel("desktop", is_taken) == "desktop");
  CHECK(UniqueDnsLabel("laptop", is_taken) == "laptop-2");
  const std::string long_label(63, 'x');
  taken.insert(long_label);
  const std::string unique = UniqueDnsLabel(long_label, is_taken);
  CHECK(unique.size() == 63);
  CHECK(unique.ends_with("-1"));
}

TEST_CASE("FQDNs and base domains", "[control][names]") {
  CHECK(NodeFqdn("laptop", "mesh.internal") == "laptop.mesh.internal.");
  CHECK(IsValidBaseDomain("mesh.internal"));
  CHECK(IsValidBaseDomain("example"));
  CHECK_FALSE(IsValidBaseDomain(""));
  CHECK_FALSE(IsValidBaseDomain("mesh..internal"));
  CHECK_FALSE(IsValidBaseDomain("-mesh.internal"));
  CHECK_FALSE(IsValidBaseDomain("Mesh.Internal"));
  CHECK_FALSE(IsValidBaseDomain("mesh.internal."));
}

}  // namespace
}  // namespace meshvpn::control
