#include "meshvpn/noise/cipher_state.h"

#include <cstring>
#include <utility>

#include "meshvpn/base/secure.h"

namespace meshvpn::noise {

CipherState::~CipherState() { SecureWipe(k_); }

CipherState::CipherState(CipherState&& other) noexcept
    : backend_(other.backend_),
      has_key_(other.has_key_),
      failed_(other.failed_),
      n_(other.n_),
      k_(other.k_),
      aead_(std::move(other.aead_)) {
  SecureWipe(other.k_);
  other.has_key_ = false;
  other.failed_ = true;  // a moved-from state must not be used
  other.n_ = 0;
}

CipherState& CipherState::operator=(CipherState&& other) noexcept {
  if (this != &other) {
    SecureWipe(k_);
    backend_ = other.backend_;
    has_key_ = other.has_key_;
    failed_ = other.failed_;
    n_ = other.n_;
    k_ = other.k_;
    aead_ = std::move(other.aead_);
    SecureWipe(other.k_);
    other.has_key_ = false;
    other.failed_ = true;
    other.n_ = 0;
  }
  return *this;
}

absl::Status CipherState::InitializeKey(NoiseKeySpan key) {
  absl::StatusOr<aead::ChaCha20Poly1305> cipher = aead::ChaCha20Poly1305::Create(key, backend_);
  if (!cipher.ok()) {
    Fail();
    return absl::InternalError("noise: cannot set up ChaChaPoly for a new key");
  }
  aead_ = *std::move(cipher);
  std::memcpy(k_.data(), key.data(), kNoiseKeySize);
  has_key_ = true;
  failed_ = false;
  n_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<CipherState> CipherState::Clone() const {
  CipherState copy(backend_);
  if (has_key_) {
    if (absl::Status s = copy.InitializeKey(k_); !s.ok()) return s;
  }
  copy.n_ = n_;
  copy.failed_ = failed_;
  return copy;
}

absl::StatusOr<aead::ChaCha20Poly1305> CipherState::TakeAead() {
  if (!has_key_ || failed_) {
    return absl::FailedPreconditionError("noise: no key to hand over");
  }
  aead::ChaCha20Poly1305 taken = std::move(aead_);
  Fail();
  return taken;
}

void CipherState::Fail() {
  failed_ = true;
  has_key_ = false;
  SecureWipe(k_);
  aead_ = aead::ChaCha20Poly1305();
}

absl::StatusOr<size_t> CipherState::EncryptWithAd(ByteSpan ad, MutableByteSpan buffer,
                                                  size_t plaintext_size) {
  if (failed_) return absl::FailedPreconditionError("noise: cipher state is unusable");
  if (plaintext_size > buffer.size()) {
    return absl::InvalidArgumentError("noise: plaintext size exceeds the buffer");
  }
  if (!has_key_) return plaintext_size;
  if (n_ == kNoiseMaxNonce) {
    return absl::ResourceExhaustedError(
        "noise: nonce exhausted (2^64-1 messages); rekey or "
        "start a new handshake");
  }
  if (buffer.size() < plaintext_size + kNoiseTagSize) {
    return absl::InvalidArgumentError("noise: no room for the 16-byte tag after the plaintext");
  }
  const aead::AeadResult r = aead_.SealCounter(n_, ad, buffer, plaintext_size);
  if (r != aead::AeadResult::kOk) return aead::ToStatus(r);
  ++n_;
  return plaintext_size + kNoiseTagSize;
}

absl::StatusOr<size_t> CipherState::DecryptWithAd(ByteSpan ad, MutableByteSpan message) {
  if (failed_) return absl::FailedPreconditionError("noise: cipher state is unusable");
  if (!has_key_) return message.size();
  if (message.size() < kNoiseTagSize) {
    Fail();
    return absl::InvalidArgumentError("noise: ciphertext shorter than its 16-byte tag");
  }
  if (n_ == kNoiseMaxNonce) {
    Fail();
    return absl::ResourceExhaustedError("noise: nonce exhausted (2^64-1 messages)");
  }
  const aead::AeadResult r = aead_.OpenCounter(n_, ad, message);
  if (r != aead::AeadResult::kOk) {
    SecureWipe(message);
    Fail();
    if (r == aead::AeadResult::kAuthenticationFailed) {
      return absl::UnauthenticatedError(
          "noise: decryption failed (bad tag: wrong key, tampered message or wrong order)");
    }
    return aead::ToStatus(r);
  }
  ++n_;
  return message.size() - kNoiseTagSize;
}

absl::Status CipherState::Rekey() {
  if (failed_) return absl::FailedPreconditionError("noise: cipher state is unusable");
  if (!has_key_) return absl::FailedPreconditionError("noise: rekey without a key");
  std::array<uint8_t, kNoiseKeySize + kNoiseTagSize> block{};
  const aead::AeadResult r = aead_.SealCounter(kNoiseMaxNonce, {}, block, kNoiseKeySize);
  if (r != aead::AeadResult::kOk) {
    SecureWipe(block);
    return aead::ToStatus(r);
  }
  const uint64_t n = n_;
  absl::Status status = InitializeKey(NoiseKeySpan(block.data(), kNoiseKeySize));
  SecureWipe(block);
  n_ = n;
  return status;
}

Blake2sHash CipherState::KeyId() const {
  if (!has_key_) return Blake2sHash{};
  return Blake2s256({AsBytes("meshvpn noise key id"), ByteSpan(k_)}, backend_);
}

}  // namespace meshvpn::noise
