// X25519 Diffie-Hellman (RFC 7748): key pairs, public keys and shared secrets, two backends.
#pragma once

#include "absl/status/statusor.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::x25519 {

// Every function takes the backend that does the arithmetic:
//   CryptoBackend::kOpenSsl   (default) OpenSSL 3's EVP X25519, the fast production path.
//   CryptoBackend::kReference meshvpn's own readable implementation (src/ref_field.cc and
//                             src/ref_ladder.cc), written to be studied in a course.
// Both are constant-time in the secret scalar and give identical results on every input.
// All functions are thread-safe and may be called concurrently.

// RFC 7748 section 5 "clamping" of a scalar: clear the low 3 bits (a multiple of the cofactor 8,
// so small-subgroup components vanish), clear bit 255 and set bit 254 (fixed ladder length).
void ClampScalar(MutableKeySpan scalar);

struct KeyPair {
  PrivateKey private_key;
  PublicKey public_key;
};

// A fresh random, clamped private key and its public key.
absl::StatusOr<KeyPair> GenerateKeyPair(CryptoBackend backend = CryptoBackend::kOpenSsl);

// public = X25519(private, 9): the private scalar times the base point.
absl::StatusOr<PublicKey> DerivePublicKey(const PrivateKey& private_key,
                                          CryptoBackend backend = CryptoBackend::kOpenSsl);

// shared = X25519(my private, peer's public). Both sides of an exchange get the same 32 bytes.
//
// The peer's key is read as RFC 7748 says: bit 255 is ignored and values >= 2^255-19 are
// reduced mod p (non-canonical encodings are accepted). Points on the twist are accepted too.
// If the result is all zeros (the peer's key is a low-order point, so the "secret" would be the
// same for every private key: RFC 7748 section 6.1), this fails with InvalidArgumentError and
// the message in kLowOrderPublicKeyMessage; the zero bytes never leave the function.
absl::StatusOr<SharedSecret> ComputeSharedSecret(const PrivateKey& private_key,
                                                 const PublicKey& peer_public_key,
                                                 CryptoBackend backend = CryptoBackend::kOpenSsl);

inline constexpr char kLowOrderPublicKeyMessage[] =
    "x25519: the shared secret is all zeros because the peer's public key is a low-order point "
    "(rejected as RFC 7748 section 6.1 says)";

}  // namespace meshvpn::x25519
