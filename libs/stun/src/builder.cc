#include "meshvpn/stun/builder.h"

#include <cstring>

#include "meshvpn/stun/integrity.h"

namespace meshvpn::stun {
namespace {

void Store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

std::string_view ToString(BuildError e) {
  switch (e) {
    case BuildError::kOk:
      return "ok";
    case BuildError::kNotStarted:
      return "not started";
    case BuildError::kNoSpace:
      return "buffer too small";
    case BuildError::kValueTooLong:
      return "attribute value too long";
    case BuildError::kBadPadding:
      return "padding of the wrong length";
    case BuildError::kAfterIntegrity:
      return "attribute after MESSAGE-INTEGRITY";
    case BuildError::kAfterFingerprint:
      return "attribute after FINGERPRINT";
    case BuildError::kBadErrorCode:
      return "error code not in 300..699";
    case BuildError::kCryptoFailure:
      return "HMAC failed";
  }
  return "?";
}

bool MessageBuilder::Start(uint16_t type, const TransactionId& id) {
  started_ = true;
  integrity_ = false;
  fingerprint_ = false;
  size_ = 0;
  if (out_.size() < kHeaderSize) return Fail(BuildError::kNoSpace);
  error_ = BuildError::kOk;
  uint8_t* p = out_.data();
  Store16(p, static_cast<uint16_t>(type & 0x3FFF));
  Store16(p + 2, 0);
  Store32(p + 4, kMagicCookie);
  std::memcpy(p + 8, id.data(), id.size());
  size_ = kHeaderSize;
  return true;
}

void MessageBuilder::UpdateLength() {
  Store16(out_.data() + 2, static_cast<uint16_t>(size_ - kHeaderSize));
}

MutableByteSpan MessageBuilder::Reserve(uint16_t type, size_t length, bool trailer) {
  if (!ok()) return {};
  if (fingerprint_) {
    Fail(BuildError::kAfterFingerprint);
    return {};
  }
  if (integrity_ && !trailer) {
    Fail(BuildError::kAfterIntegrity);
    return {};
  }
  if (length > 0xFFFF) {
    Fail(BuildError::kValueTooLong);
    return {};
  }
  const size_t total = kAttributeHeaderSize + PaddedLength(length);
  if (total > out_.size() - size_ || size_ + total - kHeaderSize > 0xFFFF) {
    Fail(BuildError::kNoSpace);
    return {};
  }
  uint8_t* p = out_.data() + size_;
  Store16(p, type);
  Store16(p + 2, static_cast<uint16_t>(length));
  std::memset(p + kAttributeHeaderSize, 0, PaddedLength(length));
  size_ += total;
  UpdateLength();
  return {p + kAttributeHeaderSize, length};
}

bool MessageBuilder::AddAttribute(uint16_t type, ByteSpan value, ByteSpan padding) {
  if (!ok()) return false;
  const size_t pad = PaddedLength(value.size()) - value.size();
  if (!padding.empty() && padding.size() != pad) return Fail(BuildError::kBadPadding);
  MutableByteSpan v = Reserve(type, value.size(), false);
  if (!ok()) return false;
  if (!value.empty()) std::memcpy(v.data(), value.data(), value.size());
  if (!padding.empty()) std::memcpy(v.data() + value.size(), padding.data(), pad);
  return true;
}

bool MessageBuilder::AddText(uint16_t type, std::string_view text, ByteSpan padding) {
  return AddAttribute(type, AsBytes(text), padding);
}

bool MessageBuilder::AddAddress(uint16_t type, const udp::Endpoint& endpoint) {
  const bool xored = type == attr::kXorMappedAddress;
  const bool v4 = endpoint.is_v4();
  MutableByteSpan v = Reserve(type, v4 ? kAddressValueSizeV4 : kAddressValueSizeV6, false);
  if (!ok()) return false;
  v[0] = 0;
  v[1] = v4 ? kFamilyIpv4 : kFamilyIpv6;
  uint16_t port = endpoint.port();
  if (xored) port ^= static_cast<uint16_t>(kMagicCookie >> 16);
  Store16(v.data() + 2, port);
  std::array<uint8_t, 16> key{};
  if (xored) {
    Store32(key.data(), kMagicCookie);
    std::memcpy(key.data() + 4, out_.data() + 8, kTransactionIdSize);
  }
  const std::span<const uint8_t> address = endpoint.address();
  for (size_t i = 0; i < address.size(); ++i) v[4 + i] = address[i] ^ key[i];
  return true;
}

bool MessageBuilder::AddErrorCode(uint16_t code, std::string_view reason) {
  if (!ok()) return false;
  if (code < 300 || code > 699) return Fail(BuildError::kBadErrorCode);
  if (reason.size() > kMaxReasonPhrase) return Fail(BuildError::kValueTooLong);
  MutableByteSpan v = Reserve(attr::kErrorCode, kErrorCodeHeaderSize + reason.size(), false);
  if (!ok()) return false;
  v[0] = 0;
  v[1] = 0;
  v[2] = static_cast<uint8_t>(code / 100);
  v[3] = static_cast<uint8_t>(code % 100);
  if (!reason.empty()) std::memcpy(v.data() + kErrorCodeHeaderSize, reason.data(), reason.size());
  return true;
}

bool MessageBuilder::AddUnknownAttributes(std::span<const uint16_t> types) {
  MutableByteSpan v = Reserve(attr::kUnknownAttributes, types.size() * 2, false);
  if (!ok()) return false;
  for (size_t i = 0; i < types.size(); ++i) Store16(v.data() + 2 * i, types[i]);
  return true;
}

bool MessageBuilder::AddChangeRequest(bool change_ip, bool change_port) {
  MutableByteSpan v = Reserve(attr::kChangeRequest, kChangeRequestSize, false);
  if (!ok()) return false;
  Store32(v.data(), (change_ip ? kChangeIpFlag : 0) | (change_port ? kChangePortFlag : 0));
  return true;
}

bool MessageBuilder::AddPadding(size_t n) {
  Reserve(attr::kPadding, n, false);
  return ok();
}

bool MessageBuilder::AddMessageIntegrity(ByteSpan key) {
  if (!ok()) return false;
  if (integrity_) return Fail(BuildError::kAfterIntegrity);
  const size_t prefix = size_;
  MutableByteSpan v = Reserve(attr::kMessageIntegrity, kMessageIntegritySize, true);
  if (!ok()) return false;
  integrity_ = true;
  if (!ComputeIntegrity(IntegrityAlgorithm::kHmacSha1, key, ByteSpan(out_.data(), prefix),
                        static_cast<uint16_t>(size_ - kHeaderSize), v)) {
    return Fail(BuildError::kCryptoFailure);
  }
  return true;
}

bool MessageBuilder::AddMessageIntegritySha256(ByteSpan key, size_t size) {
  if (!ok()) return false;
  if (size < kMessageIntegritySha256MinSize || size > kMessageIntegritySha256Size ||
      size % 4 != 0) {
    return Fail(BuildError::kValueTooLong);
  }
  const size_t prefix = size_;
  MutableByteSpan v = Reserve(attr::kMessageIntegritySha256, size, true);
  if (!ok()) return false;
  integrity_ = true;
  if (!ComputeIntegrity(IntegrityAlgorithm::kHmacSha256, key, ByteSpan(out_.data(), prefix),
                        static_cast<uint16_t>(size_ - kHeaderSize), v)) {
    return Fail(BuildError::kCryptoFailure);
  }
  return true;
}

bool MessageBuilder::AddFingerprint() {
  if (!ok()) return false;
  const size_t prefix = size_;
  MutableByteSpan v = Reserve(attr::kFingerprint, kFingerprintSize, true);
  if (!ok()) return false;
  fingerprint_ = true;
  Store32(v.data(), ComputeFingerprint(ByteSpan(out_.data(), prefix)));
  return true;
}

ByteSpan MessageBuilder::Finish() const {
  if (!ok()) return {};
  return ByteSpan(out_.data(), size_);
}

}  // namespace meshvpn::stun
