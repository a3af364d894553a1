#include "meshvpn/wg/cookie.h"

#include <algorithm>
#include <utility>

#include "meshvpn/base/secure.h"

namespace meshvpn::wg {
namespace {

MacKey LabelledHash(std::string_view label, PublicKeyBytes key, CryptoBackend backend) {
  return noise::Blake2s256({AsBytes(label), ByteSpan(key)}, backend);
}

bool IsHandshake(const ParsedMessage& p) {
  return p.ok() &&
         (p.type == MessageType::kHandshakeInitiation || p.type == MessageType::kHandshakeResponse);
}

// Source address || port, big-endian: 6 bytes for IPv4, 18 for IPv6.
size_t SourceBytes(const udp::Endpoint& source, std::array<uint8_t, 18>* out) {
  const ByteSpan address = source.address();
  std::copy(address.begin(), address.end(), out->begin());
  (*out)[address.size()] = static_cast<uint8_t>(source.port() >> 8);
  (*out)[address.size() + 1] = static_cast<uint8_t>(source.port());
  return address.size() + 2;
}

}  // namespace

MacKey Mac1Key(PublicKeyBytes public_key, CryptoBackend backend) {
  return LabelledHash(kLabelMac1, public_key, backend);
}

MacKey CookieKey(PublicKeyBytes public_key, CryptoBackend backend) {
  return LabelledHash(kLabelCookie, public_key, backend);
}

bool FindMacOffsets(ByteSpan message, MacOffsets* out) {
  const ParsedMessage p = ParseMessage(message);
  if (!IsHandshake(p)) return false;
  if (p.type == MessageType::kHandshakeInitiation) {
    *out = {initiation::kMac1Offset, initiation::kMac2Offset};
  } else {
    *out = {response::kMac1Offset, response::kMac2Offset};
  }
  return true;
}

std::string_view ToString(MacCheck check) {
  switch (check) {
    case MacCheck::kMalformed:
      return "not a handshake message";
    case MacCheck::kInvalidMac1:
      return "invalid mac1";
    case MacCheck::kValidMac1:
      return "valid mac1, no valid mac2";
    case MacCheck::kValidMac1AndMac2:
      return "valid mac1 and mac2";
  }
  return "unknown";
}

std::string_view ToString(CookieGenerator::ReplyResult result) {
  switch (result) {
    case CookieGenerator::ReplyResult::kOk:
      return "ok";
    case CookieGenerator::ReplyResult::kMalformed:
      return "malformed cookie reply";
    case CookieGenerator::ReplyResult::kUnexpected:
      return "unexpected cookie reply";
    case CookieGenerator::ReplyResult::kAuthenticationFailed:
      return "cookie reply failed authentication";
  }
  return "unknown";
}

namespace {

// The XChaCha20-Poly1305 key that seals cookies for the owner of `public_key`
// (key = HASH(LABEL_COOKIE || public_key)); the derived key bytes are wiped at once.
absl::StatusOr<aead::XChaCha20Poly1305> CookieAead(PublicKeyBytes public_key,
                                                   CryptoBackend backend) {
  MacKey cookie_key = CookieKey(public_key, backend);
  auto cipher = aead::XChaCha20Poly1305::Create(cookie_key, backend);
  SecureWipe(cookie_key);
  return cipher;
}

}  // namespace

// ---- CookieChecker ---------------------------------------------------------------------------

absl::StatusOr<CookieChecker> CookieChecker::Create(PublicKeyBytes own_public_key,
                                                    CryptoBackend backend) {
  CookieChecker c;
  c.backend_ = backend;
  c.mac1_key_ = Mac1Key(own_public_key, backend);
  auto aead = CookieAead(own_public_key, backend);
  if (!aead.ok()) return aead.status();
  c.cookie_aead_ = std::move(*aead);
  return c;
}

CookieChecker::~CookieChecker() { SecureWipe(secret_); }

bool CookieChecker::CookieFor(const udp::Endpoint& source, MonoTime now, noise::Mac16* cookie) {
  if (!has_secret_ || now - secret_birth_ >= kCookieSecretMaxAge) {
    if (!FillRandom(secret_).ok()) return false;
    secret_birth_ = now;
    has_secret_ = true;
  }
  std::array<uint8_t, 18> src;
  const size_t n = SourceBytes(source, &src);
  *cookie =
      noise::Blake2sMac16(std::span<const uint8_t, 32>(secret_), ByteSpan(src.data(), n), backend_);
  return true;
}

MacCheck CookieChecker::CheckMacs(ByteSpan message, const udp::Endpoint& source, bool check_mac2,
                                  MonoTime now) {
  MacOffsets off;
  if (!FindMacOffsets(message, &off)) return MacCheck::kMalformed;
  const noise::Mac16 mac1 = noise::Blake2sMac16(mac1_key_, message.first(off.mac1), backend_);
  if (!ConstantTimeEqual(mac1, message.subspan(off.mac1, kMacSize))) return MacCheck::kInvalidMac1;
  if (!check_mac2) return MacCheck::kValidMac1;
  noise::Mac16 cookie;
  if (!CookieFor(source, now, &cookie)) return MacCheck::kValidMac1;
  const noise::Mac16 mac2 = noise::Blake2sMac16(cookie, message.first(off.mac2), backend_);
  SecureWipe(cookie);
  return ConstantTimeEqual(mac2, message.subspan(off.mac2, kMacSize)) ? MacCheck::kValidMac1AndMac2
                                                                      : MacCheck::kValidMac1;
}

bool CookieChecker::MakeCookieReply(ByteSpan message, const udp::Endpoint& source, MonoTime now,
                                    std::span<uint8_t, cookie_reply::kSize> out) {
  MacOffsets off;
  if (!FindMacOffsets(message, &off)) return false;
  noise::Mac16 cookie;
  if (!CookieFor(source, now, &cookie)) return false;
  // Both handshake messages carry their sender index at offset 4.
  const uint32_t sender_index = ReadLe32(message, initiation::kSenderIndexOffset);
  out[0] = static_cast<uint8_t>(MessageType::kCookieReply);
  out[1] = out[2] = out[3] = 0;
  WriteLe32(out, cookie_reply::kReceiverIndexOffset, sender_index);
  const MutableByteSpan nonce = out.subspan(cookie_reply::kNonceOffset, kCookieNonceSize);
  const MutableByteSpan sealed =
      out.subspan(cookie_reply::kEncryptedCookieOffset, cookie_reply::kEncryptedCookieSize);
  std::copy(cookie.begin(), cookie.end(), sealed.begin());
  SecureWipe(cookie);
  bool ok = FillRandom(nonce).ok();
  ok = ok && cookie_aead_.Seal(nonce, message.subspan(off.mac1, kMacSize), sealed, kCookieSize) ==
                 aead::AeadResult::kOk;
  if (!ok) SecureWipe(out);
  return ok;
}

// ---- CookieGenerator -------------------------------------------------------------------------

absl::StatusOr<CookieGenerator> CookieGenerator::Create(PublicKeyBytes peer_public_key,
                                                        CryptoBackend backend) {
  CookieGenerator g;
  g.backend_ = backend;
  g.mac1_key_ = Mac1Key(peer_public_key, backend);
  auto aead = CookieAead(peer_public_key, backend);
  if (!aead.ok()) return aead.status();
  g.cookie_aead_ = std::move(*aead);
  return g;
}

CookieGenerator::~CookieGenerator() { SecureWipe(cookie_); }

bool CookieGenerator::HasCookie(MonoTime now) const {
  return has_cookie_ && now - cookie_birth_ < kCookieRefreshTime;
}

bool CookieGenerator::AddMacs(MutableByteSpan message, MonoTime now) {
  MacOffsets off;
  if (!FindMacOffsets(message, &off)) return false;
  last_mac1_ = noise::Blake2sMac16(mac1_key_, ByteSpan(message).first(off.mac1), backend_);
  std::copy(last_mac1_.begin(), last_mac1_.end(), message.begin() + off.mac1);
  awaiting_reply_ = true;
  noise::Mac16 mac2{};
  if (HasCookie(now)) {
    mac2 = noise::Blake2sMac16(cookie_, ByteSpan(message).first(off.mac2), backend_);
  }
  std::copy(mac2.begin(), mac2.end(), message.begin() + off.mac2);
  return true;
}

CookieGenerator::ReplyResult CookieGenerator::ConsumeCookieReply(ByteSpan reply, MonoTime now) {
  CookieReply m;
  if (Decode(reply, &m) != MessageError::kOk) return ReplyResult::kMalformed;
  if (!awaiting_reply_) return ReplyResult::kUnexpected;
  const aead::AeadResult r = cookie_aead_.Open(m.nonce, last_mac1_, m.encrypted_cookie);
  if (r != aead::AeadResult::kOk) return ReplyResult::kAuthenticationFailed;
  std::copy_n(m.encrypted_cookie.begin(), kCookieSize, cookie_.begin());
  SecureWipe(m.encrypted_cookie);
  cookie_birth_ = now;
  has_cookie_ = true;
  awaiting_reply_ = false;
  return ReplyResult::kOk;
}

}  // namespace meshvpn::wg
