// PacketFilter on its own: the lookup allocates nothing (it runs per packet), edge ports and
// families, ICMP's any-rule-covers-the-pair rule, and port-less protocols needing all ports.
#include "meshvpn/acl/packet_filter.h"

#include <catch2/catch.hpp>

#include "common/alloc_counter.h"

namespace meshvpn::acl {
namespace {

Address A(const char* text) { return *ParseAddress(text); }

AddressSet Set(std::initializer_list<const char*> prefixes) {
  AddressSetBuilder b;
  for (const char* p : prefixes) b.Add(*ParsePrefix(p));
  return b.Build();
}

}  // namespace

TEST_CASE("PacketFilter: decisions at the edges, and no allocation per lookup", "[acl]") {
  auto devs =
      std::make_shared<const AddressSet>(Set({"100.64.0.1", "100.64.0.2", "fd7a:115c:a1e0::1"}));
  auto ops = std::make_shared<const AddressSet>(Set({"100.64.0.9"}));
  const AddressSet self = Set({"100.64.0.5", "fd7a:115c:a1e0::5"});
  std::vector<FilterEntry> entries = {
      {devs, self, {22, 22}, ProtocolSet::Default(), 0},
      {devs, self, {8000, 8100}, ProtocolSet::Of({ProtocolSet::kTcp}), 1},
      {ops, self, {0, 65535}, ProtocolSet::Of({47}), 2},  // GRE, all ports
      {ops, self, {53, 53}, ProtocolSet::Of({ProtocolSet::kUdp}), 3},
  };
  const PacketFilter f = PacketFilter::Build(entries);
  struct Case {
    const char* src;
    const char* dst;
    uint8_t protocol;
    uint16_t port;
    bool allowed;
  } cases[] = {
      {"100.64.0.1", "100.64.0.5", 6, 22, true},
      {"100.64.0.1", "100.64.0.5", 6, 21, false},
      {"100.64.0.1", "100.64.0.5", 6, 23, false},
      {"100.64.0.1", "100.64.0.5", 17, 22, true},
      {"100.64.0.2", "100.64.0.5", 6, 8000, true},
      {"100.64.0.2", "100.64.0.5", 6, 8100, true},
      {"100.64.0.2", "100.64.0.5", 6, 8101, false},
      {"100.64.0.2", "100.64.0.5", 17, 8050, false},  // TCP only
      {"100.64.0.3", "100.64.0.5", 6, 22, false},     // not a dev
      {"100.64.0.1", "100.64.0.6", 6, 22, false},     // not this node
      {"fd7a:115c:a1e0::1", "fd7a:115c:a1e0::5", 6, 22, true},
      {"100.64.0.1", "100.64.0.5", 1, 0, true},  // ICMP: some rule covers the pair
      {"100.64.0.9", "100.64.0.5", 1, 0, true},  // even a GRE-only or UDP-only one
      {"100.64.0.9", "100.64.0.5", 47, 0, true},
      {"100.64.0.1", "100.64.0.5", 47, 0, false},  // GRE is not a default protocol
      {"100.64.0.9", "100.64.0.5", 50, 0, false},  // nor ESP
      {"100.64.0.9", "100.64.0.5", 17, 53, true},
      {"100.64.0.9", "100.64.0.5", 17, 54, false},
      {"100.64.0.8", "100.64.0.5", 1, 0, false},
  };
  for (const Case& c : cases) {
    INFO(c.src << " -> " << c.dst << " " << int{c.protocol} << ":" << c.port);
    CHECK(f.Allows(A(c.src), A(c.dst), c.protocol, c.port) == c.allowed);
  }
  // The data path's call: no allocation at all, allowed or denied.
  const Address src = A("100.64.0.2"), dst = A("100.64.0.5"), src6 = A("fd7a:115c:a1e0::1"),
                dst6 = A("fd7a:115c:a1e0::5");
  const long before = test::ThreadNewCount();
  int allowed = 0;
  for (uint16_t port = 0; port < 10000; ++port) {
    allowed += f.Allows(src, dst, 6, port);
    allowed += f.Allows(src6, dst6, 17, port);
    allowed += f.Allows(src, dst, 1, port);
  }
  CHECK(test::ThreadNewCount() == before);
  CHECK(allowed == 101 + 1 + 1 + 10000);
  CHECK(PacketFilter().Allows(src, dst, 6, 22) == false);  // the empty filter accepts nothing
}

}  // namespace meshvpn::acl
