// TLS 1.3 record protection after a detached handshake: HKDF-Expand-Label key derivation, AEAD
// records through OpenSSL's EVP (one cipher context per thread, re-keyed per record), KeyUpdate.
#include "tls_record_layer.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"

namespace meshvpn::http::internal {
namespace {

constexpr uint8_t kChangeCipherSpec = 20;
constexpr uint8_t kAlert = 21;
constexpr uint8_t kHandshake = 22;
constexpr uint8_t kApplicationData = 23;
constexpr uint8_t kKeyUpdate = 24;  // handshake message type
constexpr size_t kHeaderLen = 5;
constexpr size_t kTagLen = 16;
constexpr size_t kMaxPlaintext = 1 << 14;               // RFC 8446 5.1
constexpr size_t kMaxCiphertext = kMaxPlaintext + 256;  // RFC 8446 5.2

const char* DigestName(Tls13Cipher c) {
  return c == Tls13Cipher::kAes256GcmSha384 ? "SHA384" : "SHA256";
}
size_t HashLen(Tls13Cipher c) { return c == Tls13Cipher::kAes256GcmSha384 ? 48 : 32; }
size_t KeyLen(Tls13Cipher c) { return c == Tls13Cipher::kAes128GcmSha256 ? 16 : 32; }

const EVP_CIPHER* Aead(Tls13Cipher c) {
  // Fetched once: an implicit fetch on every init would cost more than the record.
  static EVP_CIPHER* const aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static EVP_CIPHER* const aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* const chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  switch (c) {
    case Tls13Cipher::kAes128GcmSha256:
      return aes128;
    case Tls13Cipher::kAes256GcmSha384:
      return aes256;
    case Tls13Cipher::kChaCha20Poly1305Sha256:
      return chacha;
  }
  return nullptr;
}

// One encrypting and one decrypting context per thread, shared by every detached session on it
// (a context holds about a KiB of key schedule; a session re-keys it for each record).
struct ThreadContexts {
  EVP_CIPHER_CTX* seal = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* open = EVP_CIPHER_CTX_new();
  ~ThreadContexts() {
    EVP_CIPHER_CTX_free(seal);
    EVP_CIPHER_CTX_free(open);
  }
};
ThreadContexts& Contexts() {
  thread_local ThreadContexts contexts;
  return contexts;
}

// RFC 8446 7.1: HKDF-Expand-Label(secret, label, "", length).
bool ExpandLabel(Tls13Cipher cipher, ByteSpan secret, std::string_view label, uint8_t* out,
                 size_t length) {
  uint8_t info[2 + 1 + 255 + 1];
  size_t n = 0;
  info[n++] = static_cast<uint8_t>(length >> 8);
  info[n++] = static_cast<uint8_t>(length);
  const std::string_view prefix = "tls13 ";
  info[n++] = static_cast<uint8_t>(prefix.size() + label.size());
  std::memcpy(info + n, prefix.data(), prefix.size());
  n += prefix.size();
  std::memcpy(info + n, label.data(), label.size());
  n += label.size();
  info[n++] = 0;  // empty context
  static EVP_KDF* const hkdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(hkdf);
  if (kctx == nullptr) return false;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(DigestName(cipher)),
                                       0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
      OSSL_PARAM_construct_end(),
  };
  const bool ok = EVP_KDF_derive(kctx, out, length, params) == 1;
  EVP_KDF_CTX_free(kctx);
  return ok;
}

}  // namespace

absl::StatusOr<TrafficKeys> TrafficKeys::FromSecret(Tls13Cipher cipher, ByteSpan secret) {
  if (secret.size() != HashLen(cipher)) {
    return absl::InvalidArgumentError("TLS 1.3 traffic secret of the wrong length");
  }
  TrafficKeys keys;
  keys.cipher_ = cipher;
  keys.secret_len_ = secret.size();
  std::memcpy(keys.secret_.data(), secret.data(), secret.size());
  if (absl::Status s = keys.Derive(); !s.ok()) return s;
  return keys;
}

TrafficKeys::~TrafficKeys() {
  SecureWipe(MutableByteSpan(secret_));
  SecureWipe(MutableByteSpan(key_));
  SecureWipe(MutableByteSpan(iv_));
}

TrafficKeys::TrafficKeys(TrafficKeys&& other) noexcept { *this = std::move(other); }

TrafficKeys& TrafficKeys::operator=(TrafficKeys&& other) noexcept {
  cipher_ = other.cipher_;
  secret_ = other.secret_;
  secret_len_ = other.secret_len_;
  key_ = other.key_;
  iv_ = other.iv_;
  seq_ = other.seq_;
  SecureWipe(MutableByteSpan(other.secret_));
  SecureWipe(MutableByteSpan(other.key_));
  SecureWipe(MutableByteSpan(other.iv_));
  return *this;
}

absl::Status TrafficKeys::Derive() {
  const ByteSpan secret(secret_.data(), secret_len_);
  if (!ExpandLabel(cipher_, secret, "key", key_.data(), KeyLen(cipher_)) ||
      !ExpandLabel(cipher_, secret, "iv", iv_.data(), iv_.size())) {
    return absl::InternalError("TLS 1.3 key derivation failed");
  }
  seq_ = 0;
  return absl::OkStatus();
}

absl::Status TrafficKeys::Update() {
  std::array<uint8_t, 48> next{};
  if (!ExpandLabel(cipher_, ByteSpan(secret_.data(), secret_len_), "traffic upd", next.data(),
                   secret_len_)) {
    return absl::InternalError("TLS 1.3 key update failed");
  }
  secret_ = next;
  SecureWipe(MutableByteSpan(next));
  return Derive();
}

void TrafficKeys::Nonce(uint8_t out[12]) const {
  std::memcpy(out, iv_.data(), 12);
  for (int i = 0; i < 8; ++i) out[11 - i] ^= static_cast<uint8_t>(seq_ >> (8 * i));
}

absl::Status TrafficKeys::Seal(uint8_t content_type, ByteSpan plaintext, std::string* out) {
  const size_t inner = plaintext.size() + 1;
  const size_t body = inner + kTagLen;
  const size_t at = out->size();
  out->resize(at + kHeaderLen + body);
  auto* p = reinterpret_cast<uint8_t*>(out->data() + at);
  p[0] = kApplicationData;
  p[1] = 0x03;
  p[2] = 0x03;
  p[3] = static_cast<uint8_t>(body >> 8);
  p[4] = static_cast<uint8_t>(body);
  uint8_t nonce[12];
  Nonce(nonce);
  EVP_CIPHER_CTX* ctx = Contexts().seal;
  int len = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, Aead(cipher_), key_.data(), nonce, nullptr) == 1 &&
            EVP_EncryptUpdate(ctx, nullptr, &len, p, kHeaderLen) == 1;
  uint8_t* c = p + kHeaderLen;
  if (ok && !plaintext.empty()) {
    ok = EVP_EncryptUpdate(ctx, c, &len, plaintext.data(), static_cast<int>(plaintext.size())) == 1;
  }
  ok = ok && EVP_EncryptUpdate(ctx, c + plaintext.size(), &len, &content_type, 1) == 1 &&
       EVP_EncryptFinal_ex(ctx, c + inner, &len) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagLen, c + inner) == 1;
  if (!ok) {
    out->resize(at);
    return absl::InternalError("TLS 1.3 record sealing failed");
  }
  ++seq_;
  return absl::OkStatus();
}

absl::Status TrafficKeys::Open(ByteSpan header, ByteSpan body, std::string* out,
                               uint8_t* content_type) {
  if (body.size() < kTagLen + 1) return absl::DataLossError("TLS record too short");
  const size_t inner = body.size() - kTagLen;
  out->resize(inner);
  uint8_t nonce[12];
  Nonce(nonce);
  EVP_CIPHER_CTX* ctx = Contexts().open;
  int len = 0;
  auto* plain = reinterpret_cast<uint8_t*>(out->data());
  const bool ok =
      EVP_DecryptInit_ex2(ctx, Aead(cipher_), key_.data(), nonce, nullptr) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, header.data(), static_cast<int>(header.size())) == 1 &&
      EVP_DecryptUpdate(ctx, plain, &len, body.data(), static_cast<int>(inner)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagLen,
                          const_cast<uint8_t*>(body.data() + inner)) == 1 &&
      EVP_DecryptFinal_ex(ctx, plain + inner, &len) == 1;
  if (!ok) {
    out->clear();
    return absl::DataLossError("TLS record failed to decrypt (bad record MAC)");
  }
  ++seq_;
  // The real content type is the last non-zero byte (the rest is padding).
  size_t end = inner;
  while (end > 0 && plain[end - 1] == 0) --end;
  if (end == 0) return absl::DataLossError("TLS record with no content type");
  *content_type = plain[end - 1];
  out->resize(end - 1);
  return absl::OkStatus();
}

void Tls13RecordLayer::Append(ByteSpan ciphertext) {
  if (peer_closed_) return;  // nothing after close_notify counts
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > in_.size() / 2) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  in_.append(reinterpret_cast<const char*>(ciphertext.data()), ciphertext.size());
}

absl::StatusOr<bool> Tls13RecordLayer::OpenNextRecord(std::string* ciphertext_out) {
  while (true) {
    const size_t available = in_.size() - in_pos_;
    if (available < kHeaderLen) return false;
    const auto* h = reinterpret_cast<const uint8_t*>(in_.data() + in_pos_);
    const size_t len = (size_t{h[3]} << 8) | h[4];
    if (len > kMaxCiphertext) return absl::DataLossError("TLS record longer than 2^14 + 256");
    if (h[1] != 0x03) return absl::DataLossError("TLS record with a bad version");
    if (available < kHeaderLen + len) return false;
    const ByteSpan header(h, kHeaderLen);
    const ByteSpan body(h + kHeaderLen, len);
    in_pos_ += kHeaderLen + len;
    if (h[0] == kChangeCipherSpec) continue;  // compatibility mode's stray CCS (RFC 8446 D.4)
    if (h[0] != kApplicationData) {
      return absl::DataLossError("TLS record of a plaintext type after the handshake");
    }
    uint8_t type = 0;
    plain_pos_ = 0;
    MESHVPN_RETURN_IF_ERROR(read_.Open(header, body, &plain_, &type));
    if (plain_.size() > kMaxPlaintext) return absl::DataLossError("TLS record overflow");
    switch (type) {
      case kApplicationData:
        if (plain_.empty()) continue;  // an empty record is allowed, and carries nothing
        return true;
      case kAlert: {
        if (plain_.size() != 2) return absl::DataLossError("TLS alert of the wrong size");
        const uint8_t description = static_cast<uint8_t>(plain_[1]);
        plain_.clear();
        if (description == 0) {  // close_notify
          peer_closed_ = true;
          return false;
        }
        if (description == 90) continue;  // user_canceled: a warning
        return absl::UnavailableError(absl::StrCat("TLS alert ", description, " from the peer"));
      }
      case kHandshake:
        MESHVPN_RETURN_IF_ERROR(OnHandshakeMessages(ciphertext_out));
        plain_.clear();
        continue;
      default:
        return absl::DataLossError(absl::StrCat("TLS inner content type ", type));
    }
  }
}

// Only KeyUpdate may follow the handshake (RFC 8446 4.6.3): no post-handshake authentication
// was asked for, and a server gets no tickets. One record may carry several, each whole.
absl::Status Tls13RecordLayer::OnHandshakeMessages(std::string* ciphertext_out) {
  const auto* m = reinterpret_cast<const uint8_t*>(plain_.data());
  for (size_t off = 0; off < plain_.size(); off += 5) {
    if (plain_.size() - off < 5 || m[off] != kKeyUpdate || m[off + 1] != 0 || m[off + 2] != 0 ||
        m[off + 3] != 1 || m[off + 4] > 1) {
      return absl::DataLossError("TLS handshake message after the handshake (not KeyUpdate)");
    }
    MESHVPN_RETURN_IF_ERROR(read_.Update());
    if (m[off + 4] == 1) {  // update_requested: answer with ours, then switch
      const uint8_t reply[5] = {kKeyUpdate, 0, 0, 1, 0};
      MESHVPN_RETURN_IF_ERROR(
          write_.Seal(kHandshake, ByteSpan(reply, sizeof reply), ciphertext_out));
      MESHVPN_RETURN_IF_ERROR(write_.Update());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> Tls13RecordLayer::Read(MutableByteSpan out, std::string* ciphertext_out) {
  if (!failure_.ok()) return failure_;
  if (out.empty()) return 0;
  if (plain_pos_ == plain_.size()) {
    plain_.clear();
    plain_pos_ = 0;
    if (peer_closed_) return 0;
    absl::StatusOr<bool> opened = OpenNextRecord(ciphertext_out);
    if (!opened.ok()) {
      failure_ = opened.status();
      std::string().swap(in_);
      in_pos_ = 0;
      return failure_;
    }
    if (!*opened) return 0;
  }
  const size_t n = std::min(out.size(), plain_.size() - plain_pos_);
  std::memcpy(out.data(), plain_.data() + plain_pos_, n);
  plain_pos_ += n;
  return n;
}

absl::Status Tls13RecordLayer::Send(ByteSpan plaintext, std::string* ciphertext_out) {
  while (!plaintext.empty()) {
    const size_t n = std::min(plaintext.size(), kMaxPlaintext);
    if (absl::Status s = write_.Seal(kApplicationData, plaintext.first(n), ciphertext_out);
        !s.ok()) {
      return s;
    }
    plaintext = plaintext.subspan(n);
  }
  return absl::OkStatus();
}

absl::Status Tls13RecordLayer::SendCloseNotify(std::string* ciphertext_out) {
  const uint8_t alert[2] = {1, 0};  // warning, close_notify
  return write_.Seal(kAlert, ByteSpan(alert, sizeof alert), ciphertext_out);
}

void Tls13RecordLayer::ReleaseBuffers() {
  if (in_pos_ == in_.size() && in_.capacity() > 0) {
    std::string().swap(in_);
    in_pos_ = 0;
  }
  if (plain_pos_ == plain_.size() && plain_.capacity() > 0) {
    std::string().swap(plain_);
    plain_pos_ = 0;
  }
}

}  // namespace meshvpn::http::internal
