// Noise's SymmetricState (Noise Protocol Framework rev. 34, section 5.2): the chaining key ck, the
// handshake hash h and a CipherState, for the 25519_ChaChaPoly_BLAKE2s suite.
#pragma once

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/noise/blake2s.h"
#include "meshvpn/noise/cipher_state.h"

namespace meshvpn::noise {

// The two CipherStates Split() returns: the first encrypts initiator -> responder, the second
// responder -> initiator.
struct CipherStatePair {
  CipherState initiator_to_responder;
  CipherState responder_to_initiator;
};

// HASH is BLAKE2s-256, HKDF is kdf.h's Kdf2/Kdf3 (HMAC-BLAKE2s). ck is wiped on destruction and
// on Split. Not thread-safe. A failed DecryptAndHash leaves h unchanged and the object unusable
// (its CipherState fails, so later EncryptAndHash/DecryptAndHash calls fail too).
class SymmetricState {
 public:
  explicit SymmetricState(CryptoBackend backend = CryptoBackend::kOpenSsl)
      : backend_(backend), cipher_(backend) {}
  ~SymmetricState();
  SymmetricState(SymmetricState&& other) noexcept = default;
  SymmetricState& operator=(SymmetricState&& other) noexcept = default;
  SymmetricState(const SymmetricState&) = delete;
  SymmetricState& operator=(const SymmetricState&) = delete;

  // h = protocol_name padded with zeros to 32 bytes, or HASH(protocol_name) if longer; ck = h;
  // no cipher key.
  void InitializeSymmetric(std::string_view protocol_name);
  // ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k).
  [[nodiscard]] absl::Status MixKey(ByteSpan input_key_material);
  // h = HASH(h || data).
  void MixHash(ByteSpan data);
  // ck, temp_h, temp_k = HKDF(ck, ikm, 3); MixHash(temp_h); InitializeKey(temp_k). (psk tokens)
  [[nodiscard]] absl::Status MixKeyAndHash(ByteSpan input_key_material);
  // EncryptWithAd(h, plaintext) in place (see CipherState), then MixHash(ciphertext).
  [[nodiscard]] absl::StatusOr<size_t> EncryptAndHash(MutableByteSpan buffer,
                                                      size_t plaintext_size);
  // DecryptWithAd(h, ciphertext) in place, then MixHash(ciphertext) (hashed before decrypting,
  // committed only on success).
  [[nodiscard]] absl::StatusOr<size_t> DecryptAndHash(MutableByteSpan message);
  // temp_k1, temp_k2 = HKDF(ck, empty, 2); two CipherStates keyed with them. Wipes ck.
  [[nodiscard]] absl::StatusOr<CipherStatePair> Split();

  // An independent copy (see CipherState::Clone).
  [[nodiscard]] absl::StatusOr<SymmetricState> Clone() const;

  const Blake2sHash& handshake_hash() const { return h_; }
  bool has_key() const { return cipher_.HasKey(); }
  CryptoBackend backend() const { return backend_; }

 private:
  CryptoBackend backend_;
  Blake2sHash ck_{};
  Blake2sHash h_{};
  CipherState cipher_;
};

}  // namespace meshvpn::noise
