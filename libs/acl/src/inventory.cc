// Inventory: the node list with lookups by name, id and address, and its nodes.json reader.
#include "meshvpn/acl/inventory.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meshvpn/acl/hujson.h"

namespace meshvpn::acl {

bool InventoryNode::HasTag(std::string_view tag) const {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

bool InventoryNode::is_exit_node() const {
  for (const Prefix& r : routes) {
    if (r.length == 0) return true;
  }
  return false;
}

Inventory::Inventory(std::vector<InventoryNode> nodes) : nodes_(std::move(nodes)) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    by_name_.emplace(nodes_[i].name, static_cast<int>(i));
    by_id_.emplace(nodes_[i].id, static_cast<int>(i));
    for (const Address& a : nodes_[i].ips) by_address_.emplace_back(a, static_cast<int>(i));
  }
  std::sort(by_address_.begin(), by_address_.end());
  AddressSetBuilder star;
  star.Add(TailnetAddresses());
  for (const InventoryNode& n : nodes_) {
    for (const Address& a : n.ips) star.Add(a);
    for (const Prefix& r : n.routes) {
      if (r.length > 0) star.Add(r);
    }
  }
  star_sources_ = star.Build();
}

int Inventory::FindByName(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? -1 : it->second;
}

int Inventory::FindById(uint64_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? -1 : it->second;
}

int Inventory::FindByAddress(const Address& address) const {
  const auto it = std::lower_bound(
      by_address_.begin(), by_address_.end(), address,
      [](const std::pair<Address, int>& e, const Address& a) { return e.first < a; });
  return it != by_address_.end() && it->first == address ? it->second : -1;
}

namespace {

absl::Status NodeError(size_t index, const JsonValue& at, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("nodes[", index, "] (line ", at.position().line,
                                                 ", column ", at.position().column,
                                                 "): ", std::string(what)));
}

absl::StatusOr<std::vector<std::string>> StringList(size_t index, const JsonValue& v,
                                                    std::string_view field) {
  std::vector<std::string> out;
  if (!v.is_array())
    return NodeError(index, v, absl::StrCat(std::string(field), ": want a list of strings"));
  for (const JsonValue& e : v.elements()) {
    if (!e.is_string())
      return NodeError(index, e, absl::StrCat(std::string(field), ": want strings"));
    out.push_back(e.text());
  }
  return out;
}

}  // namespace

absl::StatusOr<Inventory> ParseInventory(std::string_view json) {
  absl::StatusOr<JsonValue> root = ParseHuJson(json);
  if (!root.ok())
    return absl::InvalidArgumentError(absl::StrCat("nodes: ", root.status().message()));
  if (!root->is_array()) return absl::InvalidArgumentError("nodes: want a JSON list of nodes");
  std::vector<InventoryNode> nodes;
  std::set<std::string> names;
  std::set<Address> addresses;
  std::set<uint64_t> ids;
  for (size_t i = 0; i < root->elements().size(); ++i) {
    const JsonValue& v = root->elements()[i];
    if (!v.is_object()) return NodeError(i, v, "want an object");
    InventoryNode node;
    node.id = i + 1;
    for (const auto& [key, value] : v.members()) {
      if (key == "name" || key == "user") {
        if (!value.is_string() || value.text().empty()) {
          return NodeError(i, value, absl::StrCat(key, ": want a non-empty string"));
        }
        (key == "name" ? node.name : node.user) = value.text();
      } else if (key == "tags") {
        absl::StatusOr<std::vector<std::string>> tags = StringList(i, value, key);
        if (!tags.ok()) return tags.status();
        for (const std::string& t : *tags) {
          if (!std::string_view(t).starts_with("tag:") || t.size() == 4) {
            return NodeError(i, value, absl::StrCat("tags: \"", t, "\" does not start with tag:"));
          }
        }
        node.tags = std::move(*tags);
      } else if (key == "ips" || key == "routes" || key == "advertised") {
        absl::StatusOr<std::vector<std::string>> list = StringList(i, value, key);
        if (!list.ok()) return list.status();
        for (const std::string& text : *list) {
          if (key == "ips") {
            absl::StatusOr<Address> a = ParseAddress(text);
            if (!a.ok()) return NodeError(i, value, std::string(a.status().message()));
            if (!addresses.insert(*a).second) {
              return NodeError(i, value, absl::StrCat("address ", text, " belongs to two nodes"));
            }
            node.ips.push_back(*a);
          } else {
            absl::StatusOr<Prefix> p = ParsePrefix(text);
            if (!p.ok()) return NodeError(i, value, std::string(p.status().message()));
            (key == "routes" ? node.routes : node.advertised).push_back(*p);
          }
        }
      } else if (key == "id") {
        // From the number's text: its double may be out of uint64_t's range (1e300), or not
        // whole (1.5), and neither may be cast.
        const std::string& text = value.text();
        uint64_t id = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (!value.is_number() || ec != std::errc() || end != text.data() + text.size() ||
            id == 0) {
          return NodeError(i, value, "id: want a positive integer (at most 2^64-1)");
        }
        node.id = id;
      } else {
        return NodeError(i, value,
                         absl::StrCat("unknown field \"", key,
                                      "\" (known: name, user, tags, ips, routes, advertised, id)"));
      }
    }
    if (node.name.empty()) return NodeError(i, v, "missing \"name\"");
    if (node.ips.empty()) return NodeError(i, v, "missing \"ips\" (a node has an address)");
    if (!ids.insert(node.id).second) {
      return NodeError(i, v,
                       absl::StrCat("two nodes have id ", node.id,
                                    " (a node without \"id\" has its position, from 1)"));
    }
    if (node.user.empty() && node.tags.empty()) {
      return NodeError(i, v, "a node needs a \"user\" or \"tags\"");
    }
    if (!names.insert(node.name).second) {
      return NodeError(i, v, absl::StrCat("two nodes are named \"", node.name, "\""));
    }
    nodes.push_back(std::move(node));
  }
  return Inventory(std::move(nodes));
}

}  // namespace meshvpn::acl
