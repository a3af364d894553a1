// WireGuard's handshake (whitepaper 5.4.2-5.4.4) on noise's IKpsk2: the initiator's and the
// responder's side of one exchange in the 148- and 92-byte messages, ending in a session's keys.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "absl/status/statusor.h"
#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/noise/handshake_state.h"
#include "meshvpn/wg/messages.h"
#include "meshvpn/wg/tai64n.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::wg {

// What a finished handshake hands to the transport phase.
struct SessionKeys {
  aead::ChaCha20Poly1305 send;
  aead::ChaCha20Poly1305 receive;
  uint32_t local_index = 0;   // ours: the peer puts it in every message to us
  uint32_t remote_index = 0;  // theirs: we put it in every transport message
  bool we_initiated = false;
};

// The initiator's half: Start() writes the initiation; ConsumeResponse() finishes. A retry is a
// new InitiatorHandshake (a fresh ephemeral key), never a resend of the same bytes. Move-only;
// secrets are wiped on destruction.
class InitiatorHandshake {
 public:
  // Writes the initiation into `out` with mac1 and mac2 zero (the peer's CookieGenerator adds
  // them). `sender_index` is our fresh index for this handshake.
  static absl::StatusOr<InitiatorHandshake> Start(const x25519::PrivateKey& local_static,
                                                  const x25519::PublicKey& peer_static,
                                                  const x25519::PresharedKey& psk,
                                                  uint32_t sender_index, const Tai64n& timestamp,
                                                  std::span<uint8_t, initiation::kSize> out,
                                                  CryptoBackend backend = CryptoBackend::kOpenSsl);

  // Reads a response addressed to sender_index() (its macs are the caller's to check first).
  // Unauthenticated for a wrong key, psk or tampering; a failed response leaves this handshake
  // as it was (the real response may still come), a successful one completes it.
  absl::StatusOr<SessionKeys> ConsumeResponse(ByteSpan response);

  uint32_t sender_index() const { return sender_index_; }

 private:
  InitiatorHandshake(noise::HandshakeState state, uint32_t sender_index)
      : state_(std::move(state)), sender_index_(sender_index) {}

  noise::HandshakeState state_;
  uint32_t sender_index_;
};

// The responder's view of an initiation it decrypted: who sent it and when. The caller looks the
// initiator up by `initiator_static`, checks `timestamp` against that peer's TimestampFilter and
// then calls Respond() with that peer's psk.
class ResponderHandshake {
 public:
  // Decrypts an initiation (macs already checked). Unauthenticated when it was not made for our
  // static key; InvalidArgument for a malformed message or a low-order key.
  static absl::StatusOr<ResponderHandshake> Consume(
      const x25519::PrivateKey& local_static, ByteSpan initiation,
      CryptoBackend backend = CryptoBackend::kOpenSsl);

  const x25519::PublicKey& initiator_static() const { return initiator_static_; }
  const Tai64n& timestamp() const { return timestamp_; }
  uint32_t initiator_index() const { return initiator_index_; }

  // Writes the response into `out` (mac1 and mac2 zero) and derives the session. `sender_index`
  // is our fresh index. May be called once.
  absl::StatusOr<SessionKeys> Respond(const x25519::PresharedKey& psk, uint32_t sender_index,
                                      std::span<uint8_t, response::kSize> out);

 private:
  ResponderHandshake(noise::HandshakeState state, x25519::PublicKey initiator_static,
                     Tai64n timestamp, uint32_t initiator_index)
      : state_(std::move(state)),
        initiator_static_(initiator_static),
        timestamp_(timestamp),
        initiator_index_(initiator_index) {}

  noise::HandshakeState state_;
  x25519::PublicKey initiator_static_;
  Tai64n timestamp_;
  uint32_t initiator_index_;
};

}  // namespace meshvpn::wg
