// Typed 32-byte keys for X25519 and WireGuard: private, public, preshared, and the DH output.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::x25519 {

// Every X25519 key, shared secret and WireGuard preshared key is 32 bytes. In WireGuard's base64
// format that is 44 characters (43 plus one '=' of padding); in hex, 64.
inline constexpr size_t kKeySize = 32;
inline constexpr size_t kKeyBase64Length = 44;
inline constexpr size_t kKeyHexLength = 64;

using KeySpan = std::span<const uint8_t, kKeySize>;
using MutableKeySpan = std::span<uint8_t, kKeySize>;

namespace internal {

// 32 secret bytes that are wiped on destruction. A copy is a second secret (wiped on its own
// destruction); a move copies and then zeroes the source. No comparison, no printing.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(KeySpan bytes);
  SecretBytes(const SecretBytes&) = default;
  SecretBytes& operator=(const SecretBytes&) = default;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  KeySpan view() const { return KeySpan(bytes_); }
  MutableKeySpan mutable_view() { return MutableKeySpan(bytes_); }
  // Both run in time independent of the contents.
  bool IsZero() const;
  bool ConstantTimeEquals(const SecretBytes& other) const;

 private:
  std::array<uint8_t, kKeySize> bytes_{};
};

}  // namespace internal

// A public key: a Curve25519 u-coordinate, 32 bytes little-endian (RFC 7748 section 5). Not
// secret: comparable, hashable (absl::Hash and std::hash), orderable and printable (base64).
class PublicKey {
 public:
  PublicKey() = default;  // all zeros, see IsZero()
  explicit PublicKey(KeySpan bytes);

  // WireGuard's format: standard base64 of the 32 bytes, 44 characters.
  static absl::StatusOr<PublicKey> FromBase64(std::string_view text);
  // 64 hex characters (WireGuard's UAPI uses this form).
  static absl::StatusOr<PublicKey> FromHex(std::string_view text);
  // Exactly 32 raw bytes.
  static absl::StatusOr<PublicKey> FromBytes(ByteSpan bytes);

  std::string ToBase64() const;
  std::string ToHex() const;
  KeySpan bytes() const { return KeySpan(bytes_); }
  // The all-zero key is WireGuard's "unset" value (and a low-order point: DH with it fails).
  bool IsZero() const;

  friend bool operator==(const PublicKey&, const PublicKey&) = default;
  friend std::strong_ordering operator<=>(const PublicKey&, const PublicKey&) = default;

  template <typename H>
  friend H AbslHashValue(H state, const PublicKey& key) {
    return H::combine_contiguous(std::move(state), key.bytes_.data(), key.bytes_.size());
  }

 private:
  std::array<uint8_t, kKeySize> bytes_{};
};

// Writes the base64 form (public keys only; secret key types are deliberately not printable).
std::ostream& operator<<(std::ostream& os, const PublicKey& key);

// A private key: 32 secret bytes, the X25519 scalar. Any 32 bytes are usable: X25519 "clamps"
// the scalar each time it uses it (RFC 7748 section 5), so a key read from a config file is kept
// exactly as written. Generate() returns an already clamped key, as `wg genkey` does.
//
// Secret hygiene: wiped on destruction, no operator== (use ConstantTimeEquals), no operator<<
// and no ToString. Getting the key out as text needs an explicitly named Export* call.
class PrivateKey {
 public:
  PrivateKey() = default;  // all zeros, see IsZero()
  explicit PrivateKey(KeySpan bytes) : secret_(bytes) {}

  // 32 bytes from the operating system's CSPRNG, clamped.
  static absl::StatusOr<PrivateKey> Generate();
  // Parsers: errors describe what is wrong (length, offset of a bad character) but never echo
  // the text, which may be a real key.
  static absl::StatusOr<PrivateKey> FromBase64(std::string_view text);
  static absl::StatusOr<PrivateKey> FromHex(std::string_view text);
  static absl::StatusOr<PrivateKey> FromBytes(ByteSpan bytes);

  // The key in WireGuard's config file format (`PrivateKey = ...`, base64). The returned string
  // holds the secret: wipe it (SecureWipe) once written.
  std::string ExportBase64ForConfig() const;
  // The key in WireGuard's UAPI format (`private_key=...`, hex). The same care applies.
  std::string ExportHexForUapi() const;
  // The raw bytes, for handing to a cryptographic primitive only. Never log or copy them out.
  KeySpan ExposeSecretBytes() const { return secret_.view(); }

  bool IsZero() const { return secret_.IsZero(); }
  bool ConstantTimeEquals(const PrivateKey& other) const {
    return secret_.ConstantTimeEquals(other.secret_);
  }

  friend bool operator==(const PrivateKey&, const PrivateKey&) = delete;       // ConstantTimeEquals
  friend std::ostream& operator<<(std::ostream&, const PrivateKey&) = delete;  // never printable

 private:
  internal::SecretBytes secret_;
};

// WireGuard's optional preshared key (mixed into the handshake for post-quantum resistance).
// 32 uniformly random secret bytes, no clamping. The all-zero key means "no preshared key".
// Same secret hygiene as PrivateKey.
class PresharedKey {
 public:
  PresharedKey() = default;  // all zeros: WireGuard's "no preshared key"
  explicit PresharedKey(KeySpan bytes) : secret_(bytes) {}

  // 32 bytes from the operating system's CSPRNG (as `wg genpsk` does).
  static absl::StatusOr<PresharedKey> Generate();
  static absl::StatusOr<PresharedKey> FromBase64(std::string_view text);
  static absl::StatusOr<PresharedKey> FromHex(std::string_view text);
  static absl::StatusOr<PresharedKey> FromBytes(ByteSpan bytes);

  // `PresharedKey = ...` in a config file (base64). The returned string holds the secret.
  std::string ExportBase64ForConfig() const;
  // `preshared_key=...` in WireGuard's UAPI (hex). The returned string holds the secret.
  std::string ExportHexForUapi() const;
  KeySpan ExposeSecretBytes() const { return secret_.view(); }

  bool IsZero() const { return secret_.IsZero(); }
  bool ConstantTimeEquals(const PresharedKey& other) const {
    return secret_.ConstantTimeEquals(other.secret_);
  }

  friend bool operator==(const PresharedKey&, const PresharedKey&) = delete;
  friend std::ostream& operator<<(std::ostream&, const PresharedKey&) = delete;

 private:
  internal::SecretBytes secret_;
};

// The output of X25519 Diffie-Hellman: 32 secret bytes that are only ever fed into a key
// derivation function (never used as a key directly). ComputeSharedSecret() never returns an
// all-zero one. No parsing and no export: it exists only in memory.
class SharedSecret {
 public:
  SharedSecret() = default;
  explicit SharedSecret(KeySpan bytes) : secret_(bytes) {}

  KeySpan ExposeSecretBytes() const { return secret_.view(); }
  bool IsZero() const { return secret_.IsZero(); }
  bool ConstantTimeEquals(const SharedSecret& other) const {
    return secret_.ConstantTimeEquals(other.secret_);
  }

  friend bool operator==(const SharedSecret&, const SharedSecret&) = delete;
  friend std::ostream& operator<<(std::ostream&, const SharedSecret&) = delete;

 private:
  internal::SecretBytes secret_;
};

}  // namespace meshvpn::x25519

template <>
struct std::hash<meshvpn::x25519::PublicKey> {
  size_t operator()(const meshvpn::x25519::PublicKey& key) const {
    return absl::Hash<meshvpn::x25519::PublicKey>{}(key);
  }
};
