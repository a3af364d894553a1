#include "meshvpn/holepunch/messages.h"

#include <algorithm>
#include <cstring>

namespace meshvpn::holepunch {
namespace {

// Bounds-checked big-endian reading; once a read fails every later one fails too.
class Reader {
 public:
  explicit Reader(ByteSpan data) : data_(data) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool Need(size_t n) {
    if (!ok_ || remaining() < n) ok_ = false;
    return ok_;
  }
  uint8_t U8() {
    if (!Need(1)) return 0;
    return data_[pos_++];
  }
  uint16_t U16() {
    if (!Need(2)) return 0;
    const uint16_t v = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  uint64_t U64() {
    if (!Need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += 8;
    return v;
  }
  ByteSpan Take(size_t n) {
    if (!Need(n)) return {};
    ByteSpan s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  ByteSpan data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Bounds-checked big-endian writing into a caller buffer; sticky failure.
class Writer {
 public:
  explicit Writer(MutableByteSpan out) : out_(out) {}
  bool ok() const { return ok_; }
  size_t size() const { return pos_; }
  void Bytes(ByteSpan b) {
    if (!ok_ || out_.size() - pos_ < b.size()) {
      ok_ = false;
      return;
    }
    if (!b.empty()) std::memcpy(out_.data() + pos_, b.data(), b.size());
    pos_ += b.size();
  }
  void U8(uint8_t v) { Bytes(ByteSpan(&v, 1)); }
  void U16(uint16_t v) {
    const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    Bytes(b);
  }
  void U64(uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
    Bytes(b);
  }
  void Fail() { ok_ = false; }
  // Appends MAC(everything written so far).
  void Mac(const SessionKey& key) {
    if (!ok_) return;
    const noise::Mac16 mac = key.Mac(ByteSpan(out_.data(), pos_));
    Bytes(mac);
  }

 private:
  MutableByteSpan out_;
  size_t pos_ = 0;
  bool ok_ = true;
};

bool KnownType(uint8_t t) {
  switch (static_cast<MessageType>(t)) {
    case MessageType::kRegister:
    case MessageType::kRegisterAck:
    case MessageType::kPeerInfo:
    case MessageType::kRegisterError:
    case MessageType::kPing:
    case MessageType::kPong:
    case MessageType::kMessage:
    case MessageType::kMessageAck:
      return true;
  }
  return false;
}

// Checks the header and the type; on kOk the reader stands after the header.
ParseError Start(ByteSpan data, MessageType want, Reader* r) {
  const HeaderInfo h = PeekHeader(data);
  if (!h.ok()) return h.error;
  if (h.type != want) return ParseError::kWrongType;
  (void)r->Take(kHeaderSize);
  return ParseError::kOk;
}

void WriteHeader(Writer& w, MessageType t) {
  w.U8(static_cast<uint8_t>(kMagic >> 24));
  w.U8(static_cast<uint8_t>(kMagic >> 16));
  w.U8(static_cast<uint8_t>(kMagic >> 8));
  w.U8(static_cast<uint8_t>(kMagic));
  w.U8(kVersion);
  w.U8(static_cast<uint8_t>(t));
  w.U16(0);
}

ParseError ReadName(Reader& r, std::string* out) {
  const uint8_t len = r.U8();
  const ByteSpan b = r.Take(len);
  if (!r.ok()) return ParseError::kTruncated;
  out->assign(reinterpret_cast<const char*>(b.data()), b.size());
  return ValidName(*out) ? ParseError::kOk : ParseError::kBadName;
}

void WriteName(Writer& w, std::string_view name) {
  if (!ValidName(name)) {
    w.Fail();
    return;
  }
  w.U8(static_cast<uint8_t>(name.size()));
  w.Bytes(AsBytes(name));
}

ParseError ReadEndpoint(Reader& r, udp::Endpoint* out) {
  const uint8_t family = r.U8();
  const uint16_t port = r.U16();
  if (!r.ok()) return ParseError::kTruncated;
  if (family == 4) {
    const ByteSpan a = r.Take(4);
    if (!r.ok()) return ParseError::kTruncated;
    *out = udp::Endpoint::V4({a[0], a[1], a[2], a[3]}, port);
    return ParseError::kOk;
  }
  if (family == 6) {
    const ByteSpan a = r.Take(16);
    if (!r.ok()) return ParseError::kTruncated;
    std::array<uint8_t, 16> addr{};
    std::copy(a.begin(), a.end(), addr.begin());
    *out = udp::Endpoint::V6(addr, port);
    return ParseError::kOk;
  }
  return ParseError::kBadFamily;
}

void WriteEndpoint(Writer& w, const udp::Endpoint& e) {
  w.U8(e.is_v4() ? 4 : 6);
  w.U16(e.port());
  w.Bytes(e.address());
}

ParseError ReadCandidates(Reader& r, std::vector<Candidate>* out) {
  const uint8_t count = r.U8();
  if (!r.ok()) return ParseError::kTruncated;
  if (count > kMaxCandidates) return ParseError::kTooManyCandidates;
  out->clear();
  out->reserve(count);
  for (uint8_t i = 0; i < count; ++i) {
    const uint8_t kind = r.U8();
    if (!r.ok()) return ParseError::kTruncated;
    if (kind == 0 || kind > kMaxCandidateKind) return ParseError::kBadKind;
    Candidate c;
    c.kind = static_cast<CandidateKind>(kind);
    if (ParseError e = ReadEndpoint(r, &c.endpoint); e != ParseError::kOk) return e;
    out->push_back(c);
  }
  return ParseError::kOk;
}

void WriteCandidates(Writer& w, const std::vector<Candidate>& cs) {
  if (cs.size() > kMaxCandidates) {
    w.Fail();
    return;
  }
  w.U8(static_cast<uint8_t>(cs.size()));
  for (const Candidate& c : cs) {
    w.U8(static_cast<uint8_t>(c.kind));
    WriteEndpoint(w, c.endpoint);
  }
}

ParseError ReadKey(Reader& r, x25519::PublicKey* out) {
  const ByteSpan b = r.Take(kKeySize);
  if (!r.ok()) return ParseError::kTruncated;
  *out = x25519::PublicKey(x25519::KeySpan(b.data(), kKeySize));
  return ParseError::kOk;
}

ParseError Finish(const Reader& r) {
  if (!r.ok()) return ParseError::kTruncated;
  return r.remaining() == 0 ? ParseError::kOk : ParseError::kTrailingBytes;
}

// MAC'd messages: the last kMacSize bytes are the MAC; Finish leaves exactly them.
ParseError FinishWithMac(Reader& r) {
  (void)r.Take(kMacSize);
  return Finish(r);
}

size_t Done(const Writer& w) { return w.ok() ? w.size() : 0; }

}  // namespace

std::string_view ToString(MessageType t) {
  switch (t) {
    case MessageType::kRegister:
      return "register";
    case MessageType::kRegisterAck:
      return "register-ack";
    case MessageType::kPeerInfo:
      return "peer-info";
    case MessageType::kRegisterError:
      return "register-error";
    case MessageType::kPing:
      return "ping";
    case MessageType::kPong:
      return "pong";
    case MessageType::kMessage:
      return "message";
    case MessageType::kMessageAck:
      return "message-ack";
  }
  return "unknown";
}

std::string_view ToString(RegisterErrorCode c) {
  switch (c) {
    case RegisterErrorCode::kNameTaken:
      return "name taken by another key";
    case RegisterErrorCode::kServerFull:
      return "server full";
    case RegisterErrorCode::kBadRequest:
      return "bad request";
  }
  return "unknown error";
}

std::string_view ToString(ParseError e) {
  switch (e) {
    case ParseError::kOk:
      return "ok";
    case ParseError::kTooShort:
      return "too short";
    case ParseError::kBadMagic:
      return "bad magic";
    case ParseError::kBadVersion:
      return "bad version";
    case ParseError::kUnknownType:
      return "unknown type";
    case ParseError::kWrongType:
      return "wrong type";
    case ParseError::kTruncated:
      return "truncated field";
    case ParseError::kTrailingBytes:
      return "trailing bytes";
    case ParseError::kBadName:
      return "bad name";
    case ParseError::kBadFamily:
      return "bad address family";
    case ParseError::kBadKind:
      return "bad candidate kind";
    case ParseError::kTooManyCandidates:
      return "too many candidates";
    case ParseError::kTextTooLong:
      return "text too long";
    case ParseError::kCount:
      break;
  }
  return "unknown";
}

bool HasMagic(ByteSpan data) {
  return data.size() >= 4 && data[0] == 'M' && data[1] == 'V' && data[2] == 'H' && data[3] == 'P';
}

HeaderInfo PeekHeader(ByteSpan data) {
  HeaderInfo h;
  if (data.size() < kHeaderSize) {
    h.error = HasMagic(data) || data.size() < 4 ? ParseError::kTooShort : ParseError::kBadMagic;
    return h;
  }
  if (!HasMagic(data)) {
    h.error = ParseError::kBadMagic;
  } else if (data[4] != kVersion) {
    h.error = ParseError::kBadVersion;
  } else if (!KnownType(data[5])) {
    h.error = ParseError::kUnknownType;
  } else {
    h.error = ParseError::kOk;
    h.type = static_cast<MessageType>(data[5]);
  }
  return h;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameSize) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

ParseError Decode(ByteSpan data, Register* out) {
  Reader r(data);
  if (ParseError e = Start(data, MessageType::kRegister, &r); e != ParseError::kOk) return e;
  out->nonce = r.U64();
  if (ParseError e = ReadKey(r, &out->key); e != ParseError::kOk) return e;
  out->flags = r.U8();
  if (ParseError e = ReadName(r, &out->name); e != ParseError::kOk) return e;
  if (ParseError e = ReadName(r, &out->peer); e != ParseError::kOk) return e;
  if (ParseError e = ReadCandidates(r, &out->candidates); e != ParseError::kOk) return e;
  return Finish(r);
}

ParseError Decode(ByteSpan data, RegisterAck* out) {
  Reader r(data);
  if (ParseError e = Start(data, MessageType::kRegisterAck, &r); e != ParseError::kOk) return e;
  out->nonce = r.U64();
  out->lease_seconds = r.U16();
  if (ParseError e = ReadEndpoint(r, &out->observed); e != ParseError::kOk) return e;
  return Finish(r);
}

ParseError Decode(ByteSpan data, PeerInfo* out) {
  Reader r(data);
  if (ParseError e = Start(data, MessageType::kPeerInfo, &r); e != ParseError::kOk) return e;
  out->nonce = r.U64();
  if (ParseError e = ReadKey(r, &out->key); e != ParseError::kOk) return e;
  out->flags = r.U8();
  if (ParseError e = ReadName(r, &out->name); e != ParseError::kOk) return e;
  if (ParseError e = ReadCandidates(r, &out->candidates); e != ParseError::kOk) return e;
  return Finish(r);
}

ParseError Decode(ByteSpan data, RegisterError* out) {
  Reader r(data);
  if (ParseError e = Start(data, MessageType::kRegisterError, &r); e != ParseError::kOk) return e;
  out->nonce = r.U64();
  out->code = static_cast<RegisterErrorCode>(r.U8());
  return Finish(r);
}

ParseError Decode(ByteSpan data, Ping* out) {
  Reader r(data);
  if (ParseError e = Start(data, MessageType::kPing, &r); e != ParseError::kOk) return e;
  if (ParseError e = ReadKey(r, &out->sender); e != ParseError::kOk) return e;
  const ByteSpan tx = r.Take(kTxIdSize);
  if (!r.ok()) return ParseError::kTruncated;
  std::copy(tx.begin(), tx.end(), out->tx.begin());
  return FinishWithMac(r);
}

ParseError Decode(ByteSpan data, Pong* out) {
  Reader r(data);
  if (ParseError e = Start(data, MessageType::kPong, &r); e != ParseError::kOk) return e;
  if (ParseError e = ReadKey(r, &out->sender); e != ParseError::kOk) return e;
  const ByteSpan tx = r.Take(kTxIdSize);
  if (!r.ok()) return ParseError::kTruncated;
  std::copy(tx.begin(), tx.end(), out->tx.begin());
  if (ParseError e = ReadEndpoint(r, &out->observed); e != ParseError::kOk) return e;
  return FinishWithMac(r);
}

ParseError Decode(ByteSpan data, Message* out) {
  Reader r(data);
  if (ParseError e = Start(data, MessageType::kMessage, &r); e != ParseError::kOk) return e;
  if (ParseError e = ReadKey(r, &out->sender); e != ParseError::kOk) return e;
  out->id = r.U64();
  const uint16_t len = r.U16();
  if (!r.ok()) return ParseError::kTruncated;
  if (len > kMaxTextSize) return ParseError::kTextTooLong;
  out->text = r.Take(len);
  if (!r.ok()) return ParseError::kTruncated;
  return FinishWithMac(r);
}

ParseError Decode(ByteSpan data, MessageAck* out) {
  Reader r(data);
  if (ParseError e = Start(data, MessageType::kMessageAck, &r); e != ParseError::kOk) return e;
  if (ParseError e = ReadKey(r, &out->sender); e != ParseError::kOk) return e;
  out->id = r.U64();
  return FinishWithMac(r);
}

size_t Encode(const Register& m, MutableByteSpan out) {
  Writer w(out);
  WriteHeader(w, MessageType::kRegister);
  w.U64(m.nonce);
  w.Bytes(m.key.bytes());
  w.U8(m.flags);
  WriteName(w, m.name);
  WriteName(w, m.peer);
  WriteCandidates(w, m.candidates);
  return Done(w);
}

size_t Encode(const RegisterAck& m, MutableByteSpan out) {
  Writer w(out);
  WriteHeader(w, MessageType::kRegisterAck);
  w.U64(m.nonce);
  w.U16(m.lease_seconds);
  WriteEndpoint(w, m.observed);
  return Done(w);
}

size_t Encode(const PeerInfo& m, MutableByteSpan out) {
  Writer w(out);
  WriteHeader(w, MessageType::kPeerInfo);
  w.U64(m.nonce);
  w.Bytes(m.key.bytes());
  w.U8(m.flags);
  WriteName(w, m.name);
  WriteCandidates(w, m.candidates);
  return Done(w);
}

size_t Encode(const RegisterError& m, MutableByteSpan out) {
  Writer w(out);
  WriteHeader(w, MessageType::kRegisterError);
  w.U64(m.nonce);
  w.U8(static_cast<uint8_t>(m.code));
  return Done(w);
}

size_t Encode(const Ping& m, const SessionKey& key, MutableByteSpan out) {
  Writer w(out);
  WriteHeader(w, MessageType::kPing);
  w.Bytes(m.sender.bytes());
  w.Bytes(m.tx);
  w.Mac(key);
  return Done(w);
}

size_t Encode(const Pong& m, const SessionKey& key, MutableByteSpan out) {
  Writer w(out);
  WriteHeader(w, MessageType::kPong);
  w.Bytes(m.sender.bytes());
  w.Bytes(m.tx);
  WriteEndpoint(w, m.observed);
  w.Mac(key);
  return Done(w);
}

size_t Encode(const Message& m, const SessionKey& key, MutableByteSpan out) {
  if (m.text.size() > kMaxTextSize) return 0;
  Writer w(out);
  WriteHeader(w, MessageType::kMessage);
  w.Bytes(m.sender.bytes());
  w.U64(m.id);
  w.U16(static_cast<uint16_t>(m.text.size()));
  w.Bytes(m.text);
  w.Mac(key);
  return Done(w);
}

size_t Encode(const MessageAck& m, const SessionKey& key, MutableByteSpan out) {
  Writer w(out);
  WriteHeader(w, MessageType::kMessageAck);
  w.Bytes(m.sender.bytes());
  w.U64(m.id);
  w.Mac(key);
  return Done(w);
}

bool VerifyMac(ByteSpan datagram, const SessionKey& key) {
  if (datagram.size() < kHeaderSize + kMacSize) return false;
  const size_t body = datagram.size() - kMacSize;
  return key.Verify(datagram.first(body), datagram.subspan(body));
}

}  // namespace meshvpn::holepunch
