// The ChaCha20-Poly1305 AEAD construction of RFC 8439 section 2.8, from the reference pieces:
//
//   key, nonce ──► ChaCha20 block 0 ──► first 32 bytes = one-time Poly1305 key
//   plaintext  ──► XOR ChaCha20 blocks 1, 2, ... ──► ciphertext
//   Poly1305(one-time key,
//            aad || pad16(aad) || ciphertext || pad16(ciphertext) ||
//            le64(len(aad)) || le64(len(ciphertext)))  ──► 16-byte tag
//
// pad16(x) is 0-15 zero bytes bringing x to a multiple of 16. The lengths at the end make
// (aad, ciphertext) an unambiguous pair: moving bytes from one to the other changes the tag.
#include "meshvpn/aead/chacha20_poly1305_ref.h"

#include "le_bytes.h"
#include "meshvpn/aead/chacha20.h"
#include "meshvpn/aead/poly1305.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::aead::ref {

namespace {

// The tag over the associated data and the ciphertext, as drawn above.
void ComputeTag(std::span<const uint8_t, 32> one_time_key, ByteSpan aad, ByteSpan ciphertext,
                std::span<uint8_t, kTagSize> tag) {
  Poly1305 mac(one_time_key);
  mac.Update(aad);
  mac.PadToBlock();
  mac.Update(ciphertext);
  mac.PadToBlock();
  uint8_t lengths[16];
  internal::StoreLe64(lengths, aad.size());
  internal::StoreLe64(lengths + 8, ciphertext.size());
  mac.Update(lengths);
  mac.Finish(tag);
}

}  // namespace

void Poly1305KeyGen(std::span<const uint8_t, kKeySize> key,
                    std::span<const uint8_t, kNonceSize> nonce,
                    std::span<uint8_t, 32> one_time_key) {
  uint8_t block0[kBlockSize];
  ChaCha20Block(key, /*counter=*/0, nonce, block0);
  for (size_t i = 0; i < one_time_key.size(); ++i) one_time_key[i] = block0[i];
  SecureWipe(block0);  // the other 32 bytes are simply discarded
}

void SealDetached(std::span<const uint8_t, kKeySize> key,
                  std::span<const uint8_t, kNonceSize> nonce, ByteSpan aad, MutableByteSpan data,
                  std::span<uint8_t, kTagSize> tag) {
  uint8_t otk[32];
  Poly1305KeyGen(key, nonce, otk);
  ChaCha20Xor(key, /*counter=*/1, nonce, data);  // encrypt: plaintext -> ciphertext
  ComputeTag(otk, aad, data, tag);               // then authenticate the ciphertext
  SecureWipe(otk);
}

bool OpenDetached(std::span<const uint8_t, kKeySize> key,
                  std::span<const uint8_t, kNonceSize> nonce, ByteSpan aad, MutableByteSpan data,
                  std::span<const uint8_t, kTagSize> tag) {
  uint8_t otk[32];
  uint8_t expected[kTagSize];
  Poly1305KeyGen(key, nonce, otk);
  ComputeTag(otk, aad, data, expected);  // authenticate the ciphertext as received
  SecureWipe(otk);
  // Compare all 16 bytes whatever the first difference: an early exit would tell an attacker,
  // through timing, how many leading tag bytes were right.
  const bool ok = ConstantTimeEqual(expected, tag);
  SecureWipe(expected);
  if (!ok) {
    SecureWipe(data);  // never hand back anything for a forged message
    return false;
  }
  ChaCha20Xor(key, /*counter=*/1, nonce, data);  // only now decrypt
  return true;
}

}  // namespace meshvpn::aead::ref
