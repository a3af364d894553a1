// STUN wire constants (RFC 8489, RFC 5780): header layout, message types, attribute types, sizes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshvpn::stun {

// The 20-byte header (RFC 8489 section 5):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |0 0|     STUN Message Type     |         Message Length        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Magic Cookie                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Transaction ID (96 bits)                  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The length counts the attributes only (not the header) and is a multiple of 4.
inline constexpr size_t kHeaderSize = 20;
inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr size_t kTransactionIdSize = 12;
using TransactionId = std::array<uint8_t, kTransactionIdSize>;

// Each attribute: type (16 bits), value length (16 bits, without padding), the value, then
// padding to the next multiple of 4 (any content; receivers ignore it).
inline constexpr size_t kAttributeHeaderSize = 4;
inline constexpr size_t kAttributeAlignment = 4;
constexpr size_t PaddedLength(size_t n) { return (n + 3) & ~size_t{3}; }

// The largest message this library builds or accepts: what fits one UDP datagram without IP
// fragmentation on a 1500-byte path is the practical bound (RFC 8489 section 6.1 asks for
// messages below the path MTU); parsing accepts up to the 16-bit length field's maximum.
inline constexpr size_t kMaxMessageSize = kHeaderSize + 0xFFFC;
inline constexpr size_t kMaxUdpMessageSize = 1472;

// The message type: 12 method bits interleaved with 2 class bits (C1 at bit 8, C0 at bit 4).
enum class Method : uint16_t { kBinding = 0x001 };
enum class MessageClass : uint8_t {
  kRequest = 0b00,
  kIndication = 0b01,
  kSuccessResponse = 0b10,
  kErrorResponse = 0b11,
};
std::string_view ToString(MessageClass c);

constexpr uint16_t MessageType(uint16_t method, MessageClass c) {
  const uint16_t cls = static_cast<uint16_t>(c);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) |
                               ((method & 0x0F80) << 2) | ((cls & 0x1) << 4) | ((cls & 0x2) << 7));
}
constexpr uint16_t MethodOf(uint16_t type) {
  return static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}
constexpr MessageClass ClassOf(uint16_t type) {
  return static_cast<MessageClass>(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
}
inline constexpr uint16_t kBindingRequest = MessageType(0x001, MessageClass::kRequest);
inline constexpr uint16_t kBindingIndication = MessageType(0x001, MessageClass::kIndication);
inline constexpr uint16_t kBindingSuccess = MessageType(0x001, MessageClass::kSuccessResponse);
inline constexpr uint16_t kBindingError = MessageType(0x001, MessageClass::kErrorResponse);
static_assert(kBindingRequest == 0x0001 && kBindingIndication == 0x0011);
static_assert(kBindingSuccess == 0x0101 && kBindingError == 0x0111);
static_assert(MethodOf(MessageType(0xABC, MessageClass::kErrorResponse)) == 0xABC);

// Attribute types. 0x0000-0x7FFF are comprehension-required (a receiver that does not know one
// must reject the message, answering requests with 420 and UNKNOWN-ATTRIBUTES); 0x8000-0xFFFF
// are comprehension-optional (skipped when unknown).
namespace attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kChangeRequest = 0x0003;  // RFC 5780
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kPasswordAlgorithm = 0x001D;
inline constexpr uint16_t kUserhash = 0x001E;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;      // RFC 8445 (ICE)
inline constexpr uint16_t kUseCandidate = 0x0025;  // RFC 8445 (ICE)
inline constexpr uint16_t kPadding = 0x0026;       // RFC 5780
inline constexpr uint16_t kResponsePort = 0x0027;  // RFC 5780
inline constexpr uint16_t kPasswordAlgorithms = 0x8002;
inline constexpr uint16_t kAlternateDomain = 0x8003;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kAlternateServer = 0x8023;
inline constexpr uint16_t kCacheTimeout = 0x8027;  // RFC 5780
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;   // RFC 8445
inline constexpr uint16_t kIceControlling = 0x802A;  // RFC 8445
inline constexpr uint16_t kResponseOrigin = 0x802B;  // RFC 5780
inline constexpr uint16_t kOtherAddress = 0x802C;    // RFC 5780
}  // namespace attr

constexpr bool IsComprehensionRequired(uint16_t type) { return type < 0x8000; }
// True for the comprehension-required types this library understands (the rest are reported
// as unknown by the parser).
bool IsKnownRequiredAttribute(uint16_t type);
// "XOR-MAPPED-ADDRESS", ..., or "0x1234" style for unknown types (static storage, no allocation
// for known ones: the unknown case returns "unknown").
std::string_view AttributeName(uint16_t type);

// MAPPED-ADDRESS / XOR-MAPPED-ADDRESS / OTHER-ADDRESS / RESPONSE-ORIGIN value:
//   0x00 | family (0x01 IPv4, 0x02 IPv6) | port (16) | address (32 or 128 bits)
// In the XOR form the port is XORed with the cookie's top 16 bits and the address with the
// cookie (IPv4) or the cookie followed by the transaction ID (IPv6).
inline constexpr uint8_t kFamilyIpv4 = 0x01;
inline constexpr uint8_t kFamilyIpv6 = 0x02;
inline constexpr size_t kAddressValueSizeV4 = 8;
inline constexpr size_t kAddressValueSizeV6 = 20;

// MESSAGE-INTEGRITY is an HMAC-SHA1 (20 bytes); MESSAGE-INTEGRITY-SHA256 an HMAC-SHA256 that
// may be truncated to 16..32 bytes in steps of 4; FINGERPRINT is CRC-32 XOR 0x5354554e.
inline constexpr size_t kMessageIntegritySize = 20;
inline constexpr size_t kMessageIntegritySha256Size = 32;
inline constexpr size_t kMessageIntegritySha256MinSize = 16;
inline constexpr size_t kFingerprintSize = 4;
inline constexpr uint32_t kFingerprintXor = 0x5354554E;

// CHANGE-REQUEST (RFC 5780 section 7.2): a 32-bit value with two flags.
inline constexpr uint32_t kChangeIpFlag = 0x04;
inline constexpr uint32_t kChangePortFlag = 0x02;
inline constexpr size_t kChangeRequestSize = 4;

// ERROR-CODE value: 21 zero bits, class (3 bits, hundreds), number (8 bits, 0..99), then a
// UTF-8 reason phrase of at most 763 bytes.
inline constexpr size_t kErrorCodeHeaderSize = 4;
inline constexpr size_t kMaxReasonPhrase = 763;
inline constexpr size_t kMaxSoftware = 763;
inline constexpr size_t kMaxUsername = 513;
inline constexpr uint16_t kErrorTryAlternate = 300;
inline constexpr uint16_t kErrorBadRequest = 400;
inline constexpr uint16_t kErrorUnauthenticated = 401;
inline constexpr uint16_t kErrorUnknownAttribute = 420;
inline constexpr uint16_t kErrorStaleNonce = 438;
inline constexpr uint16_t kErrorServerError = 500;

// RFC 8489 section 6.2.1 retransmission defaults: first RTO 500 ms, doubled after each send;
// Rc = 7 sends; after the last send the client waits Rm * RTO (Rm = 16, with the initial RTO)
// before giving up: sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, failure at 39.5 s.
inline constexpr int kDefaultRtoMillis = 500;
inline constexpr int kDefaultRc = 7;
inline constexpr int kDefaultRm = 16;

// The default STUN port (RFC 8489 section 18.6).
inline constexpr uint16_t kDefaultPort = 3478;

}  // namespace meshvpn::stun
