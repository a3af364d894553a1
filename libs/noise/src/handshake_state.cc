#include "meshvpn/noise/handshake_state.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::noise {
namespace {

std::string TokenName(Token token) { return std::string(ToString(token)); }

}  // namespace

HandshakeState::HandshakeState(const PatternSpec* spec, Role role, CryptoBackend backend)
    : spec_(spec), role_(role), backend_(backend), symmetric_(backend) {}

absl::StatusOr<HandshakeState> HandshakeState::Create(HandshakeConfig config) {
  const PatternSpec& spec = GetPatternSpec(config.pattern);
  const bool initiator = config.role == Role::kInitiator;
  const std::string name(spec.name);
  const bool needs_static = initiator ? spec.initiator_has_static : spec.responder_has_static;
  if (needs_static && !config.local_static) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "noise: the %s of %s needs a local static key", std::string(ToString(config.role)), name));
  }
  if (!needs_static && config.local_static) {
    return absl::InvalidArgumentError(absl::StrFormat("noise: the %s of %s uses no static key",
                                                      std::string(ToString(config.role)), name));
  }
  const bool rs_premessage =
      initiator ? spec.responder_static_premessage : spec.initiator_static_premessage;
  if (rs_premessage && !config.remote_static) {
    return absl::InvalidArgumentError(
        absl::StrFormat("noise: the %s of %s needs the peer's static public key (a pre-message)",
                        std::string(ToString(config.role)), name));
  }
  if (!rs_premessage && config.remote_static) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "noise: in %s the %s learns the peer's static key from the handshake; compare "
        "remote_static() afterwards instead of configuring it",
        name, std::string(ToString(config.role))));
  }
  if (spec.has_psk && !config.psk) {
    return absl::InvalidArgumentError(
        absl::StrFormat("noise: %s needs a preshared key (all zeros if none)", name));
  }
  if (!spec.has_psk && config.psk) {
    return absl::InvalidArgumentError(absl::StrFormat("noise: %s takes no preshared key", name));
  }

  HandshakeState hs(&spec, config.role, config.backend);
  hs.observer_ = config.observer;
  if (config.local_static) {
    absl::StatusOr<x25519::PublicKey> pub =
        x25519::DerivePublicKey(*config.local_static, config.backend);
    if (!pub.ok()) return pub.status();
    hs.s_ = std::move(config.local_static);
    hs.s_pub_ = *pub;
  }
  if (config.local_ephemeral) {
    absl::StatusOr<x25519::PublicKey> pub =
        x25519::DerivePublicKey(*config.local_ephemeral, config.backend);
    if (!pub.ok()) return pub.status();
    hs.e_ = std::move(config.local_ephemeral);
    hs.e_pub_ = *pub;
  }
  hs.rs_ = config.remote_static;
  hs.psk_ = std::move(config.psk);

  hs.symmetric_.InitializeSymmetric(spec.protocol_name);
  hs.symmetric_.MixHash(config.prologue);
  // Pre-messages, initiator's first (Noise section 5.3, Initialize()).
  if (spec.initiator_static_premessage) {
    hs.symmetric_.MixHash(initiator ? hs.s_pub_->bytes() : hs.rs_->bytes());
  }
  if (spec.responder_static_premessage) {
    hs.symmetric_.MixHash(initiator ? hs.rs_->bytes() : hs.s_pub_->bytes());
  }
  return hs;
}

absl::StatusOr<HandshakeState> HandshakeState::Clone() const {
  absl::StatusOr<SymmetricState> symmetric = symmetric_.Clone();
  if (!symmetric.ok()) return symmetric.status();
  HandshakeState copy(spec_, role_, backend_);
  copy.observer_ = observer_;
  copy.symmetric_ = *std::move(symmetric);
  copy.s_ = s_;
  copy.s_pub_ = s_pub_;
  copy.e_ = e_;
  copy.e_pub_ = e_pub_;
  copy.rs_ = rs_;
  copy.re_ = re_;
  copy.psk_ = psk_;
  copy.message_index_ = message_index_;
  copy.failed_ = failed_;
  copy.split_done_ = split_done_;
  copy.psk_mixed_ = psk_mixed_;
  return copy;
}

absl::Status HandshakeState::SetPresharedKey(x25519::PresharedKey psk) {
  if (!spec_->has_psk) {
    return absl::InvalidArgumentError(
        absl::StrFormat("noise: %s takes no preshared key", spec_->protocol_name));
  }
  if (failed_ || psk_mixed_) {
    return absl::FailedPreconditionError("noise: the preshared key was already used");
  }
  psk_ = std::move(psk);
  return absl::OkStatus();
}

absl::Status HandshakeState::Fail(absl::Status status) {
  failed_ = true;
  s_.reset();
  e_.reset();
  psk_.reset();
  symmetric_ = SymmetricState(backend_);
  return status;
}

const MessagePattern* HandshakeState::CurrentMessage() const {
  if (message_index_ >= spec_->messages.size()) return nullptr;
  return &spec_->messages[message_index_];
}

bool HandshakeState::IsComplete() const {
  return !failed_ && message_index_ >= spec_->messages.size();
}

bool HandshakeState::IsMyTurnToWrite() const {
  const MessagePattern* m = CurrentMessage();
  return !failed_ && m != nullptr && m->from_initiator == (role_ == Role::kInitiator);
}

size_t HandshakeState::TokenBytes(const MessagePattern& m, bool& has_key) const {
  size_t bytes = 0;
  for (Token t : m.tokens) {
    switch (t) {
      case Token::kE:
        bytes += kDhLen;
        if (spec_->has_psk) has_key = true;
        break;
      case Token::kS:
        bytes += kDhLen + (has_key ? kNoiseTagSize : 0);
        break;
      default:
        has_key = true;
        break;
    }
  }
  return bytes;
}

size_t HandshakeState::NextMessageSize(size_t payload_size) const {
  const MessagePattern* m = CurrentMessage();
  if (m == nullptr) return 0;
  bool has_key = symmetric_.has_key();
  const size_t tokens = TokenBytes(*m, has_key);
  return tokens + payload_size + (has_key ? kNoiseTagSize : 0);
}

std::optional<size_t> HandshakeState::PayloadSizeOf(size_t message_size) const {
  const MessagePattern* m = CurrentMessage();
  if (m == nullptr) return std::nullopt;
  bool has_key = symmetric_.has_key();
  const size_t fixed = TokenBytes(*m, has_key) + (has_key ? kNoiseTagSize : 0);
  if (message_size < fixed) return std::nullopt;
  return message_size - fixed;
}

absl::Status HandshakeState::MixDh(Token token) {
  const bool initiator = role_ == Role::kInitiator;
  const std::optional<x25519::PrivateKey>* priv = nullptr;
  const std::optional<x25519::PublicKey>* pub = nullptr;
  switch (token) {
    case Token::kEE:
      priv = &e_;
      pub = &re_;
      break;
    case Token::kES:
      priv = initiator ? &e_ : &s_;
      pub = initiator ? &rs_ : &re_;
      break;
    case Token::kSE:
      priv = initiator ? &s_ : &e_;
      pub = initiator ? &re_ : &rs_;
      break;
    case Token::kSS:
      priv = &s_;
      pub = &rs_;
      break;
    default:
      return absl::InternalError("noise: not a DH token");
  }
  if (!priv->has_value() || !pub->has_value()) {
    return absl::InternalError(
        absl::StrFormat("noise: token %s: a key it needs is missing", TokenName(token)));
  }
  absl::StatusOr<x25519::SharedSecret> dh = x25519::ComputeSharedSecret(**priv, **pub, backend_);
  if (!dh.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "noise: DH for token %s failed: the peer's public key is a low-order point (all-zero "
        "shared secret)",
        TokenName(token)));
  }
  return symmetric_.MixKey(dh->ExposeSecretBytes());
}

absl::Status HandshakeState::WriteToken(Token token, MutableByteSpan out, size_t& pos) {
  switch (token) {
    case Token::kE: {
      if (!e_) {
        absl::StatusOr<x25519::KeyPair> pair = x25519::GenerateKeyPair(backend_);
        if (!pair.ok()) return pair.status();
        e_ = std::move(pair->private_key);
        e_pub_ = pair->public_key;
      }
      std::memcpy(out.data() + pos, e_pub_->bytes().data(), kDhLen);
      symmetric_.MixHash(e_pub_->bytes());
      if (spec_->has_psk) MESHVPN_RETURN_IF_ERROR(symmetric_.MixKey(e_pub_->bytes()));
      pos += kDhLen;
      return absl::OkStatus();
    }
    case Token::kS: {
      std::memcpy(out.data() + pos, s_pub_->bytes().data(), kDhLen);
      absl::StatusOr<size_t> n =
          symmetric_.EncryptAndHash(out.subspan(pos, out.size() - pos), kDhLen);
      if (!n.ok()) return n.status();
      pos += *n;
      return absl::OkStatus();
    }
    case Token::kPsk:
      psk_mixed_ = true;
      return symmetric_.MixKeyAndHash(psk_->ExposeSecretBytes());
    default:
      return MixDh(token);
  }
}

absl::Status HandshakeState::ReadToken(Token token, ByteSpan message, size_t& pos) {
  switch (token) {
    case Token::kE: {
      if (message.size() - pos < kDhLen) {
        return absl::InvalidArgumentError("noise: message too short for an ephemeral key");
      }
      absl::StatusOr<x25519::PublicKey> re =
          x25519::PublicKey::FromBytes(message.subspan(pos, kDhLen));
      if (!re.ok()) return re.status();
      re_ = *re;
      symmetric_.MixHash(re_->bytes());
      if (spec_->has_psk) MESHVPN_RETURN_IF_ERROR(symmetric_.MixKey(re_->bytes()));
      pos += kDhLen;
      return absl::OkStatus();
    }
    case Token::kS: {
      const size_t len = kDhLen + (symmetric_.has_key() ? kNoiseTagSize : 0);
      if (message.size() - pos < len) {
        return absl::InvalidArgumentError("noise: message too short for a static key");
      }
      std::array<uint8_t, kDhLen + kNoiseTagSize> buf{};
      std::memcpy(buf.data(), message.data() + pos, len);
      absl::StatusOr<size_t> n = symmetric_.DecryptAndHash(MutableByteSpan(buf.data(), len));
      if (!n.ok()) return n.status();
      absl::StatusOr<x25519::PublicKey> rs =
          x25519::PublicKey::FromBytes(ByteSpan(buf.data(), kDhLen));
      if (!rs.ok()) return rs.status();
      rs_ = *rs;
      pos += len;
      return absl::OkStatus();
    }
    case Token::kPsk:
      psk_mixed_ = true;
      return symmetric_.MixKeyAndHash(psk_->ExposeSecretBytes());
    default:
      return MixDh(token);
  }
}

absl::StatusOr<size_t> HandshakeState::WriteMessage(ByteSpan payload, MutableByteSpan out) {
  if (failed_) return absl::FailedPreconditionError("noise: handshake state is unusable");
  const MessagePattern* m = CurrentMessage();
  if (m == nullptr) return absl::FailedPreconditionError("noise: the handshake is complete");
  if (!IsMyTurnToWrite()) {
    return absl::FailedPreconditionError("noise: not our turn to write (read the peer's message)");
  }
  const size_t size = NextMessageSize(payload.size());
  if (size > kNoiseMaxMessageSize) {
    return absl::InvalidArgumentError("noise: handshake message would exceed 65535 bytes");
  }
  if (out.size() < size) {
    return absl::InvalidArgumentError(
        absl::StrFormat("noise: output buffer too small (%d bytes, need %d)", out.size(), size));
  }
  size_t pos = 0;
  for (Token t : m->tokens) {
    absl::Status s = WriteToken(t, out, pos);
    if (!s.ok()) return Fail(std::move(s));
    if (observer_) observer_->OnToken(message_index_, true, t, symmetric_.handshake_hash());
  }
  if (!payload.empty()) std::memmove(out.data() + pos, payload.data(), payload.size());
  absl::StatusOr<size_t> n =
      symmetric_.EncryptAndHash(out.subspan(pos, out.size() - pos), payload.size());
  if (!n.ok()) return Fail(n.status());
  pos += *n;
  if (observer_) {
    observer_->OnPayload(message_index_, true, payload.size(), symmetric_.handshake_hash());
  }
  ++message_index_;
  return pos;
}

absl::StatusOr<size_t> HandshakeState::ReadMessage(ByteSpan message, MutableByteSpan payload_out) {
  if (failed_) return absl::FailedPreconditionError("noise: handshake state is unusable");
  const MessagePattern* m = CurrentMessage();
  if (m == nullptr) return absl::FailedPreconditionError("noise: the handshake is complete");
  if (IsMyTurnToWrite()) {
    return absl::FailedPreconditionError("noise: our turn to write, not to read");
  }
  if (message.size() > kNoiseMaxMessageSize) {
    return Fail(absl::InvalidArgumentError("noise: handshake message longer than 65535 bytes"));
  }
  if (!PayloadSizeOf(message.size()).has_value()) {
    return Fail(absl::InvalidArgumentError(absl::StrFormat(
        "noise: handshake message %d too short (%d bytes)", message_index_ + 1, message.size())));
  }
  size_t pos = 0;
  for (Token t : m->tokens) {
    absl::Status s = ReadToken(t, message, pos);
    if (!s.ok()) return Fail(std::move(s));
    if (observer_) observer_->OnToken(message_index_, false, t, symmetric_.handshake_hash());
  }
  const size_t rest = message.size() - pos;
  if (payload_out.size() < rest) {
    return Fail(absl::InvalidArgumentError("noise: payload buffer too small for the message"));
  }
  if (rest > 0) std::memcpy(payload_out.data(), message.data() + pos, rest);
  absl::StatusOr<size_t> n = symmetric_.DecryptAndHash(payload_out.first(rest));
  if (!n.ok()) return Fail(n.status());
  if (observer_) observer_->OnPayload(message_index_, false, *n, symmetric_.handshake_hash());
  ++message_index_;
  return *n;
}

absl::StatusOr<TransportState> HandshakeState::Split() {
  if (failed_) return absl::FailedPreconditionError("noise: handshake state is unusable");
  if (!IsComplete()) {
    return absl::FailedPreconditionError("noise: split before the handshake is complete");
  }
  if (split_done_) return absl::FailedPreconditionError("noise: split already called");
  const Blake2sHash h = symmetric_.handshake_hash();
  absl::StatusOr<CipherStatePair> pair = symmetric_.Split();
  if (!pair.ok()) return Fail(pair.status());
  split_done_ = true;
  e_.reset();  // the ephemeral is done: forward secrecy
  TransportState t;
  t.handshake_hash = h;
  if (role_ == Role::kInitiator) {
    t.send = std::move(pair->initiator_to_responder);
    t.receive = std::move(pair->responder_to_initiator);
  } else {
    t.send = std::move(pair->responder_to_initiator);
    t.receive = std::move(pair->initiator_to_responder);
  }
  return t;
}

}  // namespace meshvpn::noise
