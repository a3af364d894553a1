// The control protocol's Noise IK channel: frames, the handshake, and Envelope records.
#include "meshvpn/control/noise_channel.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "meshvpn/base/status.h"
#include "meshvpn/control/protocol.h"

namespace meshvpn::control {
namespace {

constexpr size_t kTagSize = 16;
constexpr size_t kMaxRecordPlaintext = kMaxNoiseFramePayload - kTagSize;
constexpr size_t kEnvelopeLengthPrefix = 4;
constexpr size_t kMaxErrorText = 512;
// A drained plaintext buffer bigger than this is given back (it held a full map: 2.6 MB at
// 10,000 peers, which every channel would otherwise keep).
constexpr size_t kKeptPlainCapacity = 64 << 10;

Bytes Prologue(uint16_t version) {
  const std::string text = absl::StrCat("meshvpn control protocol, channel version ", version);
  return Bytes(text.begin(), text.end());
}

void AppendFrameHeader(NoiseFrameType type, size_t length, std::string* out) {
  out->push_back(static_cast<char>(type));
  out->push_back(static_cast<char>(length >> 8));
  out->push_back(static_cast<char>(length));
}

ByteSpan FramePayload(ByteSpan frame) { return frame.subspan(kNoiseFrameHeader); }

// The printable part of a peer's error text, bounded.
std::string PeerErrorText(ByteSpan payload) {
  std::string text;
  for (size_t i = 0; i < payload.size() && text.size() < kMaxErrorText; ++i) {
    const char c = static_cast<char>(payload[i]);
    text.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return text;
}

}  // namespace

std::optional<size_t> CompleteFrameLength(ByteSpan stream) {
  if (stream.size() < kNoiseFrameHeader) return std::nullopt;
  const size_t length = (size_t{stream[1]} << 8) | stream[2];
  if (stream.size() < kNoiseFrameHeader + length) return std::nullopt;
  return kNoiseFrameHeader + length;
}

std::string ErrorFrame(std::string_view message) {
  message = message.substr(0, kMaxErrorText);
  std::string out;
  AppendFrameHeader(NoiseFrameType::kError, message.size(), &out);
  out.append(message);
  return out;
}

absl::Status NoiseChannel::Fail(absl::Status status) {
  failure_ = status;
  std::string().swap(in_);
  std::string().swap(plain_);
  in_pos_ = plain_pos_ = 0;
  return status;
}

absl::Status NoiseChannel::Receive(ByteSpan wire, std::vector<v1::Envelope>* out) {
  if (!failure_.ok()) return failure_;
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  in_.append(reinterpret_cast<const char*>(wire.data()), wire.size());
  while (true) {
    const ByteSpan pending = AsBytes(std::string_view(in_).substr(in_pos_));
    const std::optional<size_t> frame_len = CompleteFrameLength(pending);
    if (!frame_len) break;
    const ByteSpan frame = pending.first(*frame_len);
    const auto type = static_cast<NoiseFrameType>(frame[0]);
    if (type == NoiseFrameType::kError) {
      return Fail(absl::UnavailableError(
          absl::StrCat("control: the peer gave up: ", PeerErrorText(FramePayload(frame)))));
    }
    if (type != NoiseFrameType::kRecord) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "control: frame type ", static_cast<int>(frame[0]), " on an established channel")));
    }
    const ByteSpan record = FramePayload(frame);
    if (record.size() < kTagSize) return Fail(absl::InvalidArgumentError("control: short record"));
    // Decrypt in place, at the end of the plaintext stream.
    const size_t at = plain_.size();
    plain_.append(reinterpret_cast<const char*>(record.data()), record.size());
    absl::StatusOr<size_t> n = transport_.receive.DecryptWithAd(
        ByteSpan(), MutableByteSpan(reinterpret_cast<uint8_t*>(plain_.data() + at), record.size()));
    if (!n.ok()) return Fail(absl::UnauthenticatedError("control: a record failed to decrypt"));
    plain_.resize(at + *n);
    in_pos_ += *frame_len;
    // Whole Envelopes out of the plaintext stream.
    while (plain_.size() - plain_pos_ >= kEnvelopeLengthPrefix) {
      const auto* p = reinterpret_cast<const uint8_t*>(plain_.data() + plain_pos_);
      const size_t len = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
      if (len > kMaxEnvelopeBytes) {
        return Fail(absl::ResourceExhaustedError(absl::StrCat(
            "control: a ", len, "-byte message is over the ", kMaxEnvelopeBytes, "-byte limit")));
      }
      if (plain_.size() - plain_pos_ < kEnvelopeLengthPrefix + len) break;
      absl::StatusOr<v1::Envelope> envelope =
          DecodeEnvelope(ByteSpan(p + kEnvelopeLengthPrefix, len));
      if (!envelope.ok()) return Fail(envelope.status());
      out->push_back(*std::move(envelope));
      plain_pos_ += kEnvelopeLengthPrefix + len;
    }
    if (plain_pos_ == plain_.size()) {
      if (plain_.capacity() > kKeptPlainCapacity) {
        std::string().swap(plain_);
      } else {
        plain_.clear();
      }
      plain_pos_ = 0;
    } else if (plain_pos_ > plain_.size() / 2) {
      plain_.erase(0, plain_pos_);
      plain_pos_ = 0;
    }
  }
  if (in_pos_ > 0 && in_pos_ >= in_.size() / 2) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  return absl::OkStatus();
}

absl::Status NoiseChannel::Send(const v1::Envelope& envelope, std::string* wire) {
  MESHVPN_ASSIGN_OR_RETURN(const std::string bytes, EncodeEnvelope(envelope));
  return SendEncoded(bytes, wire);
}

absl::Status NoiseChannel::SendEncoded(std::string_view envelope_bytes, std::string* wire) {
  if (!failure_.ok()) return failure_;
  if (envelope_bytes.size() > kMaxEnvelopeBytes) {
    return absl::ResourceExhaustedError("control: message over the size limit");
  }
  const uint8_t prefix[kEnvelopeLengthPrefix] = {static_cast<uint8_t>(envelope_bytes.size() >> 24),
                                                 static_cast<uint8_t>(envelope_bytes.size() >> 16),
                                                 static_cast<uint8_t>(envelope_bytes.size() >> 8),
                                                 static_cast<uint8_t>(envelope_bytes.size())};
  const size_t total = kEnvelopeLengthPrefix + envelope_bytes.size();
  size_t sent = 0;
  while (sent < total) {
    const size_t n = std::min(kMaxRecordPlaintext, total - sent);
    const size_t at = wire->size();
    AppendFrameHeader(NoiseFrameType::kRecord, n + kTagSize, wire);
    const size_t body = wire->size();
    wire->resize(body + n + kTagSize);
    auto* dst = reinterpret_cast<uint8_t*>(wire->data() + body);
    // The record's plaintext: the rest of the prefix, then Envelope bytes.
    size_t filled = 0;
    while (filled < n) {
      const size_t pos = sent + filled;
      if (pos < kEnvelopeLengthPrefix) {
        dst[filled++] = prefix[pos];
      } else {
        const size_t take = n - filled;
        std::memcpy(dst + filled, envelope_bytes.data() + (pos - kEnvelopeLengthPrefix), take);
        filled += take;
      }
    }
    absl::StatusOr<size_t> sealed =
        transport_.send.EncryptWithAd(ByteSpan(), MutableByteSpan(dst, n + kTagSize), n);
    if (!sealed.ok()) {
      wire->resize(at);
      return Fail(sealed.status());
    }
    sent += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<ClientHandshake> ClientHandshake::Start(const x25519::PrivateKey& machine_key,
                                                       const x25519::PublicKey& server_key) {
  noise::HandshakeConfig config;
  config.pattern = noise::HandshakePattern::kIK;
  config.role = noise::Role::kInitiator;
  config.prologue = Prologue(kNoiseChannelVersion);
  config.local_static = machine_key;
  config.remote_static = server_key;
  MESHVPN_ASSIGN_OR_RETURN(noise::HandshakeState state,
                           noise::HandshakeState::Create(std::move(config)));
  ClientHandshake handshake(std::move(state));
  const size_t size = handshake.state_.NextMessageSize(0);
  std::string& frame = handshake.initiation_;
  AppendFrameHeader(NoiseFrameType::kInitiation, 2 + size, &frame);
  frame.push_back(static_cast<char>(kNoiseChannelVersion >> 8));
  frame.push_back(static_cast<char>(kNoiseChannelVersion));
  const size_t at = frame.size();
  frame.resize(at + size);
  MESHVPN_ASSIGN_OR_RETURN(
      const size_t written,
      handshake.state_.WriteMessage(
          ByteSpan(), MutableByteSpan(reinterpret_cast<uint8_t*>(frame.data() + at), size)));
  frame.resize(at + written);
  return handshake;
}

absl::StatusOr<NoiseChannel> ClientHandshake::Finish(ByteSpan frame) {
  const std::optional<size_t> len = CompleteFrameLength(frame);
  if (!len || *len != frame.size()) {
    return absl::InvalidArgumentError("control: the server's first frame is incomplete");
  }
  const auto type = static_cast<NoiseFrameType>(frame[0]);
  if (type == NoiseFrameType::kError) {
    return absl::UnavailableError(
        absl::StrCat("control: the server refused: ", PeerErrorText(FramePayload(frame))));
  }
  if (type != NoiseFrameType::kResponse) {
    return absl::InvalidArgumentError(absl::StrCat(
        "control: expected the handshake response, got frame type ", static_cast<int>(frame[0])));
  }
  const ByteSpan message = FramePayload(frame);
  Bytes payload(message.size());
  absl::StatusOr<size_t> read = state_.ReadMessage(message, MutableByteSpan(payload));
  if (!read.ok()) {
    return absl::UnauthenticatedError(
        "control: the handshake response does not authenticate (not the pinned server key?)");
  }
  MESHVPN_ASSIGN_OR_RETURN(noise::TransportState transport, state_.Split());
  return NoiseChannel(std::move(transport));
}

absl::StatusOr<AcceptedChannel> AcceptHandshake(const x25519::PrivateKey& server_key,
                                                ByteSpan frame) {
  const std::optional<size_t> len = CompleteFrameLength(frame);
  if (!len || *len != frame.size()) {
    return absl::InvalidArgumentError("control: an incomplete handshake frame");
  }
  if (static_cast<NoiseFrameType>(frame[0]) != NoiseFrameType::kInitiation) {
    return absl::InvalidArgumentError(absl::StrCat(
        "control: expected a handshake initiation, got frame type ", static_cast<int>(frame[0])));
  }
  const ByteSpan body = FramePayload(frame);
  if (body.size() < 2) return absl::InvalidArgumentError("control: a short handshake frame");
  const uint16_t version = static_cast<uint16_t>(body[0] << 8 | body[1]);
  if (version != kNoiseChannelVersion) {
    return absl::FailedPreconditionError(absl::StrCat("control: channel version ", version,
                                                      " is not supported (this server speaks ",
                                                      kNoiseChannelVersion, ")"));
  }
  noise::HandshakeConfig config;
  config.pattern = noise::HandshakePattern::kIK;
  config.role = noise::Role::kResponder;
  config.prologue = Prologue(version);
  config.local_static = server_key;
  MESHVPN_ASSIGN_OR_RETURN(noise::HandshakeState state,
                           noise::HandshakeState::Create(std::move(config)));
  const ByteSpan message = body.subspan(2);
  Bytes payload(message.size());
  if (!state.ReadMessage(message, MutableByteSpan(payload)).ok()) {
    return absl::UnauthenticatedError(
        "control: the handshake initiation does not authenticate (wrong server key?)");
  }
  if (!state.remote_static()) return absl::InternalError("control: no client key after IK");
  const x25519::PublicKey machine_key = *state.remote_static();
  const size_t size = state.NextMessageSize(0);
  std::string response;
  AppendFrameHeader(NoiseFrameType::kResponse, size, &response);
  response.resize(kNoiseFrameHeader + size);
  MESHVPN_ASSIGN_OR_RETURN(
      const size_t written,
      state.WriteMessage(
          ByteSpan(),
          MutableByteSpan(reinterpret_cast<uint8_t*>(response.data() + kNoiseFrameHeader), size)));
  response.resize(kNoiseFrameHeader + written);
  MESHVPN_ASSIGN_OR_RETURN(noise::TransportState transport, state.Split());
  return AcceptedChannel{machine_key, std::move(response), NoiseChannel(std::move(transport))};
}

}  // namespace meshvpn::control
