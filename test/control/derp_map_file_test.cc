// Tailscale's DERPMap JSON: a real-looking map read, written back and read again; the errors
// for bad files name what is wrong.
#include "meshvpn/control/derp_map_file.h"

#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>

namespace meshvpn::control {
namespace {

// The shape of Tailscale's derpmap (tailcfg.DERPMap's JSON), with our PlainHTTP extension.
constexpr std::string_view kMap = R"({
  "Regions": {
    "900": {
      "RegionID": 900, "RegionCode": "lab", "RegionName": "Lab",
      "Nodes": [
        {"Name": "900a", "RegionID": 900, "HostName": "derp1.lab.example", "IPv4": "203.0.113.20",
         "DERPPort": 443, "STUNPort": 3478},
        {"Name": "900b", "RegionID": 900, "HostName": "127.0.0.1", "DERPPort": 8080,
         "STUNPort": -1, "PlainHTTP": true, "InsecureForTests": true, "CanPort80": false}
      ]
    },
    "901": {"RegionID": 901, "RegionCode": "far", "Avoid": true,
            "Nodes": [{"Name": "901a", "RegionID": 901, "IPv6": "2001:db8::1", "STUNOnly": true}]}
  },
  "OmitDefaultRegions": true
})";

TEST_CASE("DERP map JSON: read, write, read again", "[control][derpmap]") {
  absl::StatusOr<v1::DerpMap> map = ParseDerpMapJson(kMap);
  INFO(map.status().ToString());
  REQUIRE(map.ok());
  REQUIRE(map->regions().size() == 2);
  const v1::DerpRegion& lab = map->regions().at(900);
  CHECK(lab.region_code() == "lab");
  REQUIRE(lab.nodes_size() == 2);
  CHECK(lab.nodes(0).host_name() == "derp1.lab.example");
  CHECK(lab.nodes(0).ipv4() == "203.0.113.20");
  CHECK(lab.nodes(0).stun_port() == 3478);
  CHECK(lab.nodes(1).plain_http());
  CHECK(lab.nodes(1).stun_port() == -1);
  CHECK(lab.nodes(1).derp_port() == 8080);
  CHECK(map->regions().at(901).avoid());
  CHECK(map->regions().at(901).nodes(0).stun_only());

  absl::StatusOr<v1::DerpMap> again = ParseDerpMapJson(DerpMapToJson(*map));
  REQUIRE(again.ok());
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*map, *again));
}

TEST_CASE("DERP map JSON: errors say what is wrong", "[control][derpmap]") {
  auto error_of = [](std::string_view text) {
    absl::StatusOr<v1::DerpMap> m = ParseDerpMapJson(text);
    REQUIRE_FALSE(m.ok());
    return std::string(m.status().message());
  };
  CHECK(error_of("{") == "DERP map: not valid JSON");
  CHECK(error_of("[]") == "DERP map: the top level must be an object");
  CHECK(error_of(R"({"Regions": {}})") == "DERP map: no Regions");
  CHECK(error_of(R"({"Regions": {"x": {}}})") ==
        "DERP map: region x: region keys must be positive numbers");
  CHECK(error_of(R"({"Regions": {"1": {"RegionID": 2, "Nodes": [{}]}}})") ==
        "DERP map: region 1: RegionID differs from its key");
  CHECK(error_of(R"({"Regions": {"1": {"Nodes": []}}})") ==
        "DERP map: region 1: a region needs Nodes");
  CHECK(error_of(R"({"Regions": {"1": {"Nodes": [{"Name": "a"}]}}})") ==
        "DERP map: region 1 node 0: a node needs a HostName, IPv4 or IPv6");
  CHECK(
      error_of(
          R"({"Regions": {"1": {"Nodes": [{"Name": "a", "HostName": "h", "DERPPort": 70000}]}}})") ==
      "DERP map: region 1 node 0: DERPPort out of range");
  CHECK(error_of(R"({"Regions": {"1": {"Nodes": [{"Name": "a", "HostName": 5}]}}})") ==
        "DERP map: region 1 node 0: HostName must be a string");
  CHECK(error_of(
            R"({"Regions": {"1": {"Nodes": [{"Name": "a", "HostName": "h", "RegionID": 3}]}}})") ==
        "DERP map: region 1 node 0: the node's RegionID is not its region's");
  CHECK(error_of(std::string(kMaxDerpMapBytes + 1, ' ')) == "DERP map: the file is over 1 MiB");
}

}  // namespace
}  // namespace meshvpn::control
