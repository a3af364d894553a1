// The holepunch wire format: rendezvous messages (register, ack, peer info, error) and the
// authenticated probes peers send each other (ping, pong, message, message ack).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshvpn/base/bytes.h"
#include "meshvpn/holepunch/candidate.h"
#include "meshvpn/holepunch/session_key.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::holepunch {

// Every datagram starts with an 8-byte header; integers are big-endian.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |      'M'      |      'V'      |      'H'      |      'P'      |  magic 0x4D564850
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  version = 1  |     type      |       reserved (sent as 0)    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 'M' is 0x4D = 0b01001101: its top two bits are 01, so a holepunch datagram is never mistaken
// for STUN (top bits 00, RFC 8489 section 5) or WireGuard (first byte 1..4) on a shared socket.
inline constexpr uint32_t kMagic = 0x4D564850;
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 8;

enum class MessageType : uint8_t {
  // client -> rendezvous server
  kRegister = 0x01,
  // rendezvous server -> client
  kRegisterAck = 0x02,
  kPeerInfo = 0x03,
  kRegisterError = 0x04,
  // peer <-> peer, each ending in a 16-byte MAC under the pair's SessionKey
  kPing = 0x10,
  kPong = 0x11,
  kMessage = 0x12,
  kMessageAck = 0x13,
};
std::string_view ToString(MessageType t);

inline constexpr size_t kKeySize = 32;
inline constexpr size_t kTxIdSize = 12;
using TxId = std::array<uint8_t, kTxIdSize>;
inline constexpr size_t kMaxNameSize = 32;
inline constexpr size_t kMaxCandidates = 12;  // per message
inline constexpr size_t kMaxTextSize = 1024;  // one Message's payload

// An endpoint on the wire: family (4 or 6), port (16 bits), address (4 or 16 bytes): 7 or 19
// bytes. A candidate is its kind (1 byte, CandidateKind) followed by an endpoint.
inline constexpr size_t kEndpointV4Size = 7;
inline constexpr size_t kEndpointV6Size = 19;

// Register (client -> server), resent until PeerInfo arrives:
//   header | nonce (8) | public key (32) | flags (1) | name_len (1) | name |
//   peer_len (1) | peer name | count (1) | count x candidate
// Names: 1..32 characters of [a-z0-9._-]. The nonce is random per client run; the server
// echoes it, so an off-path attacker cannot feed a client a PeerInfo it did not ask for.
inline constexpr uint8_t kFlagHardNat = 0x01;  // my mapping changes with the destination
struct Register {
  uint64_t nonce = 0;
  x25519::PublicKey key;
  uint8_t flags = 0;
  std::string name;
  std::string peer;
  std::vector<Candidate> candidates;
};

// RegisterAck (server -> client): header | nonce (8) | lease seconds (2) | observed endpoint.
// `observed` is where the server saw the Register come from: the client's public side.
struct RegisterAck {
  uint64_t nonce = 0;
  uint16_t lease_seconds = 0;
  udp::Endpoint observed;
};

// PeerInfo (server -> client, to both peers at once when they want each other):
//   header | nonce (8, the receiving client's) | peer public key (32) | peer flags (1) |
//   name_len (1) | peer name | count (1) | count x candidate
// The candidates are the peer's own plus a kRendezvous one: where the server saw it.
struct PeerInfo {
  uint64_t nonce = 0;
  x25519::PublicKey key;
  uint8_t flags = 0;
  std::string name;
  std::vector<Candidate> candidates;
};

// RegisterError (server -> client): header | nonce (8) | code (1).
enum class RegisterErrorCode : uint8_t {
  kNameTaken = 1,   // another key holds this name until its lease ends
  kServerFull = 2,  // the server's peer table is full
  kBadRequest = 3,  // a bad name, or a peer asking for itself
};
std::string_view ToString(RegisterErrorCode c);
struct RegisterError {
  uint64_t nonce = 0;
  RegisterErrorCode code = RegisterErrorCode::kBadRequest;
};

// Ping:       header | sender public key (32) | tx id (12) | MAC (16)                  68 bytes
// Pong:       header | sender public key (32) | tx id (12) | observed endpoint | MAC   75 or 87
// Message:    header | sender public key (32) | id (8) | length (2) | text | MAC      66 + text
// MessageAck: header | sender public key (32) | id (8) | MAC (16)                      64 bytes
// MAC = SessionKey::Mac(every byte before it). The pong echoes the ping's tx id and says where
// the ping came from (the pinger's address as the ponger sees it).
inline constexpr size_t kPingSize = kHeaderSize + kKeySize + kTxIdSize + kMacSize;
inline constexpr size_t kPongMinSize = kPingSize + kEndpointV4Size;
inline constexpr size_t kPongMaxSize = kPingSize + kEndpointV6Size;
inline constexpr size_t kMessageOverhead = kHeaderSize + kKeySize + 8 + 2 + kMacSize;
inline constexpr size_t kMessageAckSize = kHeaderSize + kKeySize + 8 + kMacSize;
// The largest datagram this format produces: a Message with kMaxTextSize bytes of text.
inline constexpr size_t kMaxDatagramSize = kMessageOverhead + kMaxTextSize;
static_assert(kPingSize == 68);
static_assert(kPongMinSize == 75 && kPongMaxSize == 87);
static_assert(kMessageAckSize == 64);
static_assert(kMaxDatagramSize == 1090, "one Message must fit a 1280-byte IPv6 path");

struct Ping {
  x25519::PublicKey sender;
  TxId tx{};
};
struct Pong {
  x25519::PublicKey sender;
  TxId tx{};
  udp::Endpoint observed;
};
// `text` points into the decoded datagram.
struct Message {
  x25519::PublicKey sender;
  uint64_t id = 0;
  ByteSpan text;
};
struct MessageAck {
  x25519::PublicKey sender;
  uint64_t id = 0;
};

// Why a datagram was not accepted as the message asked for.
enum class ParseError : uint8_t {
  kOk,
  kTooShort,           // shorter than the header or the type's fixed part
  kBadMagic,           // not a holepunch datagram
  kBadVersion,         // a version this code does not speak
  kUnknownType,        // a type byte this code does not know
  kWrongType,          // a valid datagram of another type than the decoder's
  kTruncated,          // a field runs past the end
  kTrailingBytes,      // bytes left after the last field
  kBadName,            // empty, too long, or a character outside [a-z0-9._-]
  kBadFamily,          // an endpoint family other than 4 or 6
  kBadKind,            // a candidate kind outside 1..5
  kTooManyCandidates,  // more than kMaxCandidates
  kTextTooLong,        // a Message longer than kMaxTextSize
  kCount,
};
std::string_view ToString(ParseError e);

// The type of a datagram whose header is valid, or the reason it is not.
struct HeaderInfo {
  ParseError error = ParseError::kTooShort;
  MessageType type = MessageType::kPing;
  bool ok() const { return error == ParseError::kOk; }
};
HeaderInfo PeekHeader(ByteSpan data);
// Only the magic: "is this meant for holepunch at all" (cheap demultiplexing).
bool HasMagic(ByteSpan data);

bool ValidName(std::string_view name);

// Decoders: kOk and *out filled, or the first problem found (then *out is unspecified). They
// check the layout only; MACs are checked with VerifyMac once the sender's key is known.
ParseError Decode(ByteSpan data, Register* out);
ParseError Decode(ByteSpan data, RegisterAck* out);
ParseError Decode(ByteSpan data, PeerInfo* out);
ParseError Decode(ByteSpan data, RegisterError* out);
ParseError Decode(ByteSpan data, Ping* out);
ParseError Decode(ByteSpan data, Pong* out);
ParseError Decode(ByteSpan data, Message* out);
ParseError Decode(ByteSpan data, MessageAck* out);

// Encoders write into `out` and return the size written, or 0 if the message is invalid (a bad
// name, too many candidates, too long a text) or does not fit. Ping..MessageAck append the MAC.
size_t Encode(const Register& m, MutableByteSpan out);
size_t Encode(const RegisterAck& m, MutableByteSpan out);
size_t Encode(const PeerInfo& m, MutableByteSpan out);
size_t Encode(const RegisterError& m, MutableByteSpan out);
size_t Encode(const Ping& m, const SessionKey& key, MutableByteSpan out);
size_t Encode(const Pong& m, const SessionKey& key, MutableByteSpan out);
size_t Encode(const Message& m, const SessionKey& key, MutableByteSpan out);
size_t Encode(const MessageAck& m, const SessionKey& key, MutableByteSpan out);

// True if the datagram's last 16 bytes are the MAC of the rest under `key` (constant time).
bool VerifyMac(ByteSpan datagram, const SessionKey& key);

}  // namespace meshvpn::holepunch
