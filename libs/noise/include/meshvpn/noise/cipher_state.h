// Noise's CipherState (Noise Protocol Framework rev. 34, section 5.1): a key k and a counter nonce
// n over ChaChaPoly, encrypting and decrypting in place.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/noise/blake2s.h"

namespace meshvpn::noise {

inline constexpr size_t kNoiseKeySize = 32;               // Noise's k (ChaChaPoly key)
inline constexpr size_t kNoiseTagSize = 16;               // ChaChaPoly's authentication tag
inline constexpr size_t kNoiseMaxMessageSize = 65535;     // Noise section 3: every message
inline constexpr uint64_t kNoiseMaxNonce = ~uint64_t{0};  // 2^64-1: reserved (Rekey uses it)

using NoiseKeySpan = std::span<const uint8_t, kNoiseKeySize>;

// The nonce for ChaChaPoly (Noise section 12.3): 32 bits of zeros, then n as 64-bit little-endian.
// The same layout as WireGuard's counter nonce.
constexpr std::array<uint8_t, aead::kNonceSize> NoiseNonce(uint64_t n) {
  return aead::CounterNonce(n);
}

// A CipherState. Without a key (HasKey() false) encryption and decryption pass the bytes through
// unchanged, as Noise specifies for the first tokens of a handshake.
//
// Failure rule: a failed decryption (bad tag, or the nonce ran out) makes the object unusable:
// every later call returns FailedPrecondition and the key is wiped. A caller that must survive
// forged packets (a VPN data path) keeps its own counters and keys (the wg library does).
//
// Errors are absl::Status with fixed messages that never contain key material. Not thread-safe.
// The key is wiped on destruction (and on Rekey, the old key).
class CipherState {
 public:
  explicit CipherState(CryptoBackend backend = CryptoBackend::kOpenSsl) : backend_(backend) {}
  ~CipherState();
  CipherState(CipherState&& other) noexcept;
  CipherState& operator=(CipherState&& other) noexcept;
  CipherState(const CipherState&) = delete;
  CipherState& operator=(const CipherState&) = delete;

  // InitializeKey(key): k = key, n = 0; clears a previous failure. Builds the AEAD context
  // (allocates with kOpenSsl): setup, not per packet.
  [[nodiscard]] absl::Status InitializeKey(NoiseKeySpan key);
  bool HasKey() const { return has_key_; }
  // SetNonce(n), for transports that carry the nonce explicitly (out-of-order delivery).
  void SetNonce(uint64_t n) { n_ = n; }
  uint64_t nonce() const { return n_; }
  bool failed() const { return failed_; }
  CryptoBackend backend() const { return backend_; }

  // EncryptWithAd(ad, plaintext): `buffer` holds the plaintext in its first plaintext_size bytes
  // and is encrypted in place; with a key the 16-byte tag follows, so buffer.size() must be at
  // least plaintext_size + 16. Returns the ciphertext size (plaintext_size + 16, or
  // plaintext_size without a key) and increments n. Errors: InvalidArgument (sizes),
  // ResourceExhausted (n reached 2^64-1), FailedPrecondition (unusable after a failure).
  [[nodiscard]] absl::StatusOr<size_t> EncryptWithAd(ByteSpan ad, MutableByteSpan buffer,
                                                     size_t plaintext_size);
  // DecryptWithAd(ad, ciphertext): `message` is ciphertext || tag, decrypted in place. Returns the
  // plaintext size (message.size() - 16, or message.size() without a key) and increments n.
  // Unauthenticated if the tag does not match: `message` is zeroed, n is not incremented and the
  // object becomes unusable.
  [[nodiscard]] absl::StatusOr<size_t> DecryptWithAd(ByteSpan ad, MutableByteSpan message);

  // Rekey(): k = the first 32 bytes of ENCRYPT(k, 2^64-1, empty ad, 32 zero bytes) (section 4.2).
  // n is unchanged. FailedPrecondition without a key.
  [[nodiscard]] absl::Status Rekey();

  // Hands the keyed AEAD to a transport that manages its own nonces (WireGuard sends its counter
  // on the wire and accepts it out of order) and leaves this state keyless and failed.
  // FailedPrecondition without a key.
  [[nodiscard]] absl::StatusOr<aead::ChaCha20Poly1305> TakeAead();

  // An independent copy (same key and nonce, its own AEAD context): a second secret, wiped on its
  // own destruction. For trying a message on a copy so that a forged one cannot spend the state.
  [[nodiscard]] absl::StatusOr<CipherState> Clone() const;

  // A 32-byte identifier of the current key, HASH("meshvpn noise key id" || k): safe to print
  // (one-way), equal on both ends of a channel, nullopt-like all-zero without a key.
  Blake2sHash KeyId() const;

 private:
  void Fail();

  CryptoBackend backend_;
  bool has_key_ = false;
  bool failed_ = false;
  uint64_t n_ = 0;
  std::array<uint8_t, kNoiseKeySize> k_{};
  aead::ChaCha20Poly1305 aead_;
};

}  // namespace meshvpn::noise
