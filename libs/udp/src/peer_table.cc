#include "meshvpn/udp/peer_table.h"

#include <algorithm>
#include <cassert>

namespace meshvpn::udp {

std::string_view ToString(PeerTable::Observed observed) {
  switch (observed) {
    case PeerTable::Observed::kKnown:
      return "known";
    case PeerTable::Observed::kNew:
      return "new";
    case PeerTable::Observed::kTableFull:
      return "table_full";
  }
  return "unknown";
}

PeerTable::PeerTable(Options options)
    : idle_timeout_(options.idle_timeout), slots_(std::max<size_t>(options.max_peers, 1)) {
  // Sized so that the index never grows: abseil rehashes in place (no allocation) while at most
  // 25/32 of the capacity is in use, and reserving 4/3 of max_peers keeps us below that even
  // with erased slots waiting to be reused.
  index_.reserve(slots_.size() * 4 / 3 + 1);
  for (size_t i = slots_.size(); i > 0; --i) {
    slots_[i - 1].next = free_head_;
    free_head_ = static_cast<uint32_t>(i - 1);
  }
}

void PeerTable::Unlink(uint32_t index) {
  Slot& s = slots_[index];
  if (s.prev != kNil) {
    slots_[s.prev].next = s.next;
  } else {
    idle_head_ = s.next;
  }
  if (s.next != kNil) {
    slots_[s.next].prev = s.prev;
  } else {
    idle_tail_ = s.prev;
  }
  s.prev = s.next = kNil;
}

void PeerTable::LinkAtTail(uint32_t index) {
  Slot& s = slots_[index];
  s.prev = idle_tail_;
  s.next = kNil;
  if (idle_tail_ != kNil) {
    slots_[idle_tail_].next = index;
  } else {
    idle_head_ = index;
  }
  idle_tail_ = index;
}

uint32_t PeerTable::Insert(const Endpoint& peer, MonoTime now, bool pinned) {
  if (free_head_ == kNil) return kNil;
  const uint32_t index = free_head_;
  Slot& s = slots_[index];
  free_head_ = s.next;
  s.info = PeerInfo{};
  s.info.endpoint = peer;
  s.info.first_seen = now;
  s.info.last_seen = now;
  s.info.pinned = pinned;
  s.used = true;
  s.prev = s.next = kNil;
  if (!pinned) LinkAtTail(index);
  index_.emplace(peer, index);
  ++learned_;
  return index;
}

void PeerTable::RemoveSlot(uint32_t index) {
  Slot& s = slots_[index];
  assert(s.used);
  if (!s.info.pinned) Unlink(index);
  index_.erase(s.info.endpoint);
  s.used = false;
  s.prev = kNil;
  s.next = free_head_;
  free_head_ = index;
}

PeerTable::Observed PeerTable::OnReceived(const Endpoint& from, size_t bytes, MonoTime now) {
  uint32_t index;
  bool first_datagram;
  if (auto it = index_.find(from); it != index_.end()) {
    index = it->second;
    first_datagram = slots_[index].info.packets_in == 0;
  } else {
    index = Insert(from, now, /*pinned=*/false);
    if (index == kNil) {
      ++rejected_;
      return Observed::kTableFull;
    }
    first_datagram = true;
  }
  Slot& s = slots_[index];
  s.info.packets_in += 1;
  s.info.bytes_in += bytes;
  s.info.last_seen = std::max(s.info.last_seen, now);
  if (!s.info.pinned && idle_tail_ != index) {
    Unlink(index);
    LinkAtTail(index);
  }
  return first_datagram ? Observed::kNew : Observed::kKnown;
}

bool PeerTable::OnSent(const Endpoint& to, size_t bytes) {
  auto it = index_.find(to);
  if (it == index_.end()) return false;
  PeerInfo& info = slots_[it->second].info;
  info.packets_out += 1;
  info.bytes_out += bytes;
  return true;
}

PeerTable::Observed PeerTable::Add(const Endpoint& peer, MonoTime now, bool pinned) {
  if (auto it = index_.find(peer); it != index_.end()) {
    const uint32_t index = it->second;
    Slot& s = slots_[index];
    if (s.info.pinned != pinned) {
      if (pinned) {
        Unlink(index);
      } else {
        // Rejoins the idle list at the tail: from now on it expires like a learned peer.
        s.info.last_seen = std::max(s.info.last_seen, now);
        LinkAtTail(index);
      }
      s.info.pinned = pinned;
    }
    return Observed::kKnown;
  }
  if (Insert(peer, now, pinned) == kNil) {
    ++rejected_;
    return Observed::kTableFull;
  }
  return Observed::kNew;
}

bool PeerTable::Remove(const Endpoint& peer) {
  auto it = index_.find(peer);
  if (it == index_.end()) return false;
  RemoveSlot(it->second);
  return true;
}

const PeerInfo* PeerTable::Find(const Endpoint& peer) const {
  auto it = index_.find(peer);
  return it == index_.end() ? nullptr : &slots_[it->second].info;
}

std::optional<MonoTime> PeerTable::NextExpiry() const {
  if (idle_head_ == kNil) return std::nullopt;
  return slots_[idle_head_].info.last_seen + idle_timeout_;
}

}  // namespace meshvpn::udp
