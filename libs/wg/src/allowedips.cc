#include "meshvpn/wg/allowedips.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace meshvpn::wg {

struct AllowedIps::Node {
  std::array<uint8_t, 16> key{};  // the prefix, host bits zero (IPv4 uses the first 4 bytes)
  int length = 0;                 // prefix length in bits
  bool has_peer = false;          // false: a branch point, which always has two children
  PeerId peer = 0;
  std::unique_ptr<Node> child[2];
};

namespace {

using Node = AllowedIps::Node;
using Key = std::array<uint8_t, 16>;

int Bit(const uint8_t* key, int i) { return (key[i >> 3] >> (7 - (i & 7))) & 1; }

// Clears every bit from `length` on.
void MaskKey(Key& key, int length) {
  for (int i = 0; i < 16; ++i) {
    const int first = i * 8;
    if (first >= length) {
      key[i] = 0;
    } else if (first + 8 > length) {
      key[i] &= static_cast<uint8_t>(0xff << (8 - (length - first)));
    }
  }
}

// How many leading bits a and b share, at most `limit`.
int CommonBits(const uint8_t* a, const uint8_t* b, int limit) {
  int n = 0;
  for (int i = 0; n < limit; ++i) {
    const uint8_t x = a[i] ^ b[i];
    if (x == 0) {
      n += 8;
      continue;
    }
    n += std::countl_zero(x);
    break;
  }
  return std::min(n, limit);
}

std::unique_ptr<Node> NewNode(const Key& key, int length, bool has_peer, AllowedIps::PeerId peer) {
  auto n = std::make_unique<Node>();
  n->key = key;
  MaskKey(n->key, length);
  n->length = length;
  n->has_peer = has_peer;
  n->peer = peer;
  return n;
}

// Restores the invariant at `link` after a peer or a child went away: a node without a peer
// keeps two children, or is replaced by its only child, or disappears.
void Compact(std::unique_ptr<Node>& link) {
  Node* n = link.get();
  if (n->has_peer || (n->child[0] && n->child[1])) return;
  std::unique_ptr<Node> only = std::move(n->child[0] ? n->child[0] : n->child[1]);
  link = std::move(only);
}

// Returns true if a new prefix was added (false: an existing one changed peer).
bool InsertInto(std::unique_ptr<Node>* link, const Key& key, int length, AllowedIps::PeerId peer) {
  while (true) {
    Node* n = link->get();
    if (n == nullptr) {
      *link = NewNode(key, length, true, peer);
      return true;
    }
    const int common = CommonBits(n->key.data(), key.data(), std::min(n->length, length));
    if (common == n->length && n->length == length) {
      const bool added = !n->has_peer;
      n->has_peer = true;
      n->peer = peer;
      return added;
    }
    if (common == n->length) {  // n's prefix contains the new one: go down
      link = &n->child[Bit(key.data(), n->length)];
      continue;
    }
    if (common == length) {  // the new prefix contains n's: it becomes n's parent
      auto parent = NewNode(key, length, true, peer);
      parent->child[Bit(n->key.data(), length)] = std::move(*link);
      *link = std::move(parent);
      return true;
    }
    // They differ at bit `common`: a branch point holds both.
    auto branch = NewNode(key, common, false, 0);
    const int old_side = Bit(n->key.data(), common);
    branch->child[old_side] = std::move(*link);
    branch->child[1 - old_side] = NewNode(key, length, true, peer);
    *link = std::move(branch);
    return true;
  }
}

bool RemoveFrom(std::unique_ptr<Node>& link, const Key& key, int length) {
  Node* n = link.get();
  if (n == nullptr) return false;
  if (n->length > length || CommonBits(n->key.data(), key.data(), n->length) < n->length) {
    return false;
  }
  if (n->length == length) {
    if (!n->has_peer) return false;
    n->has_peer = false;
  } else if (!RemoveFrom(n->child[Bit(key.data(), n->length)], key, length)) {
    return false;
  }
  Compact(link);
  return true;
}

size_t RemovePeerFrom(std::unique_ptr<Node>& link, AllowedIps::PeerId peer) {
  if (!link) return 0;
  size_t removed = RemovePeerFrom(link->child[0], peer) + RemovePeerFrom(link->child[1], peer);
  if (link->has_peer && link->peer == peer) {
    link->has_peer = false;
    ++removed;
  }
  if (removed > 0) Compact(link);
  return removed;
}

const Node* FindLongest(const Node* n, const uint8_t* address, int max_bits) {
  const Node* best = nullptr;
  while (n != nullptr && CommonBits(n->key.data(), address, n->length) == n->length) {
    if (n->has_peer) best = n;
    if (n->length == max_bits) break;
    n = n->child[Bit(address, n->length)].get();
  }
  return best;
}

const Node* FindExact(const Node* n, const Key& key, int length) {
  while (n != nullptr && n->length <= length &&
         CommonBits(n->key.data(), key.data(), n->length) == n->length) {
    if (n->length == length) return n->has_peer ? n : nullptr;
    n = n->child[Bit(key.data(), n->length)].get();
  }
  return nullptr;
}

template <typename Fn>
void Walk(const Node* n, const Fn& fn) {
  if (n == nullptr) return;
  if (n->has_peer) fn(*n);
  Walk(n->child[0].get(), fn);
  Walk(n->child[1].get(), fn);
}

tun::IpPrefix ToPrefix(const Node& n, bool v4) {
  return tun::IpPrefix{tun::IpAddress::FromBytes(ByteSpan(n.key.data(), v4 ? 4 : 16)), n.length};
}

// Checks `prefix` and gives its key and the bits of its family.
absl::Status Split(const tun::IpPrefix& prefix, Key* key, int* max_bits) {
  if (prefix.address.family() == tun::IpAddress::Family::kNone) {
    return absl::InvalidArgumentError("allowed IP prefix has no address family");
  }
  *max_bits = prefix.address.is_v4() ? 32 : 128;
  if (prefix.length < 0 || prefix.length > *max_bits) {
    return absl::InvalidArgumentError("allowed IP prefix length out of range");
  }
  *key = {};
  const ByteSpan b = prefix.address.bytes();
  std::copy(b.begin(), b.end(), key->begin());
  return absl::OkStatus();
}

}  // namespace

AllowedIps::AllowedIps() = default;
AllowedIps::~AllowedIps() = default;
AllowedIps::AllowedIps(AllowedIps&&) noexcept = default;
AllowedIps& AllowedIps::operator=(AllowedIps&&) noexcept = default;

absl::Status AllowedIps::Insert(const tun::IpPrefix& prefix, PeerId peer) {
  Key key;
  int max_bits = 0;
  if (absl::Status s = Split(prefix, &key, &max_bits); !s.ok()) return s;
  MaskKey(key, prefix.length);
  if (InsertInto(max_bits == 32 ? &v4_ : &v6_, key, prefix.length, peer)) ++size_;
  return absl::OkStatus();
}

bool AllowedIps::Remove(const tun::IpPrefix& prefix) {
  Key key;
  int max_bits = 0;
  if (!Split(prefix, &key, &max_bits).ok()) return false;
  MaskKey(key, prefix.length);
  if (!RemoveFrom(max_bits == 32 ? v4_ : v6_, key, prefix.length)) return false;
  --size_;
  return true;
}

size_t AllowedIps::RemoveByPeer(PeerId peer) {
  const size_t removed = RemovePeerFrom(v4_, peer) + RemovePeerFrom(v6_, peer);
  size_ -= removed;
  return removed;
}

void AllowedIps::Clear() {
  v4_.reset();
  v6_.reset();
  size_ = 0;
}

std::optional<AllowedIps::PeerId> AllowedIps::Lookup(ByteSpan address) const {
  const Node* n = nullptr;
  if (address.size() == 4) {
    n = FindLongest(v4_.get(), address.data(), 32);
  } else if (address.size() == 16) {
    n = FindLongest(v6_.get(), address.data(), 128);
  }
  if (n == nullptr) return std::nullopt;
  return n->peer;
}

std::optional<AllowedIps::PeerId> AllowedIps::Lookup(const tun::IpAddress& address) const {
  return Lookup(address.bytes());
}

std::optional<AllowedIps::PeerId> AllowedIps::Get(const tun::IpPrefix& prefix) const {
  Key key;
  int max_bits = 0;
  if (!Split(prefix, &key, &max_bits).ok()) return std::nullopt;
  MaskKey(key, prefix.length);
  const Node* n = FindExact(max_bits == 32 ? v4_.get() : v6_.get(), key, prefix.length);
  if (n == nullptr) return std::nullopt;
  return n->peer;
}

std::vector<std::pair<tun::IpPrefix, AllowedIps::PeerId>> AllowedIps::Entries() const {
  std::vector<std::pair<tun::IpPrefix, PeerId>> out;
  out.reserve(size_);
  Walk(v4_.get(), [&](const Node& n) { out.emplace_back(ToPrefix(n, true), n.peer); });
  Walk(v6_.get(), [&](const Node& n) { out.emplace_back(ToPrefix(n, false), n.peer); });
  return out;
}

std::vector<tun::IpPrefix> AllowedIps::PrefixesOf(PeerId peer) const {
  std::vector<tun::IpPrefix> out;
  auto add = [&](bool v4) {
    return [&, v4](const Node& n) {
      if (n.peer == peer) out.push_back(ToPrefix(n, v4));
    };
  };
  Walk(v4_.get(), add(true));
  Walk(v6_.get(), add(false));
  return out;
}

}  // namespace meshvpn::wg
