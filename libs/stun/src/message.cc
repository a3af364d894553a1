#include "meshvpn/stun/message.h"

#include <algorithm>
#include <cstring>

namespace meshvpn::stun {
namespace {

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

std::string_view ToString(MessageClass c) {
  switch (c) {
    case MessageClass::kRequest:
      return "request";
    case MessageClass::kIndication:
      return "indication";
    case MessageClass::kSuccessResponse:
      return "success response";
    case MessageClass::kErrorResponse:
      return "error response";
  }
  return "?";
}

std::string_view ToString(ParseError e) {
  switch (e) {
    case ParseError::kOk:
      return "ok";
    case ParseError::kTooShort:
      return "shorter than the 20-byte header";
    case ParseError::kNotStun:
      return "top two bits of the message type are not zero";
    case ParseError::kBadMagicCookie:
      return "magic cookie is not 0x2112A442";
    case ParseError::kLengthNotAligned:
      return "message length is not a multiple of 4";
    case ParseError::kLengthMismatch:
      return "message length does not match the datagram size";
    case ParseError::kTruncatedAttribute:
      return "attribute runs past the end of the message";
    case ParseError::kTooManyAttributes:
      return "too many attributes";
    case ParseError::kAttributeAfterFingerprint:
      return "attribute after FINGERPRINT";
    case ParseError::kBadIntegrityLength:
      return "MESSAGE-INTEGRITY of invalid length";
    case ParseError::kBadFingerprintLength:
      return "FINGERPRINT of invalid length";
    case ParseError::kBadAddressFamily:
      return "address family is not IPv4 (1) or IPv6 (2)";
    case ParseError::kBadAddressLength:
      return "address attribute length does not match its family";
    case ParseError::kBadErrorCode:
      return "malformed ERROR-CODE";
    case ParseError::kBadChangeRequest:
      return "CHANGE-REQUEST is not 4 bytes";
    case ParseError::kBadUnknownAttributes:
      return "UNKNOWN-ATTRIBUTES length is odd";
    case ParseError::kMissingAttribute:
      return "attribute missing";
  }
  return "?";
}

bool IsKnownRequiredAttribute(uint16_t type) {
  switch (type) {
    case attr::kMappedAddress:
    case attr::kChangeRequest:
    case attr::kUsername:
    case attr::kMessageIntegrity:
    case attr::kErrorCode:
    case attr::kUnknownAttributes:
    case attr::kRealm:
    case attr::kNonce:
    case attr::kMessageIntegritySha256:
    case attr::kXorMappedAddress:
    case attr::kPadding:
      return true;
    default:
      return false;
  }
}

std::string_view AttributeName(uint16_t type) {
  switch (type) {
    case attr::kMappedAddress:
      return "MAPPED-ADDRESS";
    case attr::kChangeRequest:
      return "CHANGE-REQUEST";
    case attr::kUsername:
      return "USERNAME";
    case attr::kMessageIntegrity:
      return "MESSAGE-INTEGRITY";
    case attr::kErrorCode:
      return "ERROR-CODE";
    case attr::kUnknownAttributes:
      return "UNKNOWN-ATTRIBUTES";
    case attr::kRealm:
      return "REALM";
    case attr::kNonce:
      return "NONCE";
    case attr::kMessageIntegritySha256:
      return "MESSAGE-INTEGRITY-SHA256";
    case attr::kPasswordAlgorithm:
      return "PASSWORD-ALGORITHM";
    case attr::kUserhash:
      return "USERHASH";
    case attr::kXorMappedAddress:
      return "XOR-MAPPED-ADDRESS";
    case attr::kPriority:
      return "PRIORITY";
    case attr::kUseCandidate:
      return "USE-CANDIDATE";
    case attr::kPadding:
      return "PADDING";
    case attr::kResponsePort:
      return "RESPONSE-PORT";
    case attr::kPasswordAlgorithms:
      return "PASSWORD-ALGORITHMS";
    case attr::kAlternateDomain:
      return "ALTERNATE-DOMAIN";
    case attr::kSoftware:
      return "SOFTWARE";
    case attr::kAlternateServer:
      return "ALTERNATE-SERVER";
    case attr::kCacheTimeout:
      return "CACHE-TIMEOUT";
    case attr::kFingerprint:
      return "FINGERPRINT";
    case attr::kIceControlled:
      return "ICE-CONTROLLED";
    case attr::kIceControlling:
      return "ICE-CONTROLLING";
    case attr::kResponseOrigin:
      return "RESPONSE-ORIGIN";
    case attr::kOtherAddress:
      return "OTHER-ADDRESS";
    default:
      return "unknown";
  }
}

bool MessageView::LooksLikeStun(ByteSpan data) {
  if (data.size() < kHeaderSize || (data[0] & 0xC0) != 0) return false;
  const size_t length = Load16(data.data() + 2);
  return Load32(data.data() + 4) == kMagicCookie && length % 4 == 0 &&
         kHeaderSize + length == data.size();
}

ParseError MessageView::Parse(ByteSpan data, MessageView* out) {
  MessageView& m = *out;
  m = MessageView();
  if (data.size() < kHeaderSize) return ParseError::kTooShort;
  const uint8_t* p = data.data();
  if ((p[0] & 0xC0) != 0) return ParseError::kNotStun;
  if (Load32(p + 4) != kMagicCookie) return ParseError::kBadMagicCookie;
  const size_t length = Load16(p + 2);
  if (length % 4 != 0) return ParseError::kLengthNotAligned;
  if (kHeaderSize + length != data.size()) return ParseError::kLengthMismatch;
  m.bytes_ = data;
  m.type_ = Load16(p);
  std::memcpy(m.transaction_id_.data(), p + 8, kTransactionIdSize);

  size_t pos = kHeaderSize;
  while (pos < data.size()) {
    const size_t left = data.size() - pos;
    if (left < kAttributeHeaderSize) return ParseError::kTruncatedAttribute;
    const uint16_t type = Load16(p + pos);
    const size_t value_length = Load16(p + pos + 2);
    const size_t padded = PaddedLength(value_length);
    if (padded > left - kAttributeHeaderSize) return ParseError::kTruncatedAttribute;
    if (m.fingerprint_ != kNone) return ParseError::kAttributeAfterFingerprint;
    Attribute a;
    a.type = type;
    a.offset = static_cast<uint32_t>(pos);
    a.value = data.subspan(pos + kAttributeHeaderSize, value_length);
    a.padding = data.subspan(pos + kAttributeHeaderSize + value_length, padded - value_length);
    pos += kAttributeHeaderSize + padded;

    // RFC 8489 section 14.5: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
    // FINGERPRINT count; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT.
    const bool after_mi = m.integrity_ != kNone;
    const bool after_mi256 = m.integrity_sha256_ != kNone;
    if (type != attr::kFingerprint &&
        (after_mi256 || (after_mi && type != attr::kMessageIntegritySha256))) {
      ++m.ignored_after_integrity_;
      continue;
    }
    // The limit is on ordinary attributes. They are only kept before MESSAGE-INTEGRITY(-SHA256),
    // so count_ is their number here; the trailer (at most one MESSAGE-INTEGRITY, one
    // MESSAGE-INTEGRITY-SHA256 and one FINGERPRINT, the rest being ignored or rejected above)
    // has slots of its own.
    const bool trailer = type == attr::kMessageIntegrity || type == attr::kMessageIntegritySha256 ||
                         type == attr::kFingerprint;
    if (!trailer && m.count_ >= kMaxAttributes) return ParseError::kTooManyAttributes;
    if (m.count_ == m.attributes_.size()) return ParseError::kTooManyAttributes;  // not reached
    switch (type) {
      case attr::kMessageIntegrity:
        if (value_length != kMessageIntegritySize) return ParseError::kBadIntegrityLength;
        m.integrity_ = m.count_;
        break;
      case attr::kMessageIntegritySha256:
        if (value_length < kMessageIntegritySha256MinSize ||
            value_length > kMessageIntegritySha256Size || value_length % 4 != 0) {
          return ParseError::kBadIntegrityLength;
        }
        m.integrity_sha256_ = m.count_;
        break;
      case attr::kFingerprint:
        if (value_length != kFingerprintSize) return ParseError::kBadFingerprintLength;
        m.fingerprint_ = m.count_;
        break;
      default:
        if (IsComprehensionRequired(type) && !IsKnownRequiredAttribute(type)) {
          uint16_t* end = m.unknown_.data() + m.unknown_count_;
          if (std::find(m.unknown_.data(), end, type) == end && m.unknown_count_ < kMaxUnknown) {
            m.unknown_[m.unknown_count_++] = type;
          }
        }
        break;
    }
    m.attributes_[m.count_++] = a;
  }
  return ParseError::kOk;
}

const Attribute* MessageView::Find(uint16_t type) const {
  for (size_t i = 0; i < count_; ++i) {
    if (attributes_[i].type == type) return &attributes_[i];
  }
  return nullptr;
}

ParseError DecodeAddress(ByteSpan value, bool xored, const TransactionId& id, udp::Endpoint* out) {
  if (value.size() < 4) return ParseError::kBadAddressLength;
  const uint8_t family = value[1];
  uint16_t port = Load16(value.data() + 2);
  if (xored) port ^= static_cast<uint16_t>(kMagicCookie >> 16);
  // The XOR key: the magic cookie followed by the transaction ID.
  std::array<uint8_t, 16> key{};
  key[0] = static_cast<uint8_t>(kMagicCookie >> 24);
  key[1] = static_cast<uint8_t>(kMagicCookie >> 16);
  key[2] = static_cast<uint8_t>(kMagicCookie >> 8);
  key[3] = static_cast<uint8_t>(kMagicCookie);
  std::memcpy(key.data() + 4, id.data(), id.size());
  if (family == kFamilyIpv4) {
    if (value.size() != kAddressValueSizeV4) return ParseError::kBadAddressLength;
    std::array<uint8_t, 4> a{};
    for (size_t i = 0; i < 4; ++i) a[i] = value[4 + i] ^ (xored ? key[i] : 0);
    *out = udp::Endpoint::V4(a, port);
    return ParseError::kOk;
  }
  if (family == kFamilyIpv6) {
    if (value.size() != kAddressValueSizeV6) return ParseError::kBadAddressLength;
    std::array<uint8_t, 16> a{};
    for (size_t i = 0; i < 16; ++i) a[i] = value[4 + i] ^ (xored ? key[i] : 0);
    *out = udp::Endpoint::V6(a, port);
    return ParseError::kOk;
  }
  return ParseError::kBadAddressFamily;
}

ParseError GetAddress(const MessageView& m, uint16_t type, udp::Endpoint* out) {
  const Attribute* a = m.Find(type);
  if (a == nullptr) return ParseError::kMissingAttribute;
  return DecodeAddress(a->value, type == attr::kXorMappedAddress, m.transaction_id(), out);
}

ParseError DecodeErrorCode(ByteSpan value, ErrorCode* out) {
  if (value.size() < kErrorCodeHeaderSize) return ParseError::kBadErrorCode;
  const unsigned cls = value[2] & 0x07;
  const unsigned number = value[3];
  if (cls < 3 || cls > 6 || number > 99) return ParseError::kBadErrorCode;
  out->code = static_cast<uint16_t>(cls * 100 + number);
  out->reason = AsText(value.subspan(kErrorCodeHeaderSize));
  return ParseError::kOk;
}

ParseError DecodeChangeRequest(ByteSpan value, ChangeRequest* out) {
  if (value.size() != kChangeRequestSize) return ParseError::kBadChangeRequest;
  const uint32_t flags = Load32(value.data());
  out->change_ip = (flags & kChangeIpFlag) != 0;
  out->change_port = (flags & kChangePortFlag) != 0;
  return ParseError::kOk;
}

ParseError DecodeUnknownAttributes(ByteSpan value, std::span<uint16_t> out, size_t* count) {
  if (value.size() % 2 != 0) return ParseError::kBadUnknownAttributes;
  size_t n = 0;
  for (size_t i = 0; i + 1 < value.size() && n < out.size(); i += 2) {
    out[n++] = Load16(value.data() + i);
  }
  *count = n;
  return ParseError::kOk;
}

}  // namespace meshvpn::stun
