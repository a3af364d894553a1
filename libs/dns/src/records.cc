// Building the record table (names, empty non-terminals, the reverse map) and the records file.
#include "meshvpn/dns/records.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meshvpn::dns {

namespace {

// The name one label up: the wire form without its first label (the root has no parent).
std::span<const uint8_t> Parent(std::span<const uint8_t> wire) {
  return wire.subspan(static_cast<size_t>(wire[0]) + 1);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RecordTable>> RecordTable::Build(
    const Name& domain, const std::vector<HostRecord>& hosts, uint32_t serial) {
  std::shared_ptr<RecordTable> t(new RecordTable());
  t->domain_ = domain.Lowercase();
  t->serial_ = serial;
  t->soa_.mname = t->domain_;
  if (absl::StatusOr<Name> rname = Name::Parse(absl::StrCat("hostmaster.", domain.ToString()));
      rname.ok()) {
    t->soa_.rname = *rname;
  } else {
    t->soa_.rname = t->domain_;
  }
  t->soa_.serial = serial;
  t->soa_.refresh = 3600;
  t->soa_.retry = 600;
  t->soa_.expire = 86400;
  t->soa_.minimum = 60;
  t->hosts_.reserve(hosts.size());
  for (const HostRecord& h : hosts) {
    const auto fail = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("record \"", h.name, "\": ", why));
    };
    if (h.name.empty() || h.name == ".") return fail("empty name");
    if (h.v4.empty() && h.v6.empty()) return fail("no address");
    Host host;
    host.in_zone = h.name.back() != '.';
    const std::string fqdn =
        host.in_zone ? absl::StrCat(h.name, ".", domain.ToString(), ".") : h.name;
    absl::StatusOr<Name> name = Name::Parse(fqdn);
    if (!name.ok()) return fail(name.status().message());
    host.name = *name;
    host.v4 = h.v4;
    host.v6 = h.v6;
    const Name lower = host.name.Lowercase();
    const auto index = static_cast<uint32_t>(t->hosts_.size());
    if (!t->by_name_.emplace(std::string(lower.key()), index).second) {
      return fail("a second record of this name");
    }
    if (host.in_zone) {
      for (std::span<const uint8_t> up = Parent(lower.wire()); up.size() > t->domain_.size();
           up = Parent(up)) {
        t->empty_non_terminals_.insert(std::string(Key(up)));
      }
    }
    for (const auto& a : host.v4) t->by_address_.emplace(std::string(Key(a)), index);
    for (const auto& a : host.v6) t->by_address_.emplace(std::string(Key(a)), index);
    t->hosts_.push_back(std::move(host));
  }
  // A name with a record of its own is not empty.
  for (const auto& [key, index] : t->by_name_) t->empty_non_terminals_.erase(key);
  return std::shared_ptr<const RecordTable>(std::move(t));
}

const RecordTable::Host* RecordTable::Find(std::span<const uint8_t> lower_wire) const {
  auto it = by_name_.find(Key(lower_wire));
  return it == by_name_.end() ? nullptr : &hosts_[it->second];
}

bool RecordTable::IsEmptyNonTerminal(std::span<const uint8_t> lower_wire) const {
  return empty_non_terminals_.contains(Key(lower_wire));
}

const RecordTable::Host* RecordTable::FindByAddress(std::span<const uint8_t> address) const {
  auto it = by_address_.find(Key(address));
  return it == by_address_.end() ? nullptr : &hosts_[it->second];
}

absl::StatusOr<std::vector<HostRecord>> ParseRecordsFile(std::string_view text) {
  std::vector<HostRecord> out;
  absl::flat_hash_set<std::string> seen;  // lowercase names
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_number;
    const auto fail = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", why));
    };
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    if (fields.size() < 2 || fields.size() > 3) {
      return fail(absl::StrCat("want NAME IPV4 [IPV6], got ", fields.size(), " fields"));
    }
    HostRecord h;
    h.name = std::string(fields[0]);
    if (absl::StatusOr<Name> n = Name::Parse(h.name); !n.ok()) {
      return fail(absl::StrCat("name \"", h.name, "\": ", n.status().message()));
    }
    for (size_t i = 1; i < fields.size(); ++i) {
      const std::string address(fields[i]);
      std::array<uint8_t, 16> bytes{};
      if (inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) {
        if (!h.v4.empty()) return fail("two IPv4 addresses (one node a line)");
        h.v4.push_back({bytes[0], bytes[1], bytes[2], bytes[3]});
      } else if (inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1) {
        if (!h.v6.empty()) return fail("two IPv6 addresses (one node a line)");
        h.v6.push_back(bytes);
      } else {
        return fail(absl::StrCat("\"", address, "\" is not an IPv4 or IPv6 address"));
      }
    }
    if (!seen.insert(absl::AsciiStrToLower(h.name)).second) {
      return fail(absl::StrCat("\"", h.name, "\" is already named above"));
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace meshvpn::dns
