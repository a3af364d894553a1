// X25519 Diffie-Hellman: backend dispatch and the all-zero check (see x25519.h).
#include "meshvpn/x25519/x25519.h"

#include <array>

#include "absl/status/status.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"
#include "openssl_backend.h"
#include "ref_ladder.h"

namespace meshvpn::x25519 {
namespace {

// The u-coordinate of Curve25519's base point: 9, little-endian.
constexpr std::array<uint8_t, kKeySize> kBasePoint = {9};

// out = X25519(scalar, u) on the chosen backend.
absl::Status RawX25519(CryptoBackend backend, KeySpan scalar, KeySpan u, MutableKeySpan out) {
  switch (backend) {
    case CryptoBackend::kOpenSsl:
      return openssl::X25519(scalar, u, out);
    case CryptoBackend::kReference:
      ref::X25519(scalar, u, out);
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError("x25519: unknown crypto backend");
}

}  // namespace

void ClampScalar(MutableKeySpan scalar) {
  scalar[0] &= 248;
  scalar[31] &= 127;
  scalar[31] |= 64;
}

absl::StatusOr<KeyPair> GenerateKeyPair(CryptoBackend backend) {
  MESHVPN_ASSIGN_OR_RETURN(PrivateKey private_key, PrivateKey::Generate());
  MESHVPN_ASSIGN_OR_RETURN(PublicKey public_key, DerivePublicKey(private_key, backend));
  return KeyPair{std::move(private_key), public_key};
}

absl::StatusOr<PublicKey> DerivePublicKey(const PrivateKey& private_key, CryptoBackend backend) {
  std::array<uint8_t, kKeySize> out{};
  if (backend == CryptoBackend::kOpenSsl) {
    MESHVPN_RETURN_IF_ERROR(openssl::PublicFromPrivate(private_key.ExposeSecretBytes(), out));
  } else {
    MESHVPN_RETURN_IF_ERROR(RawX25519(backend, private_key.ExposeSecretBytes(), kBasePoint, out));
  }
  return PublicKey(out);
}

absl::StatusOr<SharedSecret> ComputeSharedSecret(const PrivateKey& private_key,
                                                 const PublicKey& peer_public_key,
                                                 CryptoBackend backend) {
  std::array<uint8_t, kKeySize> out{};
  MESHVPN_RETURN_IF_ERROR(
      RawX25519(backend, private_key.ExposeSecretBytes(), peer_public_key.bytes(), out));
  SharedSecret secret{KeySpan(out)};
  SecureWipe(out);
  // Checking for zero leaks one bit, "was the peer's key low-order?", which the peer knows anyway.
  if (secret.IsZero()) return absl::InvalidArgumentError(kLowOrderPublicKeyMessage);
  return secret;
}

}  // namespace meshvpn::x25519
