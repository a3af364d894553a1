// WireGuard's allowed-IPs table (whitepaper 3.2, cryptokey routing): which peer an inner IPv4 or
// IPv6 address belongs to, by longest-prefix match over a compressed binary (Patricia) trie.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/tun/ip_address.h"

namespace meshvpn::wg {

// One trie per family. Every node holds a prefix (its key masked to its length); a node either
// carries a peer (an inserted prefix) or is a branch point with two children. A child's prefix
// always extends its parent's, and the bit just after the parent's length picks the child:
//
//                     10.0.0.0/8 -> peer 1
//                     /                 \_
//        10.0.0.0/23 (branch)        10.128.0.0/9 -> peer 2
//          /            \_
//   10.0.0.0/24 -> 3   10.0.1.7/32 -> 4
//
// Lookup walks down from the root while the address matches the node's prefix, remembering the
// last node with a peer: at most 33 (IPv4) or 129 (IPv6) nodes, no allocation, no recursion.
//
// Prefixes are stored with their host bits cleared (10.0.0.1/24 is stored as 10.0.0.0/24), as
// `wg set ... allowed-ips` does. Inserting a prefix that is already present moves it to the new
// peer (a prefix belongs to at most one peer).
//
// Threading: not thread-safe. The device looks up on its packet threads and changes the table on
// its control thread; it must serialise them (a reader-writer lock, or a copy swapped in).
class AllowedIps {
 public:
  using PeerId = uint32_t;

  AllowedIps();
  ~AllowedIps();
  AllowedIps(AllowedIps&&) noexcept;
  AllowedIps& operator=(AllowedIps&&) noexcept;
  AllowedIps(const AllowedIps&) = delete;
  AllowedIps& operator=(const AllowedIps&) = delete;

  // InvalidArgument for an address of family kNone or a length outside 0..32 / 0..128.
  absl::Status Insert(const tun::IpPrefix& prefix, PeerId peer);
  // Removes exactly this prefix (host bits ignored) whatever its peer; false if it was absent.
  bool Remove(const tun::IpPrefix& prefix);
  // Removes every prefix of `peer`; returns how many.
  size_t RemoveByPeer(PeerId peer);
  void Clear();

  // The peer of the longest prefix containing `address`; nullopt if none (or family kNone).
  std::optional<PeerId> Lookup(const tun::IpAddress& address) const;
  // The same for a raw address of 4 (IPv4) or 16 (IPv6) bytes, as found in an IP header; the
  // packet path's form. Other sizes: nullopt.
  std::optional<PeerId> Lookup(ByteSpan address) const;
  // The peer that exactly this prefix (host bits ignored) is assigned to, if any.
  std::optional<PeerId> Get(const tun::IpPrefix& prefix) const;

  // The prefixes of `peer` (for `wg show allowed-ips`): IPv4 first, each family in address
  // order, shorter before longer at the same address. Allocates: control path only.
  std::vector<tun::IpPrefix> PrefixesOf(PeerId peer) const;
  // Every (prefix, peer), in the same order.
  std::vector<std::pair<tun::IpPrefix, PeerId>> Entries() const;

  size_t size() const { return size_; }  // number of prefixes stored
  bool empty() const { return size_ == 0; }

  struct Node;  // defined in allowedips.cc

 private:
  std::unique_ptr<Node> v4_;
  std::unique_ptr<Node> v6_;
  size_t size_ = 0;
};

}  // namespace meshvpn::wg
