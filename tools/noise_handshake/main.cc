// noise_handshake: a Noise handshake (WireGuard's IKpsk2 by default) between two processes over
// UDP, printed token by token, then encrypted transport messages both ways (deep dive project 6,
// C project 4).
#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/tool_init.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/noise/handshake_state.h"
#include "meshvpn/udp/uv_udp_socket.h"
#include "meshvpn/x25519/x25519.h"

ABSL_FLAG(std::string, role, "", "initiator (sends the first message) or responder (waits for it)");
ABSL_FLAG(std::string, pattern, "IKpsk2",
          "Noise handshake pattern: IKpsk2 (WireGuard's), IK, NN or XX");
ABSL_FLAG(std::string, listen, "",
          "local UDP address, e.g. \":51820\" (every address, port 51820). The responder needs "
          "one; the initiator defaults to any free port.");
ABSL_FLAG(std::string, peer, "",
          "the responder's address, e.g. 192.168.1.100:51820 (initiator only; numeric)");
ABSL_FLAG(std::string, private_key_file, "",
          "file holding our static private key in base64 (as `wg genkey` or -genkey writes it). "
          "Empty: a fresh key is generated for this run.");
ABSL_FLAG(std::string, peer_public_key, "",
          "the peer's static public key, base64. Required by an IK/IKpsk2 initiator; for the "
          "other roles it is checked against the key the handshake reveals.");
ABSL_FLAG(std::string, psk_file, "",
          "file holding the preshared key in base64 (IKpsk2 only). Empty: 32 zero bytes, as "
          "WireGuard uses when no PresharedKey is set.");
ABSL_FLAG(int32_t, messages, 2, "transport messages to send each way after the handshake");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "give up after this long");
ABSL_FLAG(std::string, backend, "openssl", "crypto backend: openssl or ref (meshvpn's own code)");
ABSL_FLAG(bool, genkey, false, "print a new private key (base64) and exit");
ABSL_FLAG(bool, pubkey, false, "print the public key of -private-key-file (base64) and exit");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage = R"(run a Noise handshake over UDP, step by step, then talk encrypted.

Two processes, an initiator and a responder, each with a static X25519 key pair (their
identity), run the Noise handshake WireGuard uses, Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s:

  <- s                 (the initiator already knows the responder's public key)
  -> e, es, s, ss      message 1: fresh ephemeral key, DH(e, rs), our static key
                                  (encrypted), DH(s, rs); payload: a TAI64N timestamp
  <- e, ee, se, psk    message 2: responder's ephemeral, DH(e, re), DH(s, re), the psk

Every step mixes into a chaining key (HKDF over BLAKE2s) and a handshake hash h. Both
sides end with the same h and two ChaCha20-Poly1305 keys (one per direction); the
ephemeral keys are then thrown away: that is forward secrecy. The program prints each
token with h shortened, key ids (a hash of each key, never the key), then sends
-messages encrypted messages each way.

Keys:
  noise_handshake -genkey > a.key                          new private key
  noise_handshake -pubkey -private-key-file a.key          its public key

Examples:
  noise_handshake -role responder -listen :51820 -private-key-file b.key
  noise_handshake -role initiator -peer 192.168.1.100:51820 -private-key-file a.key \
                  -peer-public-key <b's public key>
  add --pattern XX (or NN, IK) to both sides to try other Noise patterns.

A wrong -peer-public-key or psk makes the handshake fail ("Handshake failed: ...",
exit status 1): the tags do not match, nothing is decrypted.

Flags:)";

// Our own small framing over UDP (not WireGuard's):
//   handshake: 0x01 | message index (1 byte) | Noise handshake message
//   transport: 0x02 | nonce (8 bytes, little-endian) | ciphertext || tag
constexpr uint8_t kTypeHandshake = 1;
constexpr uint8_t kTypeTransport = 2;
constexpr size_t kTransportHeader = 9;

std::string Short(ByteSpan bytes) {
  const std::string hex = HexEncode(bytes);
  return hex.substr(0, 6) + "..." + hex.substr(hex.size() - 4);
}

std::string TokenMeaning(noise::Token token) {
  switch (token) {
    case noise::Token::kE:
      return "ephemeral public key, in clear (fresh for this handshake)";
    case noise::Token::kS:
      return "static public key, encrypted (identity hiding)";
    case noise::Token::kEE:
      return "DH(initiator ephemeral, responder ephemeral) -> chaining key";
    case noise::Token::kES:
      return "DH(initiator ephemeral, responder static) -> chaining key";
    case noise::Token::kSE:
      return "DH(initiator static, responder ephemeral) -> chaining key";
    case noise::Token::kSS:
      return "DH(initiator static, responder static) -> chaining key";
    case noise::Token::kPsk:
      return "preshared key -> chaining key and h";
  }
  return "";
}

class Printer : public noise::HandshakeObserver {
 public:
  void OnToken(size_t, bool, noise::Token token, const noise::Blake2sHash& h) override {
    std::printf("  %-4s %-62s h=%s\n", std::string(noise::ToString(token)).c_str(),
                TokenMeaning(token).c_str(), Short(h).c_str());
  }
  void OnPayload(size_t, bool writing, size_t size, const noise::Blake2sHash& h) override {
    std::printf(
        "  %-4s %-62s h=%s\n", "",
        absl::StrFormat("payload: %d bytes %s", size, writing ? "sealed" : "opened").c_str(),
        Short(h).c_str());
  }
};

// TAI64N: 8 bytes seconds + 2^62, 4 bytes nanoseconds, big-endian (WireGuard's timestamp).
Bytes Tai64nNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  Bytes out(12);
  const uint64_t secs = 0x400000000000000aULL + static_cast<uint64_t>(ts.tv_sec);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(secs >> (56 - 8 * i));
  const uint32_t ns = static_cast<uint32_t>(ts.tv_nsec);
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(ns >> (24 - 8 * i));
  return out;
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot read %s", path));
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

struct Options {
  noise::Role role;
  noise::HandshakePattern pattern;
  CryptoBackend backend;
  std::optional<x25519::PublicKey> expected_peer;
  std::optional<udp::Endpoint> peer;
  int messages;
};

class Session : public udp::DatagramReceiver {
 public:
  Session(uv_loop_t* loop, Options options, noise::HandshakeState hs)
      : loop_(loop), options_(std::move(options)), hs_(std::move(hs)) {}

  absl::Status Start(udp::UdpSocket* socket, absl::Duration timeout) {
    socket_ = socket;
    auto timer = UvTimer::Create(loop_, uv_timer_init);
    if (!timer.ok()) return timer.status();
    timer_ = std::move(*timer);
    timer_.set_owner(this);
    uv_timer_start(timer_.get(), &Session::OnTimer, 1000, 1000);
    deadline_ = absl::Now() + timeout;
    if (options_.role == noise::Role::kInitiator) {
      peer_ = options_.peer;
      WriteNext();
    } else {
      std::printf("Waiting for a handshake on %s ...\n",
                  socket_->local_endpoint().ToString().c_str());
    }
    return socket_->Start(this);
  }

  int exit_code() const { return exit_code_; }

  void OnDatagrams(std::span<udp::Datagram> batch) override {
    for (udp::Datagram& d : batch) {
      if (done_) return;
      Handle(d.buffer->span(), d.from);
    }
  }

 private:
  static void OnTimer(uv_timer_t* t) { static_cast<Session*>(t->data)->Tick(); }

  void Tick() {
    if (done_) return;
    if (absl::Now() > deadline_) {
      Finish(1, "timed out (is the peer running and reachable?)");
      return;
    }
    // Nothing heard yet: resend our last handshake message (UDP may have lost it).
    if (!transport_ && !last_sent_.empty() && peer_) socket_->SendTo(last_sent_, *peer_);
  }

  void Finish(int code, const std::string& why) {
    if (done_) return;
    done_ = true;
    exit_code_ = code;
    if (code != 0) std::printf("%s\n", why.c_str());
    std::fflush(stdout);
    socket_->Stop();
    timer_.Reset();
  }

  void Send(ByteSpan data) {
    if (!socket_->SendTo(data, *peer_))
      std::printf("(send to %s failed)\n", peer_->ToString().c_str());
  }

  void PrintMessageHeader(bool writing) {
    const auto& m = hs_.spec().messages[hs_.message_index()];
    std::string tokens;
    for (noise::Token t : m.tokens) {
      if (!tokens.empty()) tokens += ", ";
      tokens += std::string(noise::ToString(t));
    }
    std::printf("%s message %zu: %s %s\n", writing ? "Sending" : "Received",
                hs_.message_index() + 1, m.from_initiator ? "->" : "<-", tokens.c_str());
  }

  void WriteNext() {
    const bool first = hs_.message_index() == 0;
    const bool timestamp = first && hs_.spec().responder_static_premessage;
    const Bytes payload = timestamp ? Tai64nNow() : Bytes();
    PrintMessageHeader(true);
    Bytes out(2 + hs_.NextMessageSize(payload.size()));
    out[0] = kTypeHandshake;
    out[1] = static_cast<uint8_t>(hs_.message_index());
    auto n = hs_.WriteMessage(payload, MutableByteSpan(out).subspan(2));
    if (!n.ok()) return Finish(1, absl::StrFormat("Handshake failed: %s", n.status().message()));
    if (timestamp)
      std::printf("  [Encrypted payload: TAI64N timestamp, %zu bytes]\n", payload.size());
    out.resize(2 + *n);
    last_sent_ = out;
    Send(out);
    AfterMessage();
  }

  void AfterMessage() {
    if (!hs_.IsComplete()) return;
    auto t = hs_.Split();
    if (!t.ok()) return Finish(1, absl::StrFormat("Handshake failed: %s", t.status().message()));
    transport_ = std::move(*t);
    std::printf("Handshake complete!\n");
    std::printf("Handshake hash: %s\n", HexEncode(transport_->handshake_hash).c_str());
    std::printf("Sending cipher key:   id %s (BLAKE2s of the key; the key is never printed)\n",
                Short(transport_->send.KeyId()).c_str());
    std::printf("Receiving cipher key: id %s\n", Short(transport_->receive.KeyId()).c_str());
    std::printf("✓ Forward secrecy established (ephemeral keys erased)\n");
    std::printf("Transport mode active:\n");
    if (options_.role == noise::Role::kInitiator) SendTransport();
  }

  void SendTransport() {
    const bool initiator = options_.role == noise::Role::kInitiator;
    const std::string text = absl::StrFormat(
        "%s #%d", initiator ? "Hello, secure world!" : "Hello back, securely!", sent_ + 1);
    Bytes out(kTransportHeader + text.size() + noise::kNoiseTagSize);
    out[0] = kTypeTransport;
    const uint64_t nonce = transport_->send.nonce();
    for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<uint8_t>(nonce >> (8 * i));
    std::copy(text.begin(), text.end(), out.begin() + kTransportHeader);
    auto n = transport_->send.EncryptWithAd({}, MutableByteSpan(out).subspan(kTransportHeader),
                                            text.size());
    if (!n.ok()) return Finish(1, std::string(n.status().message()));
    Send(out);
    ++sent_;
    std::printf("Sending: \"%s\" (%zu bytes on the wire)\n", text.c_str(), out.size());
    if (!initiator && sent_ >= options_.messages) Done();
  }

  void Done() {
    std::printf("✓ %d encrypted messages each way\n", options_.messages);
    Finish(0, "");
  }

  void Handle(MutableByteSpan data, const udp::Endpoint& from) {
    if (data.empty()) return;
    if (!peer_) peer_ = from;
    if (data[0] == kTypeHandshake && data.size() >= 2) {
      if (transport_ || hs_.IsMyTurnToWrite() || data[1] != hs_.message_index()) {
        // A retransmission of the message we already answered: answer again.
        if (!last_sent_.empty() && data[1] + 1 == last_sent_[1]) Send(last_sent_);
        return;
      }
      if (hs_.message_index() == 0) {
        std::printf("Handshake from %s\n", from.ToString().c_str());
      }
      PrintMessageHeader(false);
      Bytes payload(data.size());
      auto n = hs_.ReadMessage(data.subspan(2), payload);
      if (!n.ok()) {
        return Finish(1, absl::StrFormat("Handshake failed: %s", n.status().message()));
      }
      if (*n > 0)
        std::printf("  [Decrypted payload: %zu bytes]\n", *n);
      else if (hs_.role() == noise::Role::kInitiator) {
        std::printf("  [Decrypted: responder confirms (empty payload, tag verified)]\n");
      }
      if (!CheckPeerIdentity()) return;
      if (hs_.IsComplete()) {
        AfterMessage();
      } else if (hs_.IsMyTurnToWrite()) {
        WriteNext();
      }
      return;
    }
    if (data[0] == kTypeTransport && data.size() >= kTransportHeader && transport_) {
      uint64_t nonce = 0;
      for (int i = 0; i < 8; ++i) nonce |= uint64_t{data[1 + i]} << (8 * i);
      transport_->receive.SetNonce(nonce);
      auto n = transport_->receive.DecryptWithAd({}, data.subspan(kTransportHeader));
      if (!n.ok()) return Finish(1, absl::StrFormat("Transport failed: %s", n.status().message()));
      ++received_;
      std::printf("Received: \"%s\"\n",
                  meshvpn::ToString(data.subspan(kTransportHeader, *n)).c_str());
      if (options_.role == noise::Role::kResponder) {
        SendTransport();
      } else if (received_ >= options_.messages) {
        Done();
      } else {
        SendTransport();
      }
    }
  }

  bool CheckPeerIdentity() {
    if (checked_identity_ || !hs_.remote_static()) return true;
    checked_identity_ = true;
    const x25519::PublicKey& rs = *hs_.remote_static();
    if (options_.expected_peer && !(rs == *options_.expected_peer)) {
      Finish(1, absl::StrFormat("Handshake failed: the peer's static key %s is not "
                                "-peer-public-key",
                                rs.ToBase64()));
      return false;
    }
    std::printf("  Peer static key: %s (%s)\n", rs.ToBase64().c_str(),
                options_.expected_peer ? "matches -peer-public-key" : "not checked");
    return true;
  }

  uv_loop_t* loop_;
  Options options_;
  noise::HandshakeState hs_;
  std::optional<noise::TransportState> transport_;
  udp::UdpSocket* socket_ = nullptr;
  UvTimer timer_;
  absl::Time deadline_;
  std::optional<udp::Endpoint> peer_;
  Bytes last_sent_;
  bool checked_identity_ = false;
  bool done_ = false;
  int exit_code_ = 1;
  int sent_ = 0;
  int received_ = 0;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "noise_handshake: %s\n", message.c_str());
  return 2;
}

int Run(int argc, char** argv) {
  const std::vector<std::string> rest = InitTool(argc, argv, kUsage);
  if (!rest.empty()) return Fail(absl::StrFormat("unexpected argument \"%s\"", rest[0]));
  setvbuf(stdout, nullptr, _IOLBF, 0);

  auto backend = ParseCryptoBackend(absl::GetFlag(FLAGS_backend));
  if (!backend.ok()) return Fail(std::string(backend.status().message()));

  if (absl::GetFlag(FLAGS_genkey)) {
    auto key = x25519::PrivateKey::Generate();
    if (!key.ok()) return Fail(std::string(key.status().message()));
    std::string text = key->ExportBase64ForConfig();
    std::printf("%s\n", text.c_str());
    SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(text.data()), text.size()));
    return 0;
  }

  std::optional<x25519::PrivateKey> static_key;
  const std::string key_file = absl::GetFlag(FLAGS_private_key_file);
  if (!key_file.empty()) {
    auto text = ReadKeyFile(key_file);
    if (!text.ok()) return Fail(std::string(text.status().message()));
    auto key = x25519::PrivateKey::FromBase64(*text);
    SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(text->data()), text->size()));
    if (!key.ok()) {
      return Fail(absl::StrFormat("%s: %s", key_file, key.status().message()));
    }
    static_key = *std::move(key);
  }
  if (absl::GetFlag(FLAGS_pubkey)) {
    if (!static_key) return Fail("-pubkey needs -private-key-file");
    auto pub = x25519::DerivePublicKey(*static_key, *backend);
    if (!pub.ok()) return Fail(std::string(pub.status().message()));
    std::printf("%s\n", pub->ToBase64().c_str());
    return 0;
  }

  Options options;
  options.backend = *backend;
  options.messages = absl::GetFlag(FLAGS_messages);
  const std::string role = absl::GetFlag(FLAGS_role);
  if (role == "initiator") {
    options.role = noise::Role::kInitiator;
  } else if (role == "responder") {
    options.role = noise::Role::kResponder;
  } else {
    return Fail("-role must be initiator or responder (see --help)");
  }
  auto pattern = noise::ParseHandshakePattern(absl::GetFlag(FLAGS_pattern));
  if (!pattern.ok()) return Fail(std::string(pattern.status().message()));
  options.pattern = *pattern;
  const noise::PatternSpec& spec = noise::GetPatternSpec(*pattern);
  const bool initiator = options.role == noise::Role::kInitiator;

  const std::string peer_key = absl::GetFlag(FLAGS_peer_public_key);
  if (!peer_key.empty()) {
    auto pub = x25519::PublicKey::FromBase64(peer_key);
    if (!pub.ok()) return Fail(absl::StrFormat("-peer-public-key: %s", pub.status().message()));
    options.expected_peer = *pub;
  }
  if (initiator) {
    auto peer = udp::Endpoint::Parse(absl::GetFlag(FLAGS_peer));
    if (!peer.ok())
      return Fail("the initiator needs -peer host:port (numeric), e.g. 10.0.0.2:51820");
    options.peer = *peer;
  } else if (absl::GetFlag(FLAGS_listen).empty()) {
    return Fail("the responder needs -listen, e.g. -listen :51820");
  }

  noise::HandshakeConfig config;
  config.pattern = *pattern;
  config.role = options.role;
  config.backend = *backend;
  const bool needs_static = initiator ? spec.initiator_has_static : spec.responder_has_static;
  const bool needs_rs = initiator && spec.responder_static_premessage;
  if (needs_rs && !options.expected_peer) {
    return Fail(
        absl::StrFormat("an %s initiator must know the responder's static public key: "
                        "pass -peer-public-key",
                        std::string(spec.name)));
  }

  std::printf("Noise_%s Handshake Demo (%s, %s backend):\n", std::string(spec.name).c_str(),
              std::string(spec.protocol_name).c_str(), std::string(ToString(*backend)).c_str());
  std::printf("%s (me):\n", initiator ? "Initiator" : "Responder");
  if (needs_static) {
    const bool generated = !static_key;
    if (generated) {
      auto kp = x25519::GenerateKeyPair(*backend);
      if (!kp.ok()) return Fail(std::string(kp.status().message()));
      static_key = std::move(kp->private_key);
    }
    auto pub = x25519::DerivePublicKey(*static_key, *backend);
    if (!pub.ok()) return Fail(std::string(pub.status().message()));
    std::printf("Static keypair: %s (public key %s)\n",
                generated ? "generated" : "loaded from -private-key-file", pub->ToBase64().c_str());
    config.local_static = std::move(static_key);
  } else {
    std::printf("Static keypair: none (%s uses none)\n", std::string(spec.name).c_str());
  }
  std::printf("Ephemeral keypair: generated when our \"e\" token is written\n");
  if (needs_rs) {
    config.remote_static = options.expected_peer;
    std::printf("Peer static pubkey: known (%s)\n", options.expected_peer->ToBase64().c_str());
  } else if (options.expected_peer) {
    std::printf("Peer static pubkey: expected %s (checked when the handshake reveals it)\n",
                options.expected_peer->ToBase64().c_str());
  }
  if (spec.has_psk) {
    const std::string psk_file = absl::GetFlag(FLAGS_psk_file);
    if (psk_file.empty()) {
      config.psk = x25519::PresharedKey();
      std::printf("Pre-shared key: none (32 zero bytes, as WireGuard without PresharedKey)\n");
    } else {
      auto text = ReadKeyFile(psk_file);
      if (!text.ok()) return Fail(std::string(text.status().message()));
      auto psk = x25519::PresharedKey::FromBase64(*text);
      SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(text->data()), text->size()));
      if (!psk.ok()) return Fail(absl::StrFormat("%s: %s", psk_file, psk.status().message()));
      config.psk = *std::move(psk);
      std::printf("Pre-shared key: configured\n");
    }
  }
  Printer printer;
  config.observer = &printer;
  auto hs = noise::HandshakeState::Create(std::move(config));
  if (!hs.ok()) return Fail(std::string(hs.status().message()));

  std::string listen = absl::GetFlag(FLAGS_listen);
  if (listen.empty()) listen = ":0";
  auto bind = udp::Endpoint::Parse(listen);
  if (!bind.ok()) return Fail(absl::StrFormat("-listen: %s", bind.status().message()));

  UvLoop loop;
  int code = 1;
  {
    PacketPool pool(64, 2048);
    udp::UdpSocketOptions socket_options;
    socket_options.bind = *bind;
    auto socket = udp::UdpSocket::Open(loop.get(), &pool, socket_options);
    if (!socket.ok()) return Fail(std::string(socket.status().message()));
    Session session(loop.get(), options, *std::move(hs));
    absl::Status st = session.Start(socket->get(), absl::GetFlag(FLAGS_timeout));
    if (!st.ok()) return Fail(std::string(st.message()));
    loop.Run();
    code = session.exit_code();
  }
  loop.Close();
  return code;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Run(argc, argv); }
