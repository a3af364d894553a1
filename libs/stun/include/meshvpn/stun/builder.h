// MessageBuilder: encodes a STUN message attribute by attribute into a caller-owned buffer,
// keeping the header's length current and adding MESSAGE-INTEGRITY and FINGERPRINT last.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/stun/message.h"
#include "meshvpn/stun/messages.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::stun {

enum class BuildError : uint8_t {
  kOk,
  kNotStarted,        // Start() was not called
  kNoSpace,           // the buffer is too small
  kValueTooLong,      // value longer than 65535 (or the attribute's limit)
  kBadPadding,        // explicit padding of the wrong length
  kAfterIntegrity,    // an ordinary attribute after MESSAGE-INTEGRITY(-SHA256)
  kAfterFingerprint,  // anything after FINGERPRINT
  kBadErrorCode,      // not 300..699
  kCryptoFailure,     // HMAC failed
};
std::string_view ToString(BuildError e);

// Usage:
//   std::array<uint8_t, 512> buf;
//   MessageBuilder b(buf);
//   b.Start(kBindingSuccess, request.transaction_id());
//   b.AddAddress(attr::kXorMappedAddress, from);
//   b.AddText(attr::kSoftware, "meshvpn");
//   b.AddFingerprint();
//   ByteSpan wire = b.Finish();   // empty if anything failed; b.error() says what
//
// Errors are sticky: after the first failure every call is a no-op returning false. Nothing
// allocates. Padding is written as zeros unless given explicitly (to reproduce a captured
// message byte for byte).
class MessageBuilder {
 public:
  explicit MessageBuilder(MutableByteSpan out) : out_(out) {}

  bool Start(uint16_t type, const TransactionId& id);
  // Any attribute, value as given. `padding`, if not empty, must be exactly the padding length
  // (PaddedLength(value.size()) - value.size()) and is copied as is.
  bool AddAttribute(uint16_t type, ByteSpan value, ByteSpan padding = {});
  bool AddText(uint16_t type, std::string_view text, ByteSpan padding = {});
  // MAPPED-ADDRESS, OTHER-ADDRESS, RESPONSE-ORIGIN in plain form; XOR-MAPPED-ADDRESS XORed.
  bool AddAddress(uint16_t type, const udp::Endpoint& endpoint);
  bool AddErrorCode(uint16_t code, std::string_view reason);
  bool AddUnknownAttributes(std::span<const uint16_t> types);
  bool AddChangeRequest(bool change_ip, bool change_port);
  // PADDING (RFC 5780) of n zero bytes.
  bool AddPadding(size_t n);
  // MESSAGE-INTEGRITY over everything so far.
  bool AddMessageIntegrity(ByteSpan key);
  // MESSAGE-INTEGRITY-SHA256, `size` bytes (16..32, multiple of 4).
  bool AddMessageIntegritySha256(ByteSpan key, size_t size = kMessageIntegritySha256Size);
  bool AddFingerprint();

  BuildError error() const { return error_; }
  bool ok() const { return error_ == BuildError::kOk; }
  size_t size() const { return size_; }
  // The encoded message, or an empty span after an error.
  ByteSpan Finish() const;

 private:
  // Reserves an attribute of `length` value bytes; returns its value area or an empty span.
  MutableByteSpan Reserve(uint16_t type, size_t length, bool trailer);
  bool Fail(BuildError e) {
    error_ = e;
    return false;
  }
  void UpdateLength();

  MutableByteSpan out_;
  size_t size_ = 0;
  bool started_ = false;
  bool integrity_ = false;
  bool fingerprint_ = false;
  BuildError error_ = BuildError::kNotStarted;
};

}  // namespace meshvpn::stun
