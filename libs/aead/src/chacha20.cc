// The reference ChaCha20 (RFC 8439 sections 2.1-2.4). The quarter round is in chacha20.h; read this
// file from top to bottom: the state, the rounds, the block function, then the stream cipher.
#include "meshvpn/aead/chacha20.h"

#include "le_bytes.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::aead::ref {

ChaChaState InitialState(std::span<const uint8_t, kKeySize> key, uint32_t counter,
                         std::span<const uint8_t, kNonceSize> nonce) {
  ChaChaState s;
  for (int i = 0; i < 4; ++i) s[i] = kSigma[i];
  for (int i = 0; i < 8; ++i) s[4 + i] = internal::LoadLe32(key.data() + 4 * i);
  s[12] = counter;
  for (int i = 0; i < 3; ++i) s[13 + i] = internal::LoadLe32(nonce.data() + 4 * i);
  return s;
}

void ChaCha20Rounds(ChaChaState& x) {
  for (int i = 0; i < 10; ++i) {
    // Column round: each quarter round works down one column of the 4x4 matrix.
    QuarterRound(x[0], x[4], x[8], x[12]);
    QuarterRound(x[1], x[5], x[9], x[13]);
    QuarterRound(x[2], x[6], x[10], x[14]);
    QuarterRound(x[3], x[7], x[11], x[15]);
    // Diagonal round: each quarter round works along one (wrapped) diagonal.
    QuarterRound(x[0], x[5], x[10], x[15]);
    QuarterRound(x[1], x[6], x[11], x[12]);
    QuarterRound(x[2], x[7], x[8], x[13]);
    QuarterRound(x[3], x[4], x[9], x[14]);
  }
}

namespace {

// One keystream block as 16 words: rounds, then add the input back in. Without that final
// addition the rounds could be run backwards from the output to recover the key.
void KeystreamWords(const ChaChaState& input, ChaChaState& out) {
  out = input;
  ChaCha20Rounds(out);
  for (int i = 0; i < 16; ++i) out[i] += input[i];
}

}  // namespace

void ChaCha20Block(std::span<const uint8_t, kKeySize> key, uint32_t counter,
                   std::span<const uint8_t, kNonceSize> nonce, std::span<uint8_t, kBlockSize> out) {
  ChaChaState input = InitialState(key, counter, nonce);
  ChaChaState x;
  KeystreamWords(input, x);
  for (int i = 0; i < 16; ++i) internal::StoreLe32(out.data() + 4 * i, x[i]);
  SecureWipe({reinterpret_cast<uint8_t*>(input.data()), sizeof(input)});
  SecureWipe({reinterpret_cast<uint8_t*>(x.data()), sizeof(x)});
}

void ChaCha20Xor(std::span<const uint8_t, kKeySize> key, uint32_t counter,
                 std::span<const uint8_t, kNonceSize> nonce, MutableByteSpan data) {
  ChaChaState input = InitialState(key, counter, nonce);
  ChaChaState x;
  uint8_t* p = data.data();
  size_t left = data.size();
  // Whole blocks: XOR a word at a time.
  while (left >= kBlockSize) {
    KeystreamWords(input, x);
    for (int i = 0; i < 16; ++i) {
      internal::StoreLe32(p + 4 * i, internal::LoadLe32(p + 4 * i) ^ x[i]);
    }
    ++input[12];  // next block: only the counter word changes
    p += kBlockSize;
    left -= kBlockSize;
  }
  // A last partial block: serialise the keystream and use only its first `left` bytes.
  if (left > 0) {
    uint8_t block[kBlockSize];
    KeystreamWords(input, x);
    for (int i = 0; i < 16; ++i) internal::StoreLe32(block + 4 * i, x[i]);
    for (size_t i = 0; i < left; ++i) p[i] ^= block[i];
    SecureWipe(block);
  }
  SecureWipe({reinterpret_cast<uint8_t*>(input.data()), sizeof(input)});
  SecureWipe({reinterpret_cast<uint8_t*>(x.data()), sizeof(x)});
}

}  // namespace meshvpn::aead::ref
