#include "meshvpn/stun/integrity.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstring>
#include <string>

#include "meshvpn/base/secure.h"

namespace meshvpn::stun {
namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

// The HMAC implementation, fetched once (EVP_MAC objects are thread-safe to share).
EVP_MAC* HmacMac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

void PutLength(uint8_t* header, uint16_t length) {
  header[2] = static_cast<uint8_t>(length >> 8);
  header[3] = static_cast<uint8_t>(length);
}

CheckResult VerifyMac(const MessageView& m, const Attribute* a, IntegrityAlgorithm alg,
                      ByteSpan key) {
  if (a == nullptr) return CheckResult::kMissing;
  const size_t end_of_attribute = a->offset + kAttributeHeaderSize + a->value.size();
  std::array<uint8_t, kMessageIntegritySha256Size> mac{};
  MutableByteSpan out(mac.data(), a->value.size());
  if (!ComputeIntegrity(alg, key, m.bytes().first(a->offset),
                        static_cast<uint16_t>(end_of_attribute - kHeaderSize), out)) {
    return CheckResult::kCryptoError;
  }
  return ConstantTimeEqual(out, a->value) ? CheckResult::kOk : CheckResult::kMismatch;
}

}  // namespace

uint32_t Crc32Update(uint32_t crc, ByteSpan data) {
  uint32_t c = ~crc;
  for (uint8_t b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return ~c;
}

uint32_t Crc32(ByteSpan data) { return Crc32Update(0, data); }

bool ComputeIntegrity(IntegrityAlgorithm alg, ByteSpan key, ByteSpan prefix, uint16_t length_field,
                      MutableByteSpan out) {
  if (prefix.size() < kHeaderSize) return false;
  const size_t full = alg == IntegrityAlgorithm::kHmacSha1 ? 20 : 32;
  if (out.empty() || out.size() > full) return false;
  EVP_MAC* mac = HmacMac();
  if (mac == nullptr) return false;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (ctx == nullptr) return false;
  char digest[16];
  std::strcpy(digest, alg == IntegrityAlgorithm::kHmacSha1 ? "SHA1" : "SHA256");
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  std::array<uint8_t, kHeaderSize> header{};
  std::memcpy(header.data(), prefix.data(), kHeaderSize);
  PutLength(header.data(), length_field);
  // An empty key is legal for HMAC but OpenSSL wants a non-null pointer.
  static const uint8_t kEmpty = 0;
  bool ok = EVP_MAC_init(ctx, key.empty() ? &kEmpty : key.data(), key.size(), params) == 1;
  ok = ok && EVP_MAC_update(ctx, header.data(), header.size()) == 1;
  ok = ok && (prefix.size() == kHeaderSize ||
              EVP_MAC_update(ctx, prefix.data() + kHeaderSize, prefix.size() - kHeaderSize) == 1);
  std::array<uint8_t, 32> result{};
  size_t written = 0;
  ok = ok && EVP_MAC_final(ctx, result.data(), &written, result.size()) == 1 && written == full;
  EVP_MAC_CTX_free(ctx);
  if (ok) std::memcpy(out.data(), result.data(), out.size());
  return ok;
}

uint32_t ComputeFingerprint(ByteSpan prefix) {
  if (prefix.size() < kHeaderSize) return 0;
  std::array<uint8_t, kHeaderSize> header{};
  std::memcpy(header.data(), prefix.data(), kHeaderSize);
  PutLength(header.data(), static_cast<uint16_t>(prefix.size() - kHeaderSize +
                                                 kAttributeHeaderSize + kFingerprintSize));
  uint32_t crc = Crc32(header);
  crc = Crc32Update(crc, prefix.subspan(kHeaderSize));
  return crc ^ kFingerprintXor;
}

std::string_view ToString(CheckResult r) {
  switch (r) {
    case CheckResult::kOk:
      return "ok";
    case CheckResult::kMissing:
      return "missing";
    case CheckResult::kMismatch:
      return "mismatch";
    case CheckResult::kCryptoError:
      return "crypto error";
  }
  return "?";
}

CheckResult VerifyMessageIntegrity(const MessageView& m, ByteSpan key) {
  return VerifyMac(m, m.message_integrity(), IntegrityAlgorithm::kHmacSha1, key);
}

CheckResult VerifyMessageIntegritySha256(const MessageView& m, ByteSpan key) {
  return VerifyMac(m, m.message_integrity_sha256(), IntegrityAlgorithm::kHmacSha256, key);
}

CheckResult VerifyFingerprint(const MessageView& m) {
  const Attribute* a = m.fingerprint();
  if (a == nullptr) return CheckResult::kMissing;
  const uint32_t expected = ComputeFingerprint(m.bytes().first(a->offset));
  const uint8_t* v = a->value.data();
  const uint32_t got =
      (uint32_t{v[0]} << 24) | (uint32_t{v[1]} << 16) | (uint32_t{v[2]} << 8) | v[3];
  return got == expected ? CheckResult::kOk : CheckResult::kMismatch;
}

absl::StatusOr<std::array<uint8_t, 16>> LongTermKeyMd5(std::string_view username,
                                                       std::string_view realm,
                                                       std::string_view password) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return absl::InternalError("MD5: out of memory");
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  std::array<uint8_t, 16> key{};
  unsigned int written = 0;
  bool ok = md5 != nullptr && EVP_DigestInit_ex(ctx, md5, nullptr) == 1;
  ok = ok && EVP_DigestUpdate(ctx, username.data(), username.size()) == 1;
  ok = ok && EVP_DigestUpdate(ctx, ":", 1) == 1;
  ok = ok && EVP_DigestUpdate(ctx, realm.data(), realm.size()) == 1;
  ok = ok && EVP_DigestUpdate(ctx, ":", 1) == 1;
  ok = ok && EVP_DigestUpdate(ctx, password.data(), password.size()) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx, key.data(), &written) == 1 && written == key.size();
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md5);
  if (!ok) return absl::InternalError("MD5 is not available from OpenSSL");
  return key;
}

}  // namespace meshvpn::stun
