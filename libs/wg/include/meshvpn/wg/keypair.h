// One WireGuard session's transport keys and counters (whitepaper 5.4.6), and a peer's three
// keypair slots - previous, current, next - with the rotation rules of the Linux module.
#pragma once

#include <cstdint>
#include <memory>

#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/wg/handshake.h"
#include "meshvpn/wg/replay_window.h"
#include "meshvpn/wg/timers.h"

namespace meshvpn::wg {

// A session: sealing uses `send` with a counter that only grows; opening uses `receive` and the
// replay window. Not thread-safe (the device serialises a peer's packets).
struct Keypair {
  Keypair(SessionKeys keys, MonoTime created_at)
      : send(std::move(keys.send)),
        receive(std::move(keys.receive)),
        local_index(keys.local_index),
        remote_index(keys.remote_index),
        we_initiated(keys.we_initiated),
        created(created_at) {}

  KeypairUsage usage() const { return {created, next_send_counter, we_initiated}; }

  aead::ChaCha20Poly1305 send;
  aead::ChaCha20Poly1305 receive;
  uint32_t local_index;
  uint32_t remote_index;
  bool we_initiated;
  MonoTime created;
  uint64_t next_send_counter = 0;
  ReplayWindow replay{kRejectAfterMessages};
};

// The slots:
//   current   sends and receives.
//   previous  receives only: packets still in flight under the last session.
//   next      receives only: a responder's new session, not used for sending until the
//             initiator proves it has it (its first transport message under it arrives).
//
//   initiator completes:  previous <- (next if any, else current); current <- new; next <- none
//   responder completes:  next <- new; previous <- none   (current keeps sending meanwhile)
//   data arrives on next: previous <- current; current <- next; next <- none
//
// Keypairs that leave the slots are returned to the caller (to unregister their indices).
class KeypairSlots {
 public:
  // Installs a new session by the rules above. Returns the keypairs that were dropped (up to 2).
  struct Dropped {
    std::unique_ptr<Keypair> a, b;
  };
  Dropped Install(std::unique_ptr<Keypair> keypair);
  // `keypair` is in the next slot and received data: promote it. Returns the dropped previous.
  // False (nothing changes) if it is not the next keypair.
  bool ConfirmNext(const Keypair* keypair, std::unique_ptr<Keypair>* dropped);
  // Removes every keypair (zero-key-material timer, peer removal); they are returned.
  Dropped ClearAll(std::unique_ptr<Keypair>* third);

  Keypair* current() const { return current_.get(); }
  Keypair* previous() const { return previous_.get(); }
  Keypair* next() const { return next_.get(); }

 private:
  std::unique_ptr<Keypair> previous_;
  std::unique_ptr<Keypair> current_;
  std::unique_ptr<Keypair> next_;
};

}  // namespace meshvpn::wg
