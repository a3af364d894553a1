// Parsing STUN messages without copying: a bounds-checked view of the header and attributes, and
// decoders for the attribute values (addresses, ERROR-CODE, CHANGE-REQUEST, UNKNOWN-ATTRIBUTES).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/stun/messages.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::stun {

// Why a message (or an attribute value) was rejected. kOk means accepted.
enum class ParseError : uint8_t {
  kOk,
  kTooShort,            // fewer than 20 bytes
  kNotStun,             // the two top bits of the type are not zero
  kBadMagicCookie,      // not 0x2112A442 (RFC 3489 messages are not accepted)
  kLengthNotAligned,    // message length not a multiple of 4
  kLengthMismatch,      // 20 + message length != datagram size
  kTruncatedAttribute,  // an attribute header or value runs past the end
  kTooManyAttributes,   // more than kMaxAttributes (not counting the integrity/fingerprint trailer)
  kAttributeAfterFingerprint,
  kBadIntegrityLength,  // MESSAGE-INTEGRITY(-SHA256) of an invalid length
  kBadFingerprintLength,
  kBadAddressFamily,      // address attribute: family not 1 or 2
  kBadAddressLength,      // address attribute: length does not match the family
  kBadErrorCode,          // ERROR-CODE: short, class not 3..6 or number > 99
  kBadChangeRequest,      // CHANGE-REQUEST: length not 4
  kBadUnknownAttributes,  // UNKNOWN-ATTRIBUTES: odd length
  kMissingAttribute,      // a decoder was asked for an attribute the message does not have
};
std::string_view ToString(ParseError e);

// One attribute as found in the message: its value (without padding) and the offset of its
// header from the start of the message (up to kMaxMessageSize - 8, which needs more than 16 bits).
struct Attribute {
  uint16_t type = 0;
  uint32_t offset = 0;
  ByteSpan value;
  // The padding bytes as sent (0..3 of them; their content is not checked).
  ByteSpan padding;
};

// A parsed message. Everything points into the buffer given to Parse, which must outlive it.
// No allocation: at most kMaxAttributes ordinary attributes, plus the trailer (at most one each of
// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, which is all section 14.5 lets
// count), and kMaxUnknown unknown types are kept. So a message with kMaxAttributes ordinary
// attributes still parses once a FINGERPRINT or MESSAGE-INTEGRITY is appended to it.
class MessageView {
 public:
  static constexpr size_t kMaxAttributes = 48;
  static constexpr size_t kMaxTrailerAttributes = 3;
  static constexpr size_t kMaxUnknown = 16;

  // Parses one STUN message (one UDP datagram). Checks the header, walks the attributes without
  // reading past `data`, validates the structure of MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256
  // and FINGERPRINT (sizes, and that FINGERPRINT is last). Attributes after MESSAGE-INTEGRITY
  // other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored, as RFC 8489 section 14.5
  // requires. Unknown comprehension-optional attributes are kept (but not interpreted);
  // unknown comprehension-required ones are listed in unknown_required() and the message is
  // still returned, so that a server can answer 420.
  static ParseError Parse(ByteSpan data, MessageView* out);

  // True if `data` looks like a STUN message (top bits zero, cookie, aligned length that fits):
  // the cheap check used to tell STUN from other traffic on a shared socket.
  static bool LooksLikeStun(ByteSpan data);

  uint16_t type() const { return type_; }
  uint16_t method() const { return MethodOf(type_); }
  MessageClass message_class() const { return ClassOf(type_); }
  const TransactionId& transaction_id() const { return transaction_id_; }
  ByteSpan bytes() const { return bytes_; }

  std::span<const Attribute> attributes() const { return {attributes_.data(), count_}; }
  // The first attribute of that type, or nullptr.
  const Attribute* Find(uint16_t type) const;
  // Unknown comprehension-required attribute types, in order of appearance (deduplicated).
  std::span<const uint16_t> unknown_required() const { return {unknown_.data(), unknown_count_}; }
  // How many attributes after MESSAGE-INTEGRITY were ignored.
  size_t ignored_after_integrity() const { return ignored_after_integrity_; }

  const Attribute* message_integrity() const { return At(integrity_); }
  const Attribute* message_integrity_sha256() const { return At(integrity_sha256_); }
  const Attribute* fingerprint() const { return At(fingerprint_); }

 private:
  ByteSpan bytes_;
  uint16_t type_ = 0;
  TransactionId transaction_id_{};
  std::array<Attribute, kMaxAttributes + kMaxTrailerAttributes> attributes_{};
  size_t count_ = 0;
  std::array<uint16_t, kMaxUnknown> unknown_{};
  size_t unknown_count_ = 0;
  size_t ignored_after_integrity_ = 0;
  // Indices into attributes_ (kNone: absent), so that copies of a view stay valid.
  static constexpr size_t kNone = ~size_t{0};
  const Attribute* At(size_t i) const { return i == kNone ? nullptr : &attributes_[i]; }
  size_t integrity_ = kNone;
  size_t integrity_sha256_ = kNone;
  size_t fingerprint_ = kNone;
};

// Address attribute values. `xored` selects the XOR-MAPPED-ADDRESS encoding.
ParseError DecodeAddress(ByteSpan value, bool xored, const TransactionId& id, udp::Endpoint* out);
// Looks up the attribute `type` in `m` and decodes it (XOR form for XOR-MAPPED-ADDRESS only).
ParseError GetAddress(const MessageView& m, uint16_t type, udp::Endpoint* out);

struct ErrorCode {
  uint16_t code = 0;        // 300..699
  std::string_view reason;  // points into the message
};
ParseError DecodeErrorCode(ByteSpan value, ErrorCode* out);

struct ChangeRequest {
  bool change_ip = false;
  bool change_port = false;
};
ParseError DecodeChangeRequest(ByteSpan value, ChangeRequest* out);

// UNKNOWN-ATTRIBUTES: a list of 16-bit types. Writes up to out.size() of them; *count is the
// number written.
ParseError DecodeUnknownAttributes(ByteSpan value, std::span<uint16_t> out, size_t* count);

// The value as text (USERNAME, SOFTWARE, REALM, NONCE): no UTF-8 validation.
inline std::string_view AsText(ByteSpan value) {
  return {reinterpret_cast<const char*>(value.data()), value.size()};
}

}  // namespace meshvpn::stun
