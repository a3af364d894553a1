// XChaCha20-Poly1305: HChaCha20 subkey per message, then the RFC 8439 AEAD (either backend).
#include "meshvpn/aead/xchacha20_poly1305.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "meshvpn/aead/chacha20_poly1305_ref.h"
#include "meshvpn/aead/hchacha20.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::aead {

namespace {

// The per-message subkey and 12-byte nonce; wiped when it goes out of scope.
struct Derived {
  std::array<uint8_t, kKeySize> subkey;
  std::array<uint8_t, kNonceSize> nonce;

  Derived(std::span<const uint8_t, kKeySize> key, const uint8_t* xnonce) {
    HChaCha20(key, std::span<const uint8_t, kHChaChaInputSize>(xnonce, kHChaChaInputSize), subkey);
    nonce = {};  // 4 zero bytes, then the last 8 bytes of the 24-byte nonce
    for (size_t i = 0; i < 8; ++i) nonce[4 + i] = xnonce[kHChaChaInputSize + i];
  }
  ~Derived() { SecureWipe(subkey); }
  Derived(const Derived&) = delete;
  Derived& operator=(const Derived&) = delete;
};

}  // namespace

absl::StatusOr<XChaCha20Poly1305> XChaCha20Poly1305::Create(ByteSpan key, CryptoBackend backend) {
  if (key.size() != kKeySize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("XChaCha20-Poly1305 key must be %d bytes, got %d", kKeySize, key.size()));
  }
  XChaCha20Poly1305 out;
  out.backend_ = backend;
  if (backend == CryptoBackend::kOpenSsl) {
    auto status = out.openssl_.Init(/*key=*/nullptr);  // the subkey comes with each message
    if (!status.ok()) return status;
  }
  for (size_t i = 0; i < kKeySize; ++i) out.key_[i] = key[i];
  out.has_key_ = true;
  return out;
}

XChaCha20Poly1305::~XChaCha20Poly1305() { SecureWipe(key_); }

XChaCha20Poly1305::XChaCha20Poly1305(XChaCha20Poly1305&& other) noexcept
    : backend_(other.backend_),
      has_key_(std::exchange(other.has_key_, false)),
      key_(other.key_),
      openssl_(std::move(other.openssl_)) {
  SecureWipe(other.key_);
}

XChaCha20Poly1305& XChaCha20Poly1305::operator=(XChaCha20Poly1305&& other) noexcept {
  if (this != &other) {
    backend_ = other.backend_;
    has_key_ = std::exchange(other.has_key_, false);
    key_ = other.key_;
    SecureWipe(other.key_);
    openssl_ = std::move(other.openssl_);
  }
  return *this;
}

AeadResult XChaCha20Poly1305::Seal(ByteSpan nonce, ByteSpan aad, MutableByteSpan buffer,
                                   size_t plaintext_size) {
  if (!has_key_) return AeadResult::kNoKey;
  if (nonce.size() != kXNonceSize) return AeadResult::kInvalidNonceSize;
  if (plaintext_size > kMaxPlaintextSize || aad.size() > kMaxPlaintextSize) {
    return AeadResult::kMessageTooLong;
  }
  if (buffer.size() < SealedSize(plaintext_size)) return AeadResult::kBufferTooSmall;
  const Derived d(key_, nonce.data());
  uint8_t* data = buffer.data();
  uint8_t* tag = data + plaintext_size;
  if (backend_ == CryptoBackend::kOpenSsl) {
    return openssl_.Seal(d.subkey.data(), d.nonce.data(), aad, data, plaintext_size, tag);
  }
  ref::SealDetached(d.subkey, d.nonce, aad, {data, plaintext_size},
                    std::span<uint8_t, kTagSize>(tag, kTagSize));
  return AeadResult::kOk;
}

AeadResult XChaCha20Poly1305::Open(ByteSpan nonce, ByteSpan aad, MutableByteSpan sealed) {
  if (!has_key_) return AeadResult::kNoKey;
  if (nonce.size() != kXNonceSize) return AeadResult::kInvalidNonceSize;
  if (sealed.size() < kTagSize) return AeadResult::kBufferTooSmall;
  const size_t size = sealed.size() - kTagSize;
  if (size > kMaxPlaintextSize || aad.size() > kMaxPlaintextSize) {
    return AeadResult::kMessageTooLong;
  }
  const Derived d(key_, nonce.data());
  uint8_t* data = sealed.data();
  const uint8_t* tag = data + size;
  AeadResult result;
  if (backend_ == CryptoBackend::kOpenSsl) {
    result = openssl_.Open(d.subkey.data(), d.nonce.data(), aad, data, size, tag);
  } else {
    result = ref::OpenDetached(d.subkey, d.nonce, aad, {data, size},
                               std::span<const uint8_t, kTagSize>(tag, kTagSize))
                 ? AeadResult::kOk
                 : AeadResult::kAuthenticationFailed;
  }
  if (result != AeadResult::kOk) SecureWipe(sealed);
  return result;
}

}  // namespace meshvpn::aead
