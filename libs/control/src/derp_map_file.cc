// Tailscale's DERPMap JSON to and from the control protocol's DerpMap.
#include "meshvpn/control/derp_map_file.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace meshvpn::control {
namespace {

using nlohmann::json;

absl::Status Bad(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("DERP map: ", absl::string_view(where.data(), where.size()), ": ",
                   absl::string_view(what.data(), what.size())));
}

// Reads an optional field of the wanted JSON type into `out`; an error for the wrong type.
template <typename T>
absl::Status Field(const json& obj, const char* name, std::string_view where, T* out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return Bad(where, absl::StrCat(name, " must be a string"));
    *out = it->template get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return Bad(where, absl::StrCat(name, " must be true or false"));
    *out = it->template get<bool>();
  } else {
    if (!it->is_number_integer()) return Bad(where, absl::StrCat(name, " must be an integer"));
    const int64_t v = it->template get<int64_t>();
    if (v < -1 || v > 65535) return Bad(where, absl::StrCat(name, " out of range"));
    *out = static_cast<T>(v);
  }
  return absl::OkStatus();
}

#define MESHVPN_FIELD(obj, name, where, out) \
  if (absl::Status s_ = Field(obj, name, where, out); !s_.ok()) return s_

absl::Status ParseNode(const json& j, int32_t region_id, const std::string& where,
                       v1::DerpNode* node) {
  if (!j.is_object()) return Bad(where, "a node must be an object");
  std::string name, host, v4, v6, path;
  int32_t region = region_id, stun = 0, derp = 0;
  bool stun_only = false, insecure = false, plain = false;
  MESHVPN_FIELD(j, "Name", where, &name);
  MESHVPN_FIELD(j, "RegionID", where, &region);
  MESHVPN_FIELD(j, "HostName", where, &host);
  MESHVPN_FIELD(j, "IPv4", where, &v4);
  MESHVPN_FIELD(j, "IPv6", where, &v6);
  MESHVPN_FIELD(j, "STUNPort", where, &stun);
  MESHVPN_FIELD(j, "STUNOnly", where, &stun_only);
  MESHVPN_FIELD(j, "DERPPort", where, &derp);
  MESHVPN_FIELD(j, "InsecureForTests", where, &insecure);
  MESHVPN_FIELD(j, "PlainHTTP", where, &plain);
  MESHVPN_FIELD(j, "Path", where, &path);
  if (name.empty()) return Bad(where, "a node needs a Name");
  if (region != region_id) return Bad(where, "the node's RegionID is not its region's");
  if (host.empty() && v4.empty() && v6.empty()) {
    return Bad(where, "a node needs a HostName, IPv4 or IPv6");
  }
  if (derp < 0) return Bad(where, "DERPPort out of range");
  if (!path.empty() && path.front() != '/') return Bad(where, "Path must start with '/'");
  node->set_name(name);
  node->set_region_id(region);
  node->set_host_name(host);
  node->set_ipv4(v4);
  node->set_ipv6(v6);
  node->set_stun_port(stun);
  node->set_stun_only(stun_only);
  node->set_derp_port(derp);
  node->set_insecure_for_tests(insecure);
  node->set_plain_http(plain);
  node->set_path(path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::DerpMap> ParseDerpMapJson(std::string_view text) {
  if (text.size() > kMaxDerpMapBytes) {
    return absl::InvalidArgumentError("DERP map: the file is over 1 MiB");
  }
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("DERP map: not valid JSON");
  if (!j.is_object())
    return absl::InvalidArgumentError("DERP map: the top level must be an object");
  auto regions = j.find("Regions");
  if (regions == j.end() || !regions->is_object() || regions->empty()) {
    return absl::InvalidArgumentError("DERP map: no Regions");
  }
  v1::DerpMap map;
  for (auto it = regions->begin(); it != regions->end(); ++it) {
    const std::string where = absl::StrCat("region ", it.key());
    int32_t key_id = 0;
    if (!absl::SimpleAtoi(it.key(), &key_id) || key_id <= 0) {
      return Bad(where, "region keys must be positive numbers");
    }
    const json& r = it.value();
    if (!r.is_object()) return Bad(where, "a region must be an object");
    int32_t id = key_id;
    std::string code, name;
    bool avoid = false;
    MESHVPN_FIELD(r, "RegionID", where, &id);
    MESHVPN_FIELD(r, "RegionCode", where, &code);
    MESHVPN_FIELD(r, "RegionName", where, &name);
    MESHVPN_FIELD(r, "Avoid", where, &avoid);
    if (id != key_id) return Bad(where, "RegionID differs from its key");
    if (map.regions().contains(id)) return Bad(where, "the region is listed twice");
    auto nodes = r.find("Nodes");
    if (nodes == r.end() || !nodes->is_array() || nodes->empty()) {
      return Bad(where, "a region needs Nodes");
    }
    v1::DerpRegion& region = (*map.mutable_regions())[id];
    region.set_region_id(id);
    region.set_region_code(code);
    region.set_region_name(name);
    region.set_avoid(avoid);
    for (size_t i = 0; i < nodes->size(); ++i) {
      const std::string node_where = absl::StrCat(where, " node ", i);
      if (absl::Status s = ParseNode((*nodes)[i], id, node_where, region.add_nodes()); !s.ok()) {
        return s;
      }
    }
  }
  return map;
}

std::string DerpMapToJson(const v1::DerpMap& map) {
  std::map<int32_t, const v1::DerpRegion*> ordered;
  for (const auto& [id, region] : map.regions()) ordered[id] = &region;
  json regions = json::object();
  for (const auto& [id, r] : ordered) {
    json nodes = json::array();
    for (const v1::DerpNode& n : r->nodes()) {
      json node = {{"Name", n.name()}, {"RegionID", n.region_id()}, {"HostName", n.host_name()}};
      if (!n.ipv4().empty()) node["IPv4"] = n.ipv4();
      if (!n.ipv6().empty()) node["IPv6"] = n.ipv6();
      if (n.stun_port() != 0) node["STUNPort"] = n.stun_port();
      if (n.stun_only()) node["STUNOnly"] = true;
      if (n.derp_port() != 0) node["DERPPort"] = n.derp_port();
      if (n.insecure_for_tests()) node["InsecureForTests"] = true;
      if (n.plain_http()) node["PlainHTTP"] = true;
      if (!n.path().empty()) node["Path"] = n.path();
      nodes.push_back(std::move(node));
    }
    json region = {{"RegionID", r->region_id()},
                   {"RegionCode", r->region_code()},
                   {"RegionName", r->region_name()},
                   {"Nodes", std::move(nodes)}};
    if (r->avoid()) region["Avoid"] = true;
    regions[std::to_string(id)] = std::move(region);
  }
  return json({{"Regions", std::move(regions)}}).dump(2);
}

}  // namespace meshvpn::control
