// UvPeerExpiry: a libuv timer that drives PeerTable::HandleExpiry at PeerTable::NextExpiry and
// reports each peer that timed out.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/udp/peer_table.h"

namespace meshvpn::udp {

// Told about every peer the table expires (on the loop thread).
class PeerExpiryListener {
 public:
  virtual ~PeerExpiryListener() = default;
  virtual void OnPeerExpired(const PeerInfo& peer) = 0;
};

// The timer is armed lazily: Update() re-arms only when the table's next expiry moved earlier
// than the armed deadline (a new peer with a shorter horizon), which is a comparison per batch.
// When the timer fires it expires what is due by `clock` and re-arms for the next expiry, so a
// deadline pushed later by fresh traffic costs one early wake-up rather than a re-arm per packet.
//
// With a FakeClock, Update() after Advance() arms a zero-delay timer that expires what the fake
// time says is due on the next loop iteration.
class UvPeerExpiry {
 public:
  // `table`, `clock` and `listener` (may be null) must outlive this object.
  static absl::StatusOr<std::unique_ptr<UvPeerExpiry>> Create(uv_loop_t* loop, PeerTable* table,
                                                              const Clock* clock,
                                                              PeerExpiryListener* listener);
  UvPeerExpiry(const UvPeerExpiry&) = delete;
  UvPeerExpiry& operator=(const UvPeerExpiry&) = delete;

  // Call after the table may have gained peers (UdpSocket does once per received batch).
  void Update();
  // Re-arms from scratch for the table's next expiry as the clock now reads: after the clock
  // jumped (FakeClock::Advance in tests) or peers were removed by hand.
  void Reschedule();
  // The deadline the timer is armed for, if any.
  std::optional<MonoTime> armed_deadline() const { return armed_; }

 private:
  UvPeerExpiry(PeerTable* table, const Clock* clock, PeerExpiryListener* listener)
      : table_(table), clock_(clock), listener_(listener) {}
  static void OnTimer(uv_timer_t* timer);
  void HandleTimer();
  void Arm(MonoTime deadline);

  PeerTable* table_;
  const Clock* clock_;
  PeerExpiryListener* listener_;
  UvTimer timer_;
  std::optional<MonoTime> armed_;
};

}  // namespace meshvpn::udp
