// HandshakeState run initiator against responder for every pattern (XX has no vector) in both
// backends: agreement, transport, wrong keys, tampering, failure rules and config checks.
#include "meshvpn/noise/handshake_state.h"

#include <catch2/catch.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "meshvpn/x25519/x25519.h"
#include "test_util.h"

namespace meshvpn::noise {
namespace {

struct Peer {
  x25519::PrivateKey priv;
  x25519::PublicKey pub;
};

Peer NewPeer() {
  auto kp = x25519::GenerateKeyPair();
  REQUIRE(kp.ok());
  return {kp->private_key, kp->public_key};
}

x25519::PresharedKey NewPsk() {
  auto psk = x25519::PresharedKey::Generate();
  REQUIRE(psk.ok());
  return *std::move(psk);
}

struct Setup {
  HandshakePattern pattern;
  CryptoBackend backend;
  Peer alice = NewPeer();  // initiator
  Peer bob = NewPeer();    // responder
  x25519::PresharedKey psk = NewPsk();
  std::string prologue = "meshvpn test";

  HandshakeConfig Config(Role role) const {
    const PatternSpec& spec = GetPatternSpec(pattern);
    HandshakeConfig c;
    c.pattern = pattern;
    c.role = role;
    c.backend = backend;
    c.prologue = Bytes(prologue.begin(), prologue.end());
    const bool initiator = role == Role::kInitiator;
    if (initiator ? spec.initiator_has_static : spec.responder_has_static) {
      c.local_static = initiator ? alice.priv : bob.priv;
    }
    if (initiator && spec.responder_static_premessage) c.remote_static = bob.pub;
    if (spec.has_psk) c.psk = psk;
    return c;
  }
};

// Runs the handshake; `tamper(i, msg)` may change message i on the wire. Returns the first error.
absl::Status Run(HandshakeState& a, HandshakeState& b,
                 const std::function<void(size_t, Bytes&)>& tamper = nullptr) {
  size_t i = 0;
  bool payload_changed = false;  // reported at the end: later messages must also catch it
  while (!a.IsComplete() || !b.IsComplete()) {
    HandshakeState& w = a.IsMyTurnToWrite() ? a : b;
    HandshakeState& r = a.IsMyTurnToWrite() ? b : a;
    const std::string text = "payload " + std::to_string(i);
    Bytes msg(w.NextMessageSize(text.size()));
    auto n = w.WriteMessage(AsBytes(text), msg);
    if (!n.ok()) return n.status();
    REQUIRE(*n == msg.size());
    if (tamper) tamper(i, msg);
    Bytes payload(msg.size());
    auto p = r.ReadMessage(msg, payload);
    if (!p.ok()) return p.status();
    if (meshvpn::ToString(ByteSpan(payload).first(*p)) != text) payload_changed = true;
    ++i;
  }
  return payload_changed ? absl::InternalError("payload changed") : absl::OkStatus();
}

const HandshakePattern kPatterns[] = {HandshakePattern::kNN, HandshakePattern::kXX,
                                      HandshakePattern::kIK, HandshakePattern::kIKpsk2};

TEST_CASE("Initiator and responder agree and exchange transport messages, every pattern") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (HandshakePattern pattern : kPatterns) {
      INFO(ToString(backend) << " " << ToString(pattern));
      Setup s{pattern, backend};
      auto a = HandshakeState::Create(s.Config(Role::kInitiator));
      auto b = HandshakeState::Create(s.Config(Role::kResponder));
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      CHECK(a->Split().status().code() == absl::StatusCode::kFailedPrecondition);
      REQUIRE(Run(*a, *b).ok());
      CHECK(a->message_index() == GetPatternSpec(pattern).messages.size());
      CHECK(a->handshake_hash() == b->handshake_hash());
      if (GetPatternSpec(pattern).responder_has_static) {
        REQUIRE(a->remote_static().has_value());
        CHECK(*a->remote_static() == s.bob.pub);
        REQUIRE(b->remote_static().has_value());
        CHECK(*b->remote_static() == s.alice.pub);
      }
      auto ta = a->Split();
      auto tb = b->Split();
      REQUIRE(ta.ok());
      REQUIRE(tb.ok());
      CHECK(a->Split().status().code() == absl::StatusCode::kFailedPrecondition);
      CHECK(ta->handshake_hash == tb->handshake_hash);
      CHECK(ta->send.KeyId() == tb->receive.KeyId());
      CHECK(ta->receive.KeyId() == tb->send.KeyId());
      CHECK(ta->send.KeyId() != ta->receive.KeyId());
      for (int k = 0; k < 3; ++k) {
        Bytes m(5 + kNoiseTagSize);
        std::copy_n("ping!", 5, m.begin());
        REQUIRE(ta->send.EncryptWithAd({}, m, 5).ok());
        auto p = tb->receive.DecryptWithAd({}, m);
        REQUIRE(p.ok());
        CHECK(meshvpn::ToString(ByteSpan(m).first(*p)) == "ping!");
        std::copy_n("pong!", 5, m.begin());
        REQUIRE(tb->send.EncryptWithAd({}, m, 5).ok());
        p = ta->receive.DecryptWithAd({}, m);
        REQUIRE(p.ok());
        CHECK(meshvpn::ToString(ByteSpan(m).first(*p)) == "pong!");
      }
    }
  }
}

TEST_CASE("Two handshakes with the same static keys give different keys (fresh ephemerals)") {
  for (HandshakePattern pattern : kPatterns) {
    Setup s{pattern, CryptoBackend::kOpenSsl};
    Blake2sHash first{};
    for (int round = 0; round < 2; ++round) {
      auto a = HandshakeState::Create(s.Config(Role::kInitiator));
      auto b = HandshakeState::Create(s.Config(Role::kResponder));
      REQUIRE(Run(*a, *b).ok());
      auto t = a->Split();
      REQUIRE(t.ok());
      if (round == 0)
        first = t->send.KeyId();
      else
        CHECK(t->send.KeyId() != first);
    }
  }
}

TEST_CASE("A tampered byte anywhere in any handshake message fails the handshake") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (HandshakePattern pattern : kPatterns) {
      const size_t messages = GetPatternSpec(pattern).messages.size();
      for (size_t target = 0; target < messages; ++target) {
        // Every byte of the message (they are short): flip its low bit.
        for (size_t byte = 0;; ++byte) {
          INFO(ToString(backend) << " " << ToString(pattern) << " msg " << target << " byte "
                                 << byte);
          Setup s{pattern, backend};
          auto a = HandshakeState::Create(s.Config(Role::kInitiator));
          auto b = HandshakeState::Create(s.Config(Role::kResponder));
          bool past_end = false;
          absl::Status st = Run(*a, *b, [&](size_t i, Bytes& m) {
            if (i != target) return;
            if (byte >= m.size()) {
              past_end = true;
              return;
            }
            m[byte] ^= 0x01;
          });
          if (past_end) break;
          // NN and XX's first message ("e" and a plaintext payload) carries no tag: the
          // change is caught by the next message's tag, which covers h. Either way it fails.
          CHECK_FALSE(st.ok());
          CHECK((a->failed() || b->failed()));
          HandshakeState& failed = a->failed() ? *a : *b;
          Bytes out(200);
          auto again = failed.WriteMessage({}, out);
          CHECK(again.status().code() == absl::StatusCode::kFailedPrecondition);
          // (Bit 0 of a key's byte 31 is bit 248, not the ignored bit 255: every flip counts.)
        }
      }
    }
  }
}

TEST_CASE("Wrong keys and wrong psk fail with Unauthenticated") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    SECTION("IK initiator has the wrong responder key") {
      Setup s{HandshakePattern::kIK, backend};
      HandshakeConfig ic = s.Config(Role::kInitiator);
      ic.remote_static = NewPeer().pub;
      auto a = HandshakeState::Create(std::move(ic));
      auto b = HandshakeState::Create(s.Config(Role::kResponder));
      absl::Status st = Run(*a, *b);
      CHECK(st.code() == absl::StatusCode::kUnauthenticated);
      CHECK(b->failed());
      CHECK(b->message_index() == 0);
      CHECK_FALSE(b->remote_static().has_value());
    }
    SECTION("IKpsk2 with a different psk fails at the response") {
      Setup s{HandshakePattern::kIKpsk2, backend};
      HandshakeConfig rc = s.Config(Role::kResponder);
      rc.psk = NewPsk();
      auto a = HandshakeState::Create(s.Config(Role::kInitiator));
      auto b = HandshakeState::Create(std::move(rc));
      absl::Status st = Run(*a, *b);
      CHECK(st.code() == absl::StatusCode::kUnauthenticated);
      CHECK(a->failed());
      CHECK(b->message_index() == 2);  // the responder cannot tell; the initiator rejects
      CHECK(a->Split().status().code() == absl::StatusCode::kFailedPrecondition);
    }
    SECTION("different prologues") {
      Setup s{HandshakePattern::kXX, backend};
      HandshakeConfig rc = s.Config(Role::kResponder);
      rc.prologue = Bytes{1, 2, 3};
      auto a = HandshakeState::Create(s.Config(Role::kInitiator));
      auto b = HandshakeState::Create(std::move(rc));
      CHECK(Run(*a, *b).code() == absl::StatusCode::kUnauthenticated);
    }
    SECTION("the error message names no key material") {
      Setup s{HandshakePattern::kIK, backend};
      HandshakeConfig ic = s.Config(Role::kInitiator);
      ic.remote_static = NewPeer().pub;
      auto a = HandshakeState::Create(std::move(ic));
      auto b = HandshakeState::Create(s.Config(Role::kResponder));
      absl::Status st = Run(*a, *b);
      const std::string msg(st.message());
      CHECK(msg.find("decryption failed") != std::string::npos);
      CHECK(msg.find(s.bob.pub.ToBase64()) == std::string::npos);
      CHECK(msg.find(s.bob.pub.ToHex()) == std::string::npos);
    }
  }
}

TEST_CASE("A low-order peer key is an error of the handshake, not a crash") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    Setup s{HandshakePattern::kIK, backend};
    HandshakeConfig ic = s.Config(Role::kInitiator);
    ic.remote_static = x25519::PublicKey();  // all zeros: a low-order point
    auto a = HandshakeState::Create(std::move(ic));
    REQUIRE(a.ok());
    Bytes out(200);
    auto n = a->WriteMessage({}, out);
    CHECK(n.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(n.status().message()).find("low-order") != std::string::npos);
    CHECK(a->failed());

    // The responder reading an all-zero ephemeral.
    auto b = HandshakeState::Create(s.Config(Role::kResponder));
    Bytes msg(32 + 48 + 16, 0);
    Bytes payload(msg.size());
    auto p = b->ReadMessage(msg, payload);
    CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(b->failed());
  }
}

TEST_CASE("Out-of-turn calls, short messages and small buffers are refused") {
  Setup s{HandshakePattern::kIKpsk2, CryptoBackend::kOpenSsl};
  auto a = HandshakeState::Create(s.Config(Role::kInitiator));
  auto b = HandshakeState::Create(s.Config(Role::kResponder));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->IsMyTurnToWrite());
  CHECK_FALSE(b->IsMyTurnToWrite());
  Bytes buf(200);
  CHECK(b->WriteMessage({}, buf).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(a->ReadMessage(buf, buf).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(b->failed());  // refusing an out-of-turn call does not poison the state
  CHECK(a->NextMessageSize(0) == 32 + 48 + 16);
  CHECK(a->NextMessageSize(12) == 108);  // WireGuard's initiation body
  Bytes small(107);
  CHECK(a->WriteMessage(Bytes(12), small).status().code() == absl::StatusCode::kInvalidArgument);
  Bytes too_short(95);
  CHECK(b->ReadMessage(too_short, buf).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(b->failed());
  Bytes huge(kNoiseMaxMessageSize);
  CHECK(a->WriteMessage(huge, buf).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Create checks the keys against the pattern") {
  Setup s{HandshakePattern::kIK, CryptoBackend::kOpenSsl};
  HandshakeConfig c = s.Config(Role::kInitiator);
  c.remote_static.reset();
  CHECK(HandshakeState::Create(std::move(c)).status().message() ==
        "noise: the initiator of IK needs the peer's static public key (a pre-message)");
  c = s.Config(Role::kResponder);
  c.local_static.reset();
  CHECK(HandshakeState::Create(std::move(c)).status().message() ==
        "noise: the responder of IK needs a local static key");
  c = s.Config(Role::kInitiator);
  c.psk = NewPsk();
  CHECK(HandshakeState::Create(std::move(c)).status().message() ==
        "noise: IK takes no preshared key");
  Setup p{HandshakePattern::kIKpsk2, CryptoBackend::kOpenSsl};
  c = p.Config(Role::kInitiator);
  c.psk.reset();
  CHECK(HandshakeState::Create(std::move(c)).status().code() == absl::StatusCode::kInvalidArgument);
  Setup n{HandshakePattern::kNN, CryptoBackend::kOpenSsl};
  c = n.Config(Role::kInitiator);
  c.local_static = s.alice.priv;
  CHECK(HandshakeState::Create(std::move(c)).status().code() == absl::StatusCode::kInvalidArgument);
  Setup x{HandshakePattern::kXX, CryptoBackend::kOpenSsl};
  c = x.Config(Role::kInitiator);
  c.remote_static = s.bob.pub;
  CHECK(HandshakeState::Create(std::move(c)).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Pattern names and tokens") {
  CHECK(GetPatternSpec(HandshakePattern::kIKpsk2).protocol_name ==
        "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
  for (HandshakePattern p : kPatterns) {
    auto parsed = ParseHandshakePattern(ToString(p));
    REQUIRE(parsed.ok());
    CHECK(*parsed == p);
  }
  CHECK_FALSE(ParseHandshakePattern("ikpsk2").ok());
  CHECK(ToString(Token::kPsk) == "psk");
  CHECK(ToString(Role::kResponder) == "responder");
  const auto& m = GetPatternSpec(HandshakePattern::kIKpsk2).messages;
  REQUIRE(m.size() == 2);
  std::string second;
  for (Token t : m[1].tokens) second += std::string(ToString(t)) + " ";
  CHECK(second == "e ee se psk ");
}

class RecordingObserver : public HandshakeObserver {
 public:
  void OnToken(size_t index, bool writing, Token token, const Blake2sHash&) override {
    log += std::to_string(index) + (writing ? "w:" : "r:") + std::string(ToString(token)) + " ";
  }
  void OnPayload(size_t index, bool writing, size_t size, const Blake2sHash&) override {
    log += std::to_string(index) + (writing ? "w:" : "r:") + "payload" + std::to_string(size) + " ";
  }
  std::string log;
};

TEST_CASE("The observer sees every token in order") {
  Setup s{HandshakePattern::kIKpsk2, CryptoBackend::kOpenSsl};
  RecordingObserver oa;
  HandshakeConfig ic = s.Config(Role::kInitiator);
  ic.observer = &oa;
  auto a = HandshakeState::Create(std::move(ic));
  auto b = HandshakeState::Create(s.Config(Role::kResponder));
  REQUIRE(Run(*a, *b).ok());
  CHECK(oa.log == "0w:e 0w:es 0w:s 0w:ss 0w:payload9 1r:e 1r:ee 1r:se 1r:psk 1r:payload9 ");
}

}  // namespace
}  // namespace meshvpn::noise

namespace meshvpn::noise {
namespace {

TEST_CASE("A responder may learn its psk after reading the first message (WireGuard's order)") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    Setup s{HandshakePattern::kIKpsk2, backend};
    HandshakeConfig rc = s.Config(Role::kResponder);
    rc.psk = x25519::PresharedKey();  // not yet known: the initiator is identified by message 1
    auto a = HandshakeState::Create(s.Config(Role::kInitiator));
    auto b = HandshakeState::Create(std::move(rc));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    Bytes msg(a->NextMessageSize(0));
    REQUIRE(a->WriteMessage({}, msg).ok());
    Bytes payload(msg.size());
    REQUIRE(b->ReadMessage(msg, payload).ok());
    REQUIRE(b->remote_static().has_value());
    CHECK(*b->remote_static() == s.alice.pub);

    SECTION("the right psk completes the handshake") {
      REQUIRE(b->SetPresharedKey(s.psk).ok());
      Bytes reply(b->NextMessageSize(0));
      REQUIRE(b->WriteMessage({}, reply).ok());
      CHECK(b->SetPresharedKey(s.psk).code() == absl::StatusCode::kFailedPrecondition);
      REQUIRE(a->ReadMessage(reply, payload).ok());
      CHECK(a->handshake_hash() == b->handshake_hash());
    }
    SECTION("keeping the placeholder fails at the initiator") {
      Bytes reply(b->NextMessageSize(0));
      REQUIRE(b->WriteMessage({}, reply).ok());
      CHECK(a->ReadMessage(reply, payload).status().code() == absl::StatusCode::kUnauthenticated);
    }
  }
  Setup nn{HandshakePattern::kNN, CryptoBackend::kOpenSsl};
  auto plain = HandshakeState::Create(nn.Config(Role::kResponder));
  REQUIRE(plain.ok());
  CHECK(plain->SetPresharedKey(nn.psk).code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meshvpn::noise

namespace meshvpn::noise {
namespace {

TEST_CASE("A clone continues the handshake independently of the original") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    Setup s{HandshakePattern::kIKpsk2, backend};
    auto a = HandshakeState::Create(s.Config(Role::kInitiator));
    auto b = HandshakeState::Create(s.Config(Role::kResponder));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    Bytes msg(a->NextMessageSize(0));
    REQUIRE(a->WriteMessage({}, msg).ok());
    Bytes payload(msg.size());
    REQUIRE(b->ReadMessage(msg, payload).ok());
    Bytes reply(b->NextMessageSize(0));
    REQUIRE(b->WriteMessage({}, reply).ok());

    // A tampered reply fails a clone; the original still reads the real one.
    auto first_try = a->Clone();
    REQUIRE(first_try.ok());
    Bytes tampered = reply;
    tampered.back() ^= 1;
    CHECK(first_try->ReadMessage(tampered, payload).status().code() ==
          absl::StatusCode::kUnauthenticated);
    CHECK_FALSE(a->failed());
    auto second_try = a->Clone();
    REQUIRE(second_try.ok());
    REQUIRE(second_try->ReadMessage(reply, payload).ok());
    CHECK(second_try->handshake_hash() == b->handshake_hash());
    CHECK(a->message_index() == 1);  // the original did not move
  }
}

}  // namespace
}  // namespace meshvpn::noise
