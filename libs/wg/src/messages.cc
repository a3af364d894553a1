#include "meshvpn/wg/messages.h"

#include <algorithm>
#include <cassert>

namespace meshvpn::wg {
namespace {

size_t SizeOf(MessageType type) {
  switch (type) {
    case MessageType::kHandshakeInitiation:
      return initiation::kSize;
    case MessageType::kHandshakeResponse:
      return response::kSize;
    case MessageType::kCookieReply:
      return cookie_reply::kSize;
    case MessageType::kTransportData:
      return 0;  // variable
  }
  return 0;
}

template <size_t N>
void CopyOut(MutableByteSpan out, size_t offset, const std::array<uint8_t, N>& field) {
  std::copy(field.begin(), field.end(), out.begin() + static_cast<ptrdiff_t>(offset));
}

template <size_t N>
void CopyIn(ByteSpan in, size_t offset, std::array<uint8_t, N>* field) {
  std::copy_n(in.begin() + static_cast<ptrdiff_t>(offset), N, field->begin());
}

void WriteType(MutableByteSpan out, MessageType type) {
  out[0] = static_cast<uint8_t>(type);
  out[1] = out[2] = out[3] = 0;
}

// Parses and requires `want`.
MessageError Expect(ByteSpan bytes, MessageType want) {
  const ParsedMessage p = ParseMessage(bytes);
  if (!p.ok()) return p.error;
  return p.type == want ? MessageError::kOk : MessageError::kUnexpectedType;
}

}  // namespace

std::string_view ToString(MessageType type) {
  switch (type) {
    case MessageType::kHandshakeInitiation:
      return "handshake initiation";
    case MessageType::kHandshakeResponse:
      return "handshake response";
    case MessageType::kCookieReply:
      return "cookie reply";
    case MessageType::kTransportData:
      return "transport data";
  }
  return "unknown";
}

std::string_view ToString(MessageError error) {
  switch (error) {
    case MessageError::kOk:
      return "ok";
    case MessageError::kTooShort:
      return "too short for a message type";
    case MessageError::kUnknownType:
      return "unknown message type";
    case MessageError::kReservedNonZero:
      return "reserved bytes not zero";
    case MessageError::kWrongLength:
      return "wrong length for the message type";
    case MessageError::kUnexpectedType:
      return "not the expected message type";
  }
  return "unknown";
}

uint32_t ReadLe32(ByteSpan b, size_t o) {
  assert(o + 4 <= b.size());
  return uint32_t{b[o]} | uint32_t{b[o + 1]} << 8 | uint32_t{b[o + 2]} << 16 |
         uint32_t{b[o + 3]} << 24;
}
uint64_t ReadLe64(ByteSpan b, size_t o) {
  return uint64_t{ReadLe32(b, o)} | uint64_t{ReadLe32(b, o + 4)} << 32;
}
void WriteLe32(MutableByteSpan b, size_t o, uint32_t v) {
  assert(o + 4 <= b.size());
  for (size_t i = 0; i < 4; ++i) b[o + i] = static_cast<uint8_t>(v >> (8 * i));
}
void WriteLe64(MutableByteSpan b, size_t o, uint64_t v) {
  WriteLe32(b, o, static_cast<uint32_t>(v));
  WriteLe32(b, o + 4, static_cast<uint32_t>(v >> 32));
}

ParsedMessage ParseMessage(ByteSpan packet) {
  ParsedMessage r;
  r.bytes = packet;
  if (packet.size() < 4) {
    r.error = MessageError::kTooShort;
    return r;
  }
  const uint8_t t = packet[0];
  if (t < 1 || t > 4) {
    r.error = MessageError::kUnknownType;
    return r;
  }
  if (packet[1] != 0 || packet[2] != 0 || packet[3] != 0) {
    r.error = MessageError::kReservedNonZero;
    return r;
  }
  r.type = static_cast<MessageType>(t);
  if (r.type == MessageType::kTransportData) {
    r.error = packet.size() >= transport::kMinSize ? MessageError::kOk : MessageError::kWrongLength;
  } else {
    r.error = packet.size() == SizeOf(r.type) ? MessageError::kOk : MessageError::kWrongLength;
  }
  return r;
}

void Encode(const HandshakeInitiation& m, std::span<uint8_t, initiation::kSize> out) {
  WriteType(out, MessageType::kHandshakeInitiation);
  WriteLe32(out, initiation::kSenderIndexOffset, m.sender_index);
  CopyOut(out, initiation::kEphemeralOffset, m.unencrypted_ephemeral);
  CopyOut(out, initiation::kEncryptedStaticOffset, m.encrypted_static);
  CopyOut(out, initiation::kEncryptedTimestampOffset, m.encrypted_timestamp);
  CopyOut(out, initiation::kMac1Offset, m.mac1);
  CopyOut(out, initiation::kMac2Offset, m.mac2);
}

void Encode(const HandshakeResponse& m, std::span<uint8_t, response::kSize> out) {
  WriteType(out, MessageType::kHandshakeResponse);
  WriteLe32(out, response::kSenderIndexOffset, m.sender_index);
  WriteLe32(out, response::kReceiverIndexOffset, m.receiver_index);
  CopyOut(out, response::kEphemeralOffset, m.unencrypted_ephemeral);
  CopyOut(out, response::kEncryptedNothingOffset, m.encrypted_nothing);
  CopyOut(out, response::kMac1Offset, m.mac1);
  CopyOut(out, response::kMac2Offset, m.mac2);
}

void Encode(const CookieReply& m, std::span<uint8_t, cookie_reply::kSize> out) {
  WriteType(out, MessageType::kCookieReply);
  WriteLe32(out, cookie_reply::kReceiverIndexOffset, m.receiver_index);
  CopyOut(out, cookie_reply::kNonceOffset, m.nonce);
  CopyOut(out, cookie_reply::kEncryptedCookieOffset, m.encrypted_cookie);
}

void Encode(const TransportHeader& h, std::span<uint8_t, transport::kHeaderSize> out) {
  WriteType(out, MessageType::kTransportData);
  WriteLe32(out, transport::kReceiverIndexOffset, h.receiver_index);
  WriteLe64(out, transport::kCounterOffset, h.counter);
}

std::array<uint8_t, initiation::kSize> Encode(const HandshakeInitiation& m) {
  std::array<uint8_t, initiation::kSize> out;
  Encode(m, std::span<uint8_t, initiation::kSize>(out));
  return out;
}
std::array<uint8_t, response::kSize> Encode(const HandshakeResponse& m) {
  std::array<uint8_t, response::kSize> out;
  Encode(m, std::span<uint8_t, response::kSize>(out));
  return out;
}
std::array<uint8_t, cookie_reply::kSize> Encode(const CookieReply& m) {
  std::array<uint8_t, cookie_reply::kSize> out;
  Encode(m, std::span<uint8_t, cookie_reply::kSize>(out));
  return out;
}

MessageError Decode(ByteSpan in, HandshakeInitiation* out) {
  const MessageError e = Expect(in, MessageType::kHandshakeInitiation);
  if (e != MessageError::kOk) return e;
  out->sender_index = ReadLe32(in, initiation::kSenderIndexOffset);
  CopyIn(in, initiation::kEphemeralOffset, &out->unencrypted_ephemeral);
  CopyIn(in, initiation::kEncryptedStaticOffset, &out->encrypted_static);
  CopyIn(in, initiation::kEncryptedTimestampOffset, &out->encrypted_timestamp);
  CopyIn(in, initiation::kMac1Offset, &out->mac1);
  CopyIn(in, initiation::kMac2Offset, &out->mac2);
  return e;
}

MessageError Decode(ByteSpan in, HandshakeResponse* out) {
  const MessageError e = Expect(in, MessageType::kHandshakeResponse);
  if (e != MessageError::kOk) return e;
  out->sender_index = ReadLe32(in, response::kSenderIndexOffset);
  out->receiver_index = ReadLe32(in, response::kReceiverIndexOffset);
  CopyIn(in, response::kEphemeralOffset, &out->unencrypted_ephemeral);
  CopyIn(in, response::kEncryptedNothingOffset, &out->encrypted_nothing);
  CopyIn(in, response::kMac1Offset, &out->mac1);
  CopyIn(in, response::kMac2Offset, &out->mac2);
  return e;
}

MessageError Decode(ByteSpan in, CookieReply* out) {
  const MessageError e = Expect(in, MessageType::kCookieReply);
  if (e != MessageError::kOk) return e;
  out->receiver_index = ReadLe32(in, cookie_reply::kReceiverIndexOffset);
  CopyIn(in, cookie_reply::kNonceOffset, &out->nonce);
  CopyIn(in, cookie_reply::kEncryptedCookieOffset, &out->encrypted_cookie);
  return e;
}

MessageError Decode(ByteSpan in, TransportHeader* out) {
  const MessageError e = Expect(in, MessageType::kTransportData);
  if (e != MessageError::kOk) return e;
  out->receiver_index = ReadLe32(in, transport::kReceiverIndexOffset);
  out->counter = ReadLe64(in, transport::kCounterOffset);
  return e;
}

}  // namespace meshvpn::wg
