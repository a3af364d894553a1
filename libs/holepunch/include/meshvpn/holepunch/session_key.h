// SessionKey: the 32-byte key two peers derive from their X25519 keys to authenticate every
// punch probe (ping, pong, message) with a 16-byte keyed-BLAKE2s MAC.
#pragma once

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/noise/blake2s.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::holepunch {

inline constexpr size_t kMacSize = noise::kMac16Size;  // 16
inline constexpr char kSessionKeyLabel[] = "meshvpn holepunch v1 session key";

// Each peer has an X25519 key pair (a "disco key" in Tailscale's words) and learns the other's
// public key from the rendezvous server. Both compute
//
//   shared = X25519(my private, peer public)
//   key    = KDF_1(BLAKE2s(kSessionKeyLabel), shared || lower public key || higher public key)
//
// (KDF_1 is Noise's HKDF over HMAC-BLAKE2s, noise/kdf.h), so both get the same key and nobody
// without one of the two private keys - the rendezvous server included - can forge a probe.
// The rendezvous server could still hand out a key of its own (a man in the middle); pin the
// peer's public key (SessionOptions::expected_peer_key) where that matters.
//
// Secret hygiene: wiped on destruction, no comparison, not printable.
class SessionKey {
 public:
  SessionKey() = default;
  ~SessionKey();
  SessionKey(const SessionKey& other) = default;
  SessionKey& operator=(const SessionKey& other) = default;

  // Fails when the peer's key is a low-order point (x25519 refuses the all-zero secret).
  static absl::StatusOr<SessionKey> Derive(const x25519::PrivateKey& mine,
                                           const x25519::PublicKey& my_public,
                                           const x25519::PublicKey& peer_public);
  // A key from raw bytes: tests and fuzz targets.
  static SessionKey FromBytes(x25519::KeySpan bytes);

  // MAC(key, data): keyed BLAKE2s with a 16-byte output. No allocation.
  noise::Mac16 Mac(ByteSpan data) const;
  // True if `mac` (16 bytes) is MAC(key, data); constant time.
  bool Verify(ByteSpan data, ByteSpan mac) const;

  friend bool operator==(const SessionKey&, const SessionKey&) = delete;

 private:
  std::array<uint8_t, 32> key_{};
};

}  // namespace meshvpn::holepunch
