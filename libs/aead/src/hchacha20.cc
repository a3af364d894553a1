// HChaCha20: the ChaCha20 rounds used as a key-derivation function (draft-irtf-cfrg-xchacha 2.2).
#include "meshvpn/aead/hchacha20.h"

#include "le_bytes.h"
#include "meshvpn/aead/chacha20.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::aead {

void HChaCha20(std::span<const uint8_t, kKeySize> key,
               std::span<const uint8_t, kHChaChaInputSize> input,
               std::span<uint8_t, kHChaChaOutputSize> subkey) {
  // Same layout as a ChaCha20 block, except that the last row (counter + nonce) is the 16 input
  // bytes:  constants | key | key | input.
  ref::ChaChaState x;
  for (int i = 0; i < 4; ++i) x[i] = ref::kSigma[i];
  for (int i = 0; i < 8; ++i) x[4 + i] = internal::LoadLe32(key.data() + 4 * i);
  for (int i = 0; i < 4; ++i) x[12 + i] = internal::LoadLe32(input.data() + 4 * i);
  ref::ChaCha20Rounds(x);
  // First row and last row, little-endian.
  for (int i = 0; i < 4; ++i) {
    internal::StoreLe32(subkey.data() + 4 * i, x[i]);
    internal::StoreLe32(subkey.data() + 16 + 4 * i, x[12 + i]);
  }
  SecureWipe({reinterpret_cast<uint8_t*>(x.data()), sizeof(x)});
}

}  // namespace meshvpn::aead
