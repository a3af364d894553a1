// PeerTable: who talks to one UDP socket (first/last seen, packets and bytes each way) and which
// peers went quiet for longer than the idle timeout. Sans-I/O: the caller passes the time in.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::udp {

struct PeerInfo {
  Endpoint endpoint;
  MonoTime first_seen{};  // when the peer entered the table (first datagram, or Add())
  MonoTime last_seen{};   // the last datagram from it (or Add()): what the idle timeout measures
  uint64_t packets_in = 0;
  uint64_t bytes_in = 0;
  uint64_t packets_out = 0;
  uint64_t bytes_out = 0;
  bool pinned = false;  // added by configuration (Add(..., pinned=true)): never expires
};

// A bounded table of peers keyed by Endpoint.
//
// Memory is fixed at construction (max_peers slots and a hash index sized so that it never
// grows), so learning, updating and expiring peers does not allocate. Unpinned peers sit on a
// list ordered by last_seen, so NextExpiry() is O(1) and HandleExpiry() touches only the peers it
// removes. Time comes in as arguments and must not go backwards (pass Clock::Now()).
//
// Not thread-safe: owned by the loop thread that drives the socket.
class PeerTable {
 public:
  struct Options {
    Duration idle_timeout = std::chrono::seconds(30);
    size_t max_peers = 1024;
  };
  enum class Observed : uint8_t {
    kKnown,      // a peer already heard from
    kNew,        // the first datagram from this peer (new to the table, or added but never heard)
    kTableFull,  // unknown, and the table is full: not tracked (counted in rejected())
  };

  PeerTable() : PeerTable(Options{}) {}
  explicit PeerTable(Options options);

  // Records a datagram of `bytes` from `from`, learning the peer if it is new.
  Observed OnReceived(const Endpoint& from, size_t bytes, MonoTime now);
  // Records a datagram sent to `to`. Returns false (and counts nothing) for an unknown peer.
  // Sending does not refresh last_seen: only hearing from a peer proves it is alive.
  bool OnSent(const Endpoint& to, size_t bytes);
  // Adds a peer before hearing from it (a configured endpoint); it expires like any other unless
  // `pinned`. Returns kNew if added, kKnown if it was there (then `pinned` is applied to it).
  Observed Add(const Endpoint& peer, MonoTime now, bool pinned = false);
  // Forgets a peer; false if it was not in the table.
  bool Remove(const Endpoint& peer);

  // nullptr if unknown. Valid until the table next changes.
  const PeerInfo* Find(const Endpoint& peer) const;

  // When the least recently heard unpinned peer will have been idle for idle_timeout; nullopt
  // when no peer can expire. A driver arms its timer for this time.
  std::optional<MonoTime> NextExpiry() const;
  // Removes every unpinned peer idle for idle_timeout or longer at `now`, least recently heard
  // first, calling on_expired(const PeerInfo&) for each after it has been removed. Returns how
  // many expired.
  template <typename F>
  size_t HandleExpiry(MonoTime now, F&& on_expired);

  // Calls f(const PeerInfo&) for every peer, in slot order (stable while the table is unchanged).
  template <typename F>
  void ForEach(F&& f) const;

  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  size_t max_peers() const { return slots_.size(); }
  Duration idle_timeout() const { return idle_timeout_; }

  uint64_t learned() const { return learned_; }    // peers ever added or learned
  uint64_t expired() const { return expired_; }    // peers removed by HandleExpiry
  uint64_t rejected() const { return rejected_; }  // datagrams from unknown peers when full

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Slot {
    PeerInfo info;
    uint32_t prev = kNil;  // on the idle list (unpinned peers), or the free list (next only)
    uint32_t next = kNil;
    bool used = false;
  };

  uint32_t Insert(const Endpoint& peer, MonoTime now, bool pinned);
  void RemoveSlot(uint32_t index);
  void Unlink(uint32_t index);
  void LinkAtTail(uint32_t index);

  Duration idle_timeout_;
  std::vector<Slot> slots_;
  absl::flat_hash_map<Endpoint, uint32_t> index_;
  uint32_t free_head_ = kNil;
  uint32_t idle_head_ = kNil;  // least recently heard
  uint32_t idle_tail_ = kNil;  // most recently heard
  uint64_t learned_ = 0;
  uint64_t expired_ = 0;
  uint64_t rejected_ = 0;
};

std::string_view ToString(PeerTable::Observed observed);

template <typename F>
size_t PeerTable::HandleExpiry(MonoTime now, F&& on_expired) {
  size_t count = 0;
  while (idle_head_ != kNil && slots_[idle_head_].info.last_seen + idle_timeout_ <= now) {
    const PeerInfo gone = slots_[idle_head_].info;
    RemoveSlot(idle_head_);
    ++expired_;
    ++count;
    on_expired(gone);
  }
  return count;
}

template <typename F>
void PeerTable::ForEach(F&& f) const {
  for (const Slot& slot : slots_) {
    if (slot.used) f(slot.info);
  }
}

}  // namespace meshvpn::udp
