// The ChaCha20-Poly1305 key object: checks sizes, then hands each message to the chosen backend.
#include "meshvpn/aead/chacha20_poly1305.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "meshvpn/aead/chacha20_poly1305_ref.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::aead {

absl::StatusOr<ChaCha20Poly1305> ChaCha20Poly1305::Create(ByteSpan key, CryptoBackend backend) {
  if (key.size() != kKeySize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ChaCha20-Poly1305 key must be %d bytes, got %d", kKeySize, key.size()));
  }
  ChaCha20Poly1305 out;
  out.backend_ = backend;
  if (backend == CryptoBackend::kOpenSsl) {
    // The key lives only inside OpenSSL's context; no second copy here.
    auto status = out.openssl_.Init(key.data());
    if (!status.ok()) return status;
  } else {
    for (size_t i = 0; i < kKeySize; ++i) out.key_[i] = key[i];
  }
  out.has_key_ = true;
  return out;
}

ChaCha20Poly1305::~ChaCha20Poly1305() { SecureWipe(key_); }

ChaCha20Poly1305::ChaCha20Poly1305(ChaCha20Poly1305&& other) noexcept
    : backend_(other.backend_),
      has_key_(std::exchange(other.has_key_, false)),
      key_(other.key_),
      openssl_(std::move(other.openssl_)) {
  SecureWipe(other.key_);
}

ChaCha20Poly1305& ChaCha20Poly1305::operator=(ChaCha20Poly1305&& other) noexcept {
  if (this != &other) {
    backend_ = other.backend_;
    has_key_ = std::exchange(other.has_key_, false);
    key_ = other.key_;
    SecureWipe(other.key_);
    openssl_ = std::move(other.openssl_);
  }
  return *this;
}

AeadResult ChaCha20Poly1305::Seal(ByteSpan nonce, ByteSpan aad, MutableByteSpan buffer,
                                  size_t plaintext_size) {
  if (nonce.size() != kNonceSize) return AeadResult::kInvalidNonceSize;
  return SealWithNonce(nonce.data(), aad, buffer, plaintext_size);
}

AeadResult ChaCha20Poly1305::SealCounter(uint64_t counter, ByteSpan aad, MutableByteSpan buffer,
                                         size_t plaintext_size) {
  const auto nonce = CounterNonce(counter);
  return SealWithNonce(nonce.data(), aad, buffer, plaintext_size);
}

AeadResult ChaCha20Poly1305::Open(ByteSpan nonce, ByteSpan aad, MutableByteSpan sealed) {
  if (nonce.size() != kNonceSize) return AeadResult::kInvalidNonceSize;
  return OpenWithNonce(nonce.data(), aad, sealed);
}

AeadResult ChaCha20Poly1305::OpenCounter(uint64_t counter, ByteSpan aad, MutableByteSpan sealed) {
  const auto nonce = CounterNonce(counter);
  return OpenWithNonce(nonce.data(), aad, sealed);
}

size_t ChaCha20Poly1305::SealBatch(std::span<AeadPacket> packets) {
  size_t ok = 0;
  for (AeadPacket& packet : packets) {
    const auto nonce = CounterNonce(packet.counter);
    packet.result = SealWithNonce(nonce.data(), packet.aad, packet.buffer, packet.length);
    ok += packet.result == AeadResult::kOk;
  }
  return ok;
}

size_t ChaCha20Poly1305::OpenBatch(std::span<AeadPacket> packets) {
  size_t ok = 0;
  for (AeadPacket& packet : packets) {
    if (packet.length > packet.buffer.size()) {
      packet.result = AeadResult::kBufferTooSmall;
      continue;
    }
    const auto nonce = CounterNonce(packet.counter);
    packet.result = OpenWithNonce(nonce.data(), packet.aad, packet.buffer.first(packet.length));
    ok += packet.result == AeadResult::kOk;
  }
  return ok;
}

AeadResult ChaCha20Poly1305::SealWithNonce(const uint8_t* nonce, ByteSpan aad,
                                           MutableByteSpan buffer, size_t plaintext_size) {
  if (!has_key_) return AeadResult::kNoKey;
  if (plaintext_size > kMaxPlaintextSize || aad.size() > kMaxPlaintextSize) {
    return AeadResult::kMessageTooLong;
  }
  if (buffer.size() < SealedSize(plaintext_size)) return AeadResult::kBufferTooSmall;
  uint8_t* data = buffer.data();
  uint8_t* tag = data + plaintext_size;
  if (backend_ == CryptoBackend::kOpenSsl) {
    return openssl_.Seal(/*rekey=*/nullptr, nonce, aad, data, plaintext_size, tag);
  }
  ref::SealDetached(key_, std::span<const uint8_t, kNonceSize>(nonce, kNonceSize), aad,
                    {data, plaintext_size}, std::span<uint8_t, kTagSize>(tag, kTagSize));
  return AeadResult::kOk;
}

AeadResult ChaCha20Poly1305::OpenWithNonce(const uint8_t* nonce, ByteSpan aad,
                                           MutableByteSpan sealed) {
  if (!has_key_) return AeadResult::kNoKey;
  if (sealed.size() < kTagSize) return AeadResult::kBufferTooSmall;
  const size_t size = sealed.size() - kTagSize;
  if (size > kMaxPlaintextSize || aad.size() > kMaxPlaintextSize) {
    return AeadResult::kMessageTooLong;
  }
  uint8_t* data = sealed.data();
  const uint8_t* tag = data + size;
  AeadResult result;
  if (backend_ == CryptoBackend::kOpenSsl) {
    result = openssl_.Open(/*rekey=*/nullptr, nonce, aad, data, size, tag);
  } else {
    result = ref::OpenDetached(key_, std::span<const uint8_t, kNonceSize>(nonce, kNonceSize), aad,
                               {data, size}, std::span<const uint8_t, kTagSize>(tag, kTagSize))
                 ? AeadResult::kOk
                 : AeadResult::kAuthenticationFailed;
  }
  if (result != AeadResult::kOk) SecureWipe(sealed);  // ciphertext and tag: nothing left
  return result;
}

}  // namespace meshvpn::aead
