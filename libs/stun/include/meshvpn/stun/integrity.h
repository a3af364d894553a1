// MESSAGE-INTEGRITY (HMAC-SHA1), MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (CRC-32): computing
// and checking them, and the long-term credential key.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/stun/message.h"

namespace meshvpn::stun {

// CRC-32 as used by FINGERPRINT (ISO-HDLC: reflected polynomial 0xEDB88320, initial and final
// XOR 0xFFFFFFFF; the same CRC as zlib and Ethernet). Crc32("123456789") == 0xCBF43926.
uint32_t Crc32(ByteSpan data);
// Continues a CRC: Crc32Update(Crc32(a), b) == Crc32(a || b).
uint32_t Crc32Update(uint32_t crc, ByteSpan data);

enum class IntegrityAlgorithm : uint8_t { kHmacSha1, kHmacSha256 };

// The MAC over `prefix` (a message's first bytes: header + attributes before the integrity
// attribute) with the header's length field replaced by `length_field` (as RFC 8489 section
// 14.5 defines: the length the message has up to the end of the integrity attribute). Writes
// out.size() bytes (20 for SHA-1; 16..32 for SHA-256, truncated). False on a crypto failure or
// a bad size.
[[nodiscard]] bool ComputeIntegrity(IntegrityAlgorithm alg, ByteSpan key, ByteSpan prefix,
                                    uint16_t length_field, MutableByteSpan out);

// The FINGERPRINT value for a message whose first `prefix.size()` bytes precede the
// FINGERPRINT attribute: CRC-32 over them (header length set to cover the FINGERPRINT
// attribute) XOR 0x5354554e.
uint32_t ComputeFingerprint(ByteSpan prefix);

enum class CheckResult : uint8_t { kOk, kMissing, kMismatch, kCryptoError };
std::string_view ToString(CheckResult r);

// Checks MESSAGE-INTEGRITY (HMAC-SHA1) of a parsed message with `key` (short-term credentials:
// the password itself; long-term: LongTermKeyMd5). Compared in constant time.
CheckResult VerifyMessageIntegrity(const MessageView& m, ByteSpan key);
// Checks MESSAGE-INTEGRITY-SHA256 (possibly truncated) with `key`.
CheckResult VerifyMessageIntegritySha256(const MessageView& m, ByteSpan key);
// Checks FINGERPRINT.
CheckResult VerifyFingerprint(const MessageView& m);

// The long-term credential key for MESSAGE-INTEGRITY: MD5(username ":" realm ":" password),
// where the password has already been through SASLprep / OpaqueString (not done here).
absl::StatusOr<std::array<uint8_t, 16>> LongTermKeyMd5(std::string_view username,
                                                       std::string_view realm,
                                                       std::string_view password);

}  // namespace meshvpn::stun
