// RecordTable: the MagicDNS names of a tailnet (each node's A and AAAA, extra records, the
// reverse map) as one immutable snapshot. A change builds a new table and the server swaps it in
// between two queries, so no query is dropped or sees half a change.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshvpn/dns/name.h"
#include "meshvpn/dns/rdata.h"

namespace meshvpn::dns {

// One name and its addresses, as configured.
struct HostRecord {
  // "laptop" or "web.prod": relative to the tailnet domain. A name ending in '.' ("db.corp.") is
  // absolute: an extra record, answered exactly but not making its parent ours.
  std::string name;
  std::vector<std::array<uint8_t, 4>> v4;
  std::vector<std::array<uint8_t, 16>> v6;
};

class RecordTable {
 public:
  struct Host {
    Name name;             // the fully qualified name, case as configured (PTR answers use it)
    bool in_zone = false;  // under the tailnet domain (else an extra record)
    std::vector<std::array<uint8_t, 4>> v4;
    std::vector<std::array<uint8_t, 16>> v6;
  };

  // Errors (InvalidArgument) name the record: a bad name, one that is too long with the domain,
  // a host without addresses, two records of one name.
  static absl::StatusOr<std::shared_ptr<const RecordTable>> Build(
      const Name& domain, const std::vector<HostRecord>& hosts, uint32_t serial = 1);

  const Name& domain() const { return domain_; }  // lowercase
  uint32_t serial() const { return serial_; }
  // The zone's SOA (owner domain()); its minimum is the negative-answer TTL.
  const SoaData& soa() const { return soa_; }
  size_t size() const { return hosts_.size(); }
  const std::vector<Host>& hosts() const { return hosts_; }

  // By lowercase wire name (Query::lower). No allocation.
  const Host* Find(std::span<const uint8_t> lower_wire) const;
  // True for a name in the zone with no record of its own but names below it ("prod" when
  // "web.prod" exists): an empty non-terminal, answered NODATA rather than NXDOMAIN.
  bool IsEmptyNonTerminal(std::span<const uint8_t> lower_wire) const;
  // The host holding a 4- or 16-byte address (the first configured, if several do).
  const Host* FindByAddress(std::span<const uint8_t> address) const;

 private:
  RecordTable() = default;
  static absl::string_view Key(std::span<const uint8_t> wire) {
    return {reinterpret_cast<const char*>(wire.data()), wire.size()};
  }

  Name domain_;
  uint32_t serial_ = 1;
  SoaData soa_;
  std::vector<Host> hosts_;
  absl::flat_hash_map<std::string, uint32_t> by_name_;  // lowercase wire -> index in hosts_
  absl::flat_hash_set<std::string> empty_non_terminals_;
  absl::flat_hash_map<std::string, uint32_t> by_address_;  // 4 or 16 address bytes -> index
};

// The --records file: one node a line, "NAME IPV4 [IPV6]" (either address may come first; a
// line may give one of each), '#' starts a comment, blank lines are skipped. Errors say
// "line N: ..." for the first bad line.
absl::StatusOr<std::vector<HostRecord>> ParseRecordsFile(std::string_view text);

}  // namespace meshvpn::dns
