// PortSpray: every port of the range once, in a seeded order, skipped ports left out.
#include "meshvpn/holepunch/port_spray.h"

#include <catch2/catch.hpp>
#include <set>
#include <vector>

namespace meshvpn::holepunch {
namespace {

TEST_CASE("PortSpray returns each port of the range exactly once") {
  PortSpray s(7, 1024, 65535);
  CHECK(s.range_size() == 64512);
  s.Skip(5000);
  s.Skip(5000);  // twice: counted once
  s.Skip(80);    // outside the range: ignored
  std::set<uint16_t> seen;
  while (auto p = s.Next()) {
    CHECK(*p >= 1024);
    CHECK(seen.insert(*p).second);
  }
  CHECK(seen.size() == 64511);
  CHECK(!seen.count(5000));
  CHECK(s.tried() == 64512);
  CHECK(!s.Next().has_value());
}

TEST_CASE("PortSpray is reproducible by seed and spread over the range") {
  PortSpray a(42), b(42), c(43);
  std::vector<uint16_t> va, vb, vc;
  for (int i = 0; i < 1000; ++i) {
    va.push_back(*a.Next());
    vb.push_back(*b.Next());
    vc.push_back(*c.Next());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  // Spread: the first 1000 ports fall into every eighth of the range.
  std::set<int> eighths;
  for (uint16_t p : va) eighths.insert((p - 1024) * 8 / 64512);
  CHECK(eighths.size() == 8);
}

}  // namespace
}  // namespace meshvpn::holepunch
