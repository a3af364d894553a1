// curve25519_demo: two parties agree on a secret with X25519 (deep-dive project 4).
//
// Alice and Bob each generate a key pair, swap public keys, compute the same shared secret with
// meshvpn::x25519, and turn it into a symmetric key with HKDF-SHA256. Then Mallory sends a
// low-order public key, and the library refuses it.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "common/tool_init.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/x25519/version.h"
#include "meshvpn/x25519/x25519.h"

ABSL_FLAG(std::string, backend, "openssl",
          "Which X25519 implementation does the math: 'openssl' (OpenSSL 3, the production "
          "default) or 'ref' (meshvpn's own readable code: libs/x25519/src/ref_*.cc)");
ABSL_FLAG(bool, full, false,
          "Print whole 32-byte values in hex (public keys, shared secret, derived key) instead of "
          "the short 'first4...last2' form. Private keys are never printed");
ABSL_FLAG(bool, rfc7748, false,
          "Use the fixed Alice and Bob keys of RFC 7748 section 6.1 instead of random ones, and "
          "compare the shared secret with the one printed in the RFC");

namespace {

using meshvpn::ByteSpan;
using meshvpn::CryptoBackend;
using meshvpn::HexEncode;
namespace x25519 = meshvpn::x25519;

constexpr char kUsage[] =
    R"(watch an X25519 (Curve25519) key exchange, step by step.

What happens:
  1. Alice and Bob each pick a random 32-byte private key (clamped, RFC 7748) and compute
     their public key = private key x base point (u = 9) on Curve25519.
  2. They swap public keys over an open channel. An eavesdropper sees only public keys.
  3. Each multiplies the OTHER's public key by their OWN private key. Because
     a x (b x G) = b x (a x G), both get the same 32-byte shared secret.
  4. The shared secret is not used as a key directly: HKDF-SHA256 turns it into a
     uniformly random 32-byte key for ChaCha20-Poly1305. (WireGuard does the same with
     HKDF over BLAKE2s.)
  5. Mallory sends a "low-order" public key: a point that makes every private key produce
     the same all-zero result. The library refuses it (RFC 7748 section 6.1).

Usage:
  curve25519_demo [--backend=openssl|ref] [--full] [--rfc7748]

Examples:
  curve25519_demo                  random keys, OpenSSL backend
  curve25519_demo --backend=ref    the same with meshvpn's from-scratch implementation
  curve25519_demo --rfc7748 --full the RFC's test keys, whole values, to check by hand

Private keys are always shown as [redacted]: they never leave the process. Exit status is 0
when the secrets match and the bad key is rejected, 1 otherwise.)";

// "3b5a2c8f...d4e1" (first 4 and last 2 bytes), or the whole value with --full.
std::string Show(ByteSpan bytes) {
  if (absl::GetFlag(FLAGS_full) || bytes.size() <= 6) return HexEncode(bytes);
  return HexEncode(bytes.first(4)) + "..." + HexEncode(bytes.last(2));
}

// HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_KDF: no salt, so the extract step uses a zero key.
absl::Status HkdfSha256(ByteSpan input_key, ByteSpan info, meshvpn::MutableByteSpan out) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return absl::InternalError("HKDF is not available in this OpenSSL");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(input_key.data()),
                                        input_key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end()};
  const int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) return absl::InternalError("HKDF-SHA256 failed");
  return absl::OkStatus();
}

// The HKDF "info" binds the key to this demo and to both public keys (as real protocols bind
// keys to their handshake transcript).
std::vector<uint8_t> KdfInfo(const x25519::PublicKey& alice, const x25519::PublicKey& bob) {
  const std::string_view label = "meshvpn curve25519_demo v1";
  std::vector<uint8_t> info(label.begin(), label.end());
  info.insert(info.end(), alice.bytes().begin(), alice.bytes().end());
  info.insert(info.end(), bob.bytes().begin(), bob.bytes().end());
  return info;
}

absl::StatusOr<x25519::PrivateKey> FixedKey(std::string_view hex) {
  std::array<uint8_t, x25519::kKeySize> bytes{};
  if (absl::Status s = meshvpn::HexDecodeInto(hex, bytes); !s.ok()) return s;
  x25519::PrivateKey key(bytes);
  meshvpn::SecureWipe(bytes);
  return key;
}

struct Party {
  const char* name;
  x25519::PrivateKey private_key;
  x25519::PublicKey public_key;
};

absl::StatusOr<Party> MakeParty(const char* name, std::string_view rfc_private_hex,
                                CryptoBackend backend) {
  if (absl::GetFlag(FLAGS_rfc7748)) {
    absl::StatusOr<x25519::PrivateKey> key = FixedKey(rfc_private_hex);
    if (!key.ok()) return key.status();
    absl::StatusOr<x25519::PublicKey> pub = x25519::DerivePublicKey(*key, backend);
    if (!pub.ok()) return pub.status();
    return Party{name, *std::move(key), *pub};
  }
  absl::StatusOr<x25519::KeyPair> pair = x25519::GenerateKeyPair(backend);
  if (!pair.ok()) return pair.status();
  return Party{name, std::move(pair->private_key), pair->public_key};
}

void PrintParty(const Party& p) {
  std::printf("%s:\n", p.name);
  std::printf("  Private key: [redacted %zu bytes%s]\n", x25519::kKeySize,
              absl::GetFlag(FLAGS_rfc7748) ? ", the RFC 7748 section 6.1 test key" : "");
  std::printf("  Public key:  %s (%zu bytes)\n", Show(p.public_key.bytes()).c_str(),
              x25519::kKeySize);
  std::printf("               WireGuard format: %s\n", p.public_key.ToBase64().c_str());
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "curve25519_demo: %s\n", std::string(status.message()).c_str());
  return 1;
}

int Run(CryptoBackend backend) {
  std::printf("Backend: %s (meshvpn x25519 %s)\n\n", std::string(ToString(backend)).c_str(),
              std::string(x25519::kVersionString).c_str());
  std::printf("Generating key pairs...\n");
  absl::StatusOr<Party> alice = MakeParty(
      "Alice", "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", backend);
  if (!alice.ok()) return Fail(alice.status());
  absl::StatusOr<Party> bob =
      MakeParty("Bob", "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", backend);
  if (!bob.ok()) return Fail(bob.status());
  PrintParty(*alice);
  PrintParty(*bob);

  std::printf("\nPerforming key exchange...\n");
  std::printf("Alice computes: SharedSecret = ScalarMult(AlicePrivate, BobPublic)\n");
  std::printf("Bob computes:   SharedSecret = ScalarMult(BobPrivate, AlicePublic)\n");
  absl::StatusOr<x25519::SharedSecret> alice_secret =
      x25519::ComputeSharedSecret(alice->private_key, bob->public_key, backend);
  if (!alice_secret.ok()) return Fail(alice_secret.status());
  absl::StatusOr<x25519::SharedSecret> bob_secret =
      x25519::ComputeSharedSecret(bob->private_key, alice->public_key, backend);
  if (!bob_secret.ok()) return Fail(bob_secret.status());
  std::printf("Alice's shared secret: %s\n", Show(alice_secret->ExposeSecretBytes()).c_str());
  std::printf("Bob's shared secret:   %s\n", Show(bob_secret->ExposeSecretBytes()).c_str());
  bool ok = true;
  if (alice_secret->ConstantTimeEquals(*bob_secret)) {
    std::printf("\u2713 Shared secrets match! Key exchange successful.\n");
  } else {
    std::printf("\u2717 Shared secrets DIFFER: something is broken.\n");
    ok = false;
  }
  if (absl::GetFlag(FLAGS_rfc7748)) {
    const bool as_published = HexEncode(alice_secret->ExposeSecretBytes()) ==
                              "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    std::printf("%s RFC 7748 section 6.1 publishes the shared secret 4a5d9d5b...1742: %s\n",
                as_published ? "\u2713" : "\u2717", as_published ? "same" : "DIFFERENT");
    ok = ok && as_published;
  }

  std::printf("\nDeriving encryption key using HKDF...\n");
  std::printf("HKDF-SHA256(secret, salt: none, info: label + Alice's and Bob's public keys)\n");
  const std::vector<uint8_t> info = KdfInfo(alice->public_key, bob->public_key);
  std::array<uint8_t, 32> alice_key{};
  std::array<uint8_t, 32> bob_key{};
  if (absl::Status s = HkdfSha256(alice_secret->ExposeSecretBytes(), info, alice_key); !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = HkdfSha256(bob_secret->ExposeSecretBytes(), info, bob_key); !s.ok()) {
    return Fail(s);
  }
  std::printf("Encryption key: %s (32 bytes for ChaCha20)\n", Show(alice_key).c_str());
  if (meshvpn::ConstantTimeEqual(alice_key, bob_key)) {
    std::printf("\u2713 Bob derives the same key.\n");
  } else {
    std::printf("\u2717 Bob derives a DIFFERENT key.\n");
    ok = false;
  }
  meshvpn::SecureWipe(alice_key);
  meshvpn::SecureWipe(bob_key);

  std::printf("\nValidating keys (small-subgroup attack)...\n");
  struct BadKey {
    const char* what;
    const char* hex;
  };
  const BadKey bad_keys[] = {
      {"u = 0", "0000000000000000000000000000000000000000000000000000000000000000"},
      {"a point of order 8", "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"},
  };
  for (const BadKey& bad : bad_keys) {
    std::array<uint8_t, x25519::kKeySize> bytes{};
    if (absl::Status s = meshvpn::HexDecodeInto(bad.hex, bytes); !s.ok()) return Fail(s);
    const x25519::PublicKey mallory(bytes);
    std::printf("Mallory sends Alice a low-order public key (%s): %s\n", bad.what,
                Show(mallory.bytes()).c_str());
    absl::StatusOr<x25519::SharedSecret> attempt =
        x25519::ComputeSharedSecret(alice->private_key, mallory, backend);
    if (attempt.ok()) {
      std::printf("\u2717 Accepted: the library should have refused this key!\n");
      ok = false;
    } else {
      std::printf("\u2713 Rejected: %s\n", std::string(attempt.status().message()).c_str());
    }
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args = meshvpn::tools::InitTool(argc, argv, kUsage);
  if (!args.empty()) {
    return Fail(absl::InvalidArgumentError("takes no arguments, only flags (see --help)"));
  }
  absl::StatusOr<CryptoBackend> backend = meshvpn::ParseCryptoBackend(absl::GetFlag(FLAGS_backend));
  if (!backend.ok()) return Fail(backend.status());
  return Run(*backend);
}
