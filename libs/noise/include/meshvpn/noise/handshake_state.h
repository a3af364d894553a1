// Noise's HandshakeState (Noise Protocol Framework rev. 34, section 5.3): runs one handshake of a
// pattern (NN, XX, IK, IKpsk2) message by message and splits into two transport CipherStates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/noise/blake2s.h"
#include "meshvpn/noise/cipher_state.h"
#include "meshvpn/noise/handshake_pattern.h"
#include "meshvpn/noise/symmetric_state.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::noise {

inline constexpr size_t kDhLen = 32;  // X25519 public keys and DH outputs

// Watches a handshake step by step (for tools and courses): called after each token is processed
// and after each message's payload. `h` is the handshake hash at that point (public: it is
// authenticated by both sides, never a secret). Never given key material.
class HandshakeObserver {
 public:
  virtual ~HandshakeObserver() = default;
  virtual void OnToken(size_t message_index, bool writing, Token token, const Blake2sHash& h) = 0;
  virtual void OnPayload(size_t message_index, bool writing, size_t payload_size,
                         const Blake2sHash& h) = 0;
};

// Everything a HandshakeState starts from (Noise's Initialize()).
struct HandshakeConfig {
  HandshakePattern pattern = HandshakePattern::kIKpsk2;
  Role role = Role::kInitiator;
  Bytes prologue;                                  // mixed into h; both sides must agree
  std::optional<x25519::PrivateKey> local_static;  // s (the public half is derived)
  // e, injected for test vectors only; normally empty: generated from the OS CSPRNG when the
  // first "e" token is written.
  std::optional<x25519::PrivateKey> local_ephemeral;
  std::optional<x25519::PublicKey> remote_static;  // rs: required where a pre-message has it
  // The psk for a psk pattern (required there, refused elsewhere). WireGuard without a
  // PresharedKey uses 32 zero bytes, which is a valid psk here.
  std::optional<x25519::PresharedKey> psk;
  CryptoBackend backend = CryptoBackend::kOpenSsl;
  HandshakeObserver* observer = nullptr;  // optional, not owned
};

// The keys a finished handshake hands to the transport phase.
struct TransportState {
  CipherState send;
  CipherState receive;
  Blake2sHash handshake_hash{};  // channel binding: equal on both sides
};

// One handshake. Call WriteMessage / ReadMessage in the order of the pattern (IsMyTurnToWrite),
// then Split() once IsComplete(). Each message is at most 65535 bytes.
//
// Failure rule: any error (bad tag, low-order key, wrong size, out of turn) makes the object
// unusable: every later call returns FailedPrecondition and its secrets are wiped. Start a new
// handshake. Errors never contain key material. Not thread-safe; secrets are wiped on
// destruction. Move-only.
class HandshakeState {
 public:
  // Checks the config against the pattern: which keys each role needs, the psk, and runs the
  // pre-messages. InvalidArgument with a clear message when a key is missing or not allowed.
  static absl::StatusOr<HandshakeState> Create(HandshakeConfig config);

  HandshakeState(HandshakeState&&) noexcept = default;
  HandshakeState& operator=(HandshakeState&&) noexcept = default;
  HandshakeState(const HandshakeState&) = delete;
  HandshakeState& operator=(const HandshakeState&) = delete;
  ~HandshakeState() = default;  // members wipe themselves

  // The exact size of the next message for a payload of `payload_size` bytes (writing), or of the
  // payload a message of `message_size` bytes carries (reading; nullopt if too short).
  size_t NextMessageSize(size_t payload_size) const;
  std::optional<size_t> PayloadSizeOf(size_t message_size) const;

  // Writes the next message (its tokens, then the encrypted payload) into `out` and returns its
  // size. InvalidArgument if `out` is too small (see NextMessageSize) or the message would exceed
  // 65535 bytes; FailedPrecondition if it is not our turn, the handshake is complete or failed.
  [[nodiscard]] absl::StatusOr<size_t> WriteMessage(ByteSpan payload, MutableByteSpan out);
  // Reads the next message and writes its payload into `payload_out` (which needs at least
  // message.size() bytes of room: it is also used for decrypting in place). Returns the payload
  // size. Unauthenticated if any tag fails (wrong key, wrong psk, tampering), InvalidArgument for
  // a wrong size or a low-order public key.
  [[nodiscard]] absl::StatusOr<size_t> ReadMessage(ByteSpan message, MutableByteSpan payload_out);

  // Replaces the preshared key before its "psk" token is processed: for protocols whose responder
  // learns who the initiator is from the first message and only then knows the psk (WireGuard).
  // InvalidArgument for a pattern without psk, FailedPrecondition once the psk was mixed in.
  [[nodiscard]] absl::Status SetPresharedKey(x25519::PresharedKey psk);

  // An independent copy of the handshake so far (secrets included, wiped on its own destruction).
  // WireGuard reads a response on a copy: a forged one then fails the copy, not the handshake.
  [[nodiscard]] absl::StatusOr<HandshakeState> Clone() const;

  bool IsMyTurnToWrite() const;
  bool IsComplete() const;
  bool failed() const { return failed_; }
  size_t message_index() const { return message_index_; }

  // Split(): the two CipherStates, the right way round for our role. FailedPrecondition before
  // the handshake is complete or after a failure; may be called once.
  [[nodiscard]] absl::StatusOr<TransportState> Split();

  const Blake2sHash& handshake_hash() const { return symmetric_.handshake_hash(); }
  const PatternSpec& spec() const { return *spec_; }
  Role role() const { return role_; }
  // rs: configured, or learned from an "s" token (nullopt until then).
  const std::optional<x25519::PublicKey>& remote_static() const { return rs_; }
  // re once read; our e's public half once written.
  const std::optional<x25519::PublicKey>& remote_ephemeral() const { return re_; }
  const std::optional<x25519::PublicKey>& local_ephemeral_public() const { return e_pub_; }
  const std::optional<x25519::PublicKey>& local_static_public() const { return s_pub_; }

 private:
  HandshakeState(const PatternSpec* spec, Role role, CryptoBackend backend);
  absl::Status Fail(absl::Status status);
  absl::Status MixDh(Token token);
  absl::Status WriteToken(Token token, MutableByteSpan out, size_t& pos);
  absl::Status ReadToken(Token token, ByteSpan message, size_t& pos);
  const MessagePattern* CurrentMessage() const;
  size_t TokenBytes(const MessagePattern& m, bool& has_key_after) const;

  const PatternSpec* spec_;
  Role role_;
  CryptoBackend backend_;
  HandshakeObserver* observer_ = nullptr;
  SymmetricState symmetric_;
  std::optional<x25519::PrivateKey> s_;
  std::optional<x25519::PublicKey> s_pub_;
  std::optional<x25519::PrivateKey> e_;
  std::optional<x25519::PublicKey> e_pub_;
  std::optional<x25519::PublicKey> rs_;
  std::optional<x25519::PublicKey> re_;
  std::optional<x25519::PresharedKey> psk_;
  size_t message_index_ = 0;
  bool failed_ = false;
  bool split_done_ = false;
  bool psk_mixed_ = false;
};

}  // namespace meshvpn::noise
