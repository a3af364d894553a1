// WireGuard's wire layouts and spec constants (whitepaper sections 5.4 and 6), with a parser
// that classifies a UDP payload and encoders/decoders for each fixed-size message.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "meshvpn/base/bytes.h"

namespace meshvpn::wg {

// ---- Protocol names (whitepaper 5.4) -------------------------------------------------------
inline constexpr std::string_view kConstruction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
inline constexpr std::string_view kIdentifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
inline constexpr std::string_view kLabelMac1 = "mac1----";
inline constexpr std::string_view kLabelCookie = "cookie--";

// ---- Field sizes -----------------------------------------------------------------------------
inline constexpr size_t kKeySize = 32;          // X25519 public key, ephemeral
inline constexpr size_t kAeadTagSize = 16;      // Poly1305 tag
inline constexpr size_t kTimestampSize = 12;    // TAI64N
inline constexpr size_t kMacSize = 16;          // mac1, mac2
inline constexpr size_t kCookieSize = 16;       // the cookie τ
inline constexpr size_t kCookieNonceSize = 24;  // XChaCha20-Poly1305 nonce of a cookie reply
inline constexpr size_t kPaddingMultiple = 16;  // transport plaintext is padded to this

// ---- Message types: one byte, then three reserved bytes that must be zero --------------------
enum class MessageType : uint8_t {
  kHandshakeInitiation = 1,
  kHandshakeResponse = 2,
  kCookieReply = 3,
  kTransportData = 4,
};
std::string_view ToString(MessageType type);

// Handshake initiation, 148 bytes (all integers little-endian):
//
//   0        1        2        3
//   +--------+--------------------------+
//   | type=1 |   reserved (3 x zero)    |   0
//   +--------+--------------------------+
//   |          sender_index             |   4
//   +-----------------------------------+
//   |  unencrypted_ephemeral (32)       |   8
//   +-----------------------------------+
//   |  encrypted_static (32 + 16)       |  40
//   +-----------------------------------+
//   |  encrypted_timestamp (12 + 16)    |  88
//   +-----------------------------------+
//   |  mac1 (16)                        | 116
//   +-----------------------------------+
//   |  mac2 (16)                        | 132
//   +-----------------------------------+ 148
namespace initiation {
inline constexpr size_t kSenderIndexOffset = 4;
inline constexpr size_t kEphemeralOffset = 8;
inline constexpr size_t kEncryptedStaticOffset = kEphemeralOffset + kKeySize;
inline constexpr size_t kEncryptedStaticSize = kKeySize + kAeadTagSize;
inline constexpr size_t kEncryptedTimestampOffset = kEncryptedStaticOffset + kEncryptedStaticSize;
inline constexpr size_t kEncryptedTimestampSize = kTimestampSize + kAeadTagSize;
inline constexpr size_t kMac1Offset = kEncryptedTimestampOffset + kEncryptedTimestampSize;
inline constexpr size_t kMac2Offset = kMac1Offset + kMacSize;
inline constexpr size_t kSize = kMac2Offset + kMacSize;
static_assert(kEncryptedStaticOffset == 40 && kEncryptedTimestampOffset == 88);
static_assert(kMac1Offset == 116 && kMac2Offset == 132 && kSize == 148);
}  // namespace initiation

// Handshake response, 92 bytes:
//
//   | type=2 | reserved | sender_index | receiver_index | unencrypted_ephemeral (32) |
//   0        1          4              8                12                           44
//   | encrypted_nothing (0 + 16) | mac1 (16) | mac2 (16) |
//   44                           60          76          92
namespace response {
inline constexpr size_t kSenderIndexOffset = 4;
inline constexpr size_t kReceiverIndexOffset = 8;
inline constexpr size_t kEphemeralOffset = 12;
inline constexpr size_t kEncryptedNothingOffset = kEphemeralOffset + kKeySize;
inline constexpr size_t kEncryptedNothingSize = kAeadTagSize;
inline constexpr size_t kMac1Offset = kEncryptedNothingOffset + kEncryptedNothingSize;
inline constexpr size_t kMac2Offset = kMac1Offset + kMacSize;
inline constexpr size_t kSize = kMac2Offset + kMacSize;
static_assert(kEncryptedNothingOffset == 44 && kMac1Offset == 60 && kMac2Offset == 76);
static_assert(kSize == 92);
}  // namespace response

// Cookie reply, 64 bytes:
//
//   | type=3 | reserved | receiver_index | nonce (24) | encrypted_cookie (16 + 16) |
//   0        1          4                8            32                           64
namespace cookie_reply {
inline constexpr size_t kReceiverIndexOffset = 4;
inline constexpr size_t kNonceOffset = 8;
inline constexpr size_t kEncryptedCookieOffset = kNonceOffset + kCookieNonceSize;
inline constexpr size_t kEncryptedCookieSize = kCookieSize + kAeadTagSize;
inline constexpr size_t kSize = kEncryptedCookieOffset + kEncryptedCookieSize;
static_assert(kEncryptedCookieOffset == 32 && kSize == 64);
}  // namespace cookie_reply

// Transport data, 16-byte header + encrypted packet (plaintext padded to 16, + 16-byte tag):
//
//   | type=4 | reserved | receiver_index | counter (u64 LE) | encrypted_packet ...      |
//   0        1          4                8                  16                  16+n+16
//
// A keepalive is an empty plaintext: 16 + 0 + 16 = 32 bytes, the smallest transport message.
namespace transport {
inline constexpr size_t kReceiverIndexOffset = 4;
inline constexpr size_t kCounterOffset = 8;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kMinSize = kHeaderSize + kAeadTagSize;
static_assert(kHeaderSize == 16 && kMinSize == 32);
}  // namespace transport

// The size a plaintext of `n` bytes is padded to before sealing: the next multiple of 16, but
// never beyond `mtu` (whitepaper 5.4.6; a full-MTU packet is sent unpadded). n > mtu: n.
constexpr size_t PaddedSize(size_t n, size_t mtu) {
  const size_t padded = (n + kPaddingMultiple - 1) / kPaddingMultiple * kPaddingMultiple;
  if (n >= mtu) return n;
  return padded < mtu ? padded : mtu;
}
// Wire size of a transport message carrying `padded_plaintext` bytes.
constexpr size_t TransportSize(size_t padded_plaintext) {
  return transport::kHeaderSize + padded_plaintext + kAeadTagSize;
}
static_assert(PaddedSize(0, 1420) == 0 && PaddedSize(1, 1420) == 16 && PaddedSize(84, 1420) == 96);
static_assert(PaddedSize(1419, 1420) == 1420 && PaddedSize(1420, 1420) == 1420);

// ---- Limits and timers (whitepaper 6.1) ------------------------------------------------------
inline constexpr uint64_t kRekeyAfterMessages = uint64_t{1} << 60;
inline constexpr uint64_t kRejectAfterMessages = UINT64_MAX - (uint64_t{1} << 13);  // 2^64-2^13-1
inline constexpr std::chrono::seconds kRekeyAfterTime{120};
inline constexpr std::chrono::seconds kRejectAfterTime{180};
inline constexpr std::chrono::seconds kRekeyAttemptTime{90};
inline constexpr std::chrono::seconds kRekeyTimeout{5};
inline constexpr std::chrono::seconds kKeepaliveTimeout{10};
inline constexpr std::chrono::seconds kCookieRefreshTime{120};
// Each retried initiation waits kRekeyTimeout plus a random jitter of up to this (whitepaper 6.1).
inline constexpr std::chrono::milliseconds kRekeyTimeoutJitterMax{333};
static_assert(kRejectAfterMessages == 18446744073709543423ull);

// ---- Parsing -----------------------------------------------------------------------------------

// Why a UDP payload is not a well-formed WireGuard message. Counted by the caller as a drop.
enum class MessageError : uint8_t {
  kOk = 0,
  kTooShort,         // fewer than 4 bytes: no type field
  kUnknownType,      // first byte not 1..4
  kReservedNonZero,  // bytes 1..3 not zero
  kWrongLength,      // handshake/cookie message not exactly its size, transport shorter than 32
  kUnexpectedType,   // Decode(): a valid message, but of another type than the one asked for
};
std::string_view ToString(MessageError error);

// A classified message: `bytes` is the whole input (a view, nothing copied).
struct ParsedMessage {
  MessageError error = MessageError::kTooShort;
  MessageType type = MessageType::kTransportData;  // meaningful only when ok()
  ByteSpan bytes;
  bool ok() const { return error == MessageError::kOk; }
};

// Classifies `packet` by its type and length. Reads at most packet.size() bytes; never allocates.
ParsedMessage ParseMessage(ByteSpan packet);

// ---- Fixed layouts ---------------------------------------------------------------------------
using Key32 = std::array<uint8_t, kKeySize>;
using Mac = std::array<uint8_t, kMacSize>;

struct HandshakeInitiation {
  uint32_t sender_index = 0;
  Key32 unencrypted_ephemeral{};
  std::array<uint8_t, initiation::kEncryptedStaticSize> encrypted_static{};
  std::array<uint8_t, initiation::kEncryptedTimestampSize> encrypted_timestamp{};
  Mac mac1{};
  Mac mac2{};
  friend bool operator==(const HandshakeInitiation&, const HandshakeInitiation&) = default;
};

struct HandshakeResponse {
  uint32_t sender_index = 0;
  uint32_t receiver_index = 0;
  Key32 unencrypted_ephemeral{};
  std::array<uint8_t, response::kEncryptedNothingSize> encrypted_nothing{};
  Mac mac1{};
  Mac mac2{};
  friend bool operator==(const HandshakeResponse&, const HandshakeResponse&) = default;
};

struct CookieReply {
  uint32_t receiver_index = 0;
  std::array<uint8_t, kCookieNonceSize> nonce{};
  std::array<uint8_t, cookie_reply::kEncryptedCookieSize> encrypted_cookie{};
  friend bool operator==(const CookieReply&, const CookieReply&) = default;
};

// The header of a transport message; the encrypted packet is the rest of the message.
struct TransportHeader {
  uint32_t receiver_index = 0;
  uint64_t counter = 0;
  friend bool operator==(const TransportHeader&, const TransportHeader&) = default;
};

// Encoders write the whole message, type and zero reserved bytes included.
void Encode(const HandshakeInitiation& m, std::span<uint8_t, initiation::kSize> out);
void Encode(const HandshakeResponse& m, std::span<uint8_t, response::kSize> out);
void Encode(const CookieReply& m, std::span<uint8_t, cookie_reply::kSize> out);
void Encode(const TransportHeader& h, std::span<uint8_t, transport::kHeaderSize> out);
std::array<uint8_t, initiation::kSize> Encode(const HandshakeInitiation& m);
std::array<uint8_t, response::kSize> Encode(const HandshakeResponse& m);
std::array<uint8_t, cookie_reply::kSize> Encode(const CookieReply& m);

// Decoders check the message as ParseMessage does (type, reserved bytes, length) and fill *out
// only on kOk. A transport message's encrypted part is bytes.subspan(transport::kHeaderSize).
[[nodiscard]] MessageError Decode(ByteSpan bytes, HandshakeInitiation* out);
[[nodiscard]] MessageError Decode(ByteSpan bytes, HandshakeResponse* out);
[[nodiscard]] MessageError Decode(ByteSpan bytes, CookieReply* out);
[[nodiscard]] MessageError Decode(ByteSpan bytes, TransportHeader* out);

// Little-endian field access for code working on a message in place (offsets from above).
uint32_t ReadLe32(ByteSpan bytes, size_t offset);
uint64_t ReadLe64(ByteSpan bytes, size_t offset);
void WriteLe32(MutableByteSpan bytes, size_t offset, uint32_t value);
void WriteLe64(MutableByteSpan bytes, size_t offset, uint64_t value);

}  // namespace meshvpn::wg
