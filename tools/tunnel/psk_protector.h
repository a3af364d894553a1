// psk_tunnel's packet protection: ChaCha20-Poly1305 under a pre-shared key, a per-direction
// counter nonce that never repeats, and a sliding replay window. Sans-I/O.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/wg/replay_window.h"
#include "packet_protector.h"

namespace meshvpn::tunnel {

// The datagram:
//
//   0        1        4                  12                      12+n       12+n+16
//   +--------+--------+------------------+-----------------------+----------+
//   | dir    | 0 0 0  | counter (LE, 64) | ChaCha20(IP packet)   | Poly1305 |
//   +--------+--------+------------------+-----------------------+----------+
//   \________ nonce (12 bytes) and associated data ______________/
//
// The 12-byte header is the nonce itself: the direction byte (1 = client to server, 2 = server
// to client) keeps the two directions' nonces apart under one key, and the counter never repeats
// within a direction. The header is also the associated data, so flipping the direction or the
// counter fails authentication. An empty payload is a keepalive.
class PskProtector final : public PacketProtector {
 public:
  enum class Direction : uint8_t { kClientToServer = 1, kServerToClient = 2 };
  static constexpr size_t kHeaderSize = 12;

  // `send_direction` is this side's: a client sends kClientToServer and accepts only
  // kServerToClient. `first_counter` exists for tests of counter exhaustion.
  static absl::StatusOr<PskProtector> Create(ByteSpan key, Direction send_direction,
                                             CryptoBackend backend = CryptoBackend::kOpenSsl,
                                             uint64_t first_counter = 0);

  size_t header_size() const override { return kHeaderSize; }
  size_t trailer_size() const override { return aead::kTagSize; }
  ProtectResult Protect(PacketBuffer& buffer) override;
  ProtectResult MakeKeepalive(PacketBuffer& buffer) override;
  UnprotectResult Unprotect(PacketBuffer& buffer) override;

  // The next counter Protect() will use.
  uint64_t next_send_counter() const { return next_counter_; }

 private:
  PskProtector(aead::ChaCha20Poly1305 key, Direction send_direction, uint64_t first_counter)
      : key_(std::move(key)), send_direction_(send_direction), next_counter_(first_counter) {}

  aead::ChaCha20Poly1305 key_;
  Direction send_direction_;
  uint64_t next_counter_;
  // UINT64_MAX is never sent (Protect refuses it), so the window accepts everything below it.
  wg::ReplayWindow replay_{UINT64_MAX};
};

}  // namespace meshvpn::tunnel
