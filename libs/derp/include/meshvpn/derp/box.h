// NaCl box (Curve25519 + XSalsa20-Poly1305, libsodium's crypto_box) in DERP's sealed form: a
// 24-byte random nonce, then the 16-byte Poly1305 tag and the ciphertext (Tailscale's SealTo).
#pragma once

#include <optional>
#include <string>

#include "meshvpn/base/bytes.h"
#include "meshvpn/derp/keys.h"

namespace meshvpn::derp {

// nonce || crypto_box_easy(plaintext): kSealOverhead bytes longer than the plaintext. The nonce
// comes from libsodium's CSPRNG. `sender` seals to `recipient`. Empty if the recipient key is
// degenerate (a low-order point: no shared secret).
std::string SealTo(const PrivateKey& sender, const PublicKey& recipient, ByteSpan plaintext);
// Seals with the given nonce: for test vectors only (a nonce must never repeat for a key pair).
std::string SealToWithNonce(const PrivateKey& sender, const PublicKey& recipient,
                            ByteSpan plaintext, ByteSpan nonce24);
// Opens what `sender` sealed to `recipient`; nullopt if it is shorter than the overhead, the
// tag does not verify, or the shared point is degenerate (all-zero).
std::optional<std::string> OpenFrom(const PrivateKey& recipient, const PublicKey& sender,
                                    ByteSpan sealed);

}  // namespace meshvpn::derp
