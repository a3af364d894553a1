// Fuzzes noise's HandshakeState and CipherState with attacker-chosen messages: no crash, no read
// outside the input, and no accepted forgery. Byte 0 picks what reads the rest:
//   0 IKpsk2 responder, message 1      1 IKpsk2 initiator, message 2   2 IK responder, message 1
//   3 NN initiator, message 2          4 XX initiator, message 2       5 XX responder, message 3
//   6 IKpsk2 transport (responder's receiving CipherState, nonce 0)
// All keys (static, ephemeral, psk) are fixed, so every genuine message is deterministic. When a
// reader accepts a message with payload P, the genuine peer, driven to the same point and asked
// to send P, must produce exactly the same bytes: anything else is a forgery and aborts.
//
// Seeds: build this file with -DNOISE_FUZZ_SEED_GENERATOR and run it with the corpus directory
// as its argument; it writes the genuine message of each mode and a few broken variants.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "meshvpn/noise/handshake_state.h"
#include "meshvpn/x25519/x25519.h"

namespace {

using meshvpn::Bytes;
using meshvpn::ByteSpan;
using meshvpn::MutableByteSpan;
namespace noise = meshvpn::noise;
namespace x25519 = meshvpn::x25519;

void Check(bool condition) {
  if (!condition) std::abort();
}

x25519::PrivateKey Key(uint8_t seed) {
  std::array<uint8_t, 32> b{};
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(seed + 7 * i);
  return x25519::PrivateKey(b);
}

x25519::PublicKey Public(const x25519::PrivateKey& k) {
  auto pub = x25519::DerivePublicKey(k);
  Check(pub.ok());
  return *pub;
}

noise::HandshakeState Make(noise::HandshakePattern pattern, noise::Role role) {
  const noise::PatternSpec& spec = noise::GetPatternSpec(pattern);
  const bool initiator = role == noise::Role::kInitiator;
  noise::HandshakeConfig c;
  c.pattern = pattern;
  c.role = role;
  c.prologue = Bytes{'f', 'u', 'z', 'z'};
  if (initiator ? spec.initiator_has_static : spec.responder_has_static) {
    c.local_static = Key(initiator ? 1 : 2);
  }
  c.local_ephemeral = Key(initiator ? 3 : 4);
  if (initiator && spec.responder_static_premessage) c.remote_static = Public(Key(2));
  if (spec.has_psk) c.psk = x25519::PresharedKey(Key(5).ExposeSecretBytes());
  auto hs = noise::HandshakeState::Create(std::move(c));
  Check(hs.ok());
  return *std::move(hs);
}

// Writer sends `payload` to reader; both must succeed.
void Exchange(noise::HandshakeState& writer, noise::HandshakeState& reader, ByteSpan payload) {
  Bytes msg(writer.NextMessageSize(payload.size()));
  Check(writer.WriteMessage(payload, msg).ok());
  Bytes out(msg.size());
  Check(reader.ReadMessage(msg, out).ok());
}

struct Mode {
  noise::HandshakePattern pattern;
  noise::Role reader;
  size_t message;  // the index of the message the fuzzed input replaces
};

constexpr Mode kModes[] = {
    {noise::HandshakePattern::kIKpsk2, noise::Role::kResponder, 0},
    {noise::HandshakePattern::kIKpsk2, noise::Role::kInitiator, 1},
    {noise::HandshakePattern::kIK, noise::Role::kResponder, 0},
    {noise::HandshakePattern::kNN, noise::Role::kInitiator, 1},
    {noise::HandshakePattern::kXX, noise::Role::kInitiator, 1},
    {noise::HandshakePattern::kXX, noise::Role::kResponder, 2},
};
constexpr size_t kTransportMode = 6;

const uint8_t kHello[] = {'h', 'e', 'l', 'l', 'o'};

// Two fresh peers with every message before `m.message` exchanged genuinely.
struct Pair {
  noise::HandshakeState reader;
  noise::HandshakeState writer;
};
Pair Prepare(const Mode& m) {
  const noise::Role writer_role =
      m.reader == noise::Role::kInitiator ? noise::Role::kResponder : noise::Role::kInitiator;
  Pair p{Make(m.pattern, m.reader), Make(m.pattern, writer_role)};
  for (size_t i = 0; i < m.message; ++i) {
    if (p.writer.IsMyTurnToWrite())
      Exchange(p.writer, p.reader, kHello);
    else
      Exchange(p.reader, p.writer, kHello);
  }
  Check(p.writer.IsMyTurnToWrite());
  return p;
}

Bytes Genuine(const Mode& m, ByteSpan payload) {
  Pair p = Prepare(m);
  Bytes msg(p.writer.NextMessageSize(payload.size()));
  auto n = p.writer.WriteMessage(payload, msg);
  Check(n.ok());
  return msg;
}

void FuzzHandshake(const Mode& m, ByteSpan input) {
  Pair p = Prepare(m);
  Bytes payload(input.size());
  auto n = p.reader.ReadMessage(input, payload);
  if (!n.ok()) {
    Check(p.reader.failed());
    Bytes out(200);
    Check(!p.reader.WriteMessage({}, out).ok());
    Check(!p.reader.Split().ok());
    return;
  }
  // Accepted: it must be exactly what the genuine peer sends with this payload.
  const Bytes genuine = Genuine(m, ByteSpan(payload.data(), *n));
  Check(genuine.size() == input.size() &&
        std::equal(genuine.begin(), genuine.end(), input.begin()));
}

void FuzzTransport(ByteSpan input) {
  noise::HandshakeState i = Make(noise::HandshakePattern::kIKpsk2, noise::Role::kInitiator);
  noise::HandshakeState r = Make(noise::HandshakePattern::kIKpsk2, noise::Role::kResponder);
  Exchange(i, r, kHello);
  Exchange(r, i, {});
  auto ti = i.Split();
  auto tr = r.Split();
  Check(ti.ok() && tr.ok());
  Bytes msg(input.begin(), input.end());
  auto n = tr->receive.DecryptWithAd({}, msg);
  if (!n.ok()) {
    Check(tr->receive.failed());
    return;
  }
  Bytes genuine(msg.begin(), msg.begin() + static_cast<long>(*n));
  genuine.resize(*n + noise::kNoiseTagSize);
  auto sealed = ti->send.EncryptWithAd({}, genuine, *n);
  Check(sealed.ok() && genuine.size() == input.size() &&
        std::equal(genuine.begin(), genuine.end(), input.begin()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 4096) return 0;
  const ByteSpan input(data + 1, size - 1);
  const size_t mode = data[0] % (kTransportMode + 1);
  if (mode == kTransportMode)
    FuzzTransport(input);
  else
    FuzzHandshake(kModes[mode], input);
  return 0;
}

#ifdef NOISE_FUZZ_SEED_GENERATOR
#include <fstream>
#include <string>

namespace {
void Write(const std::string& dir, const std::string& name, uint8_t mode, const Bytes& body) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  const char* names[] = {"ikpsk2_msg1", "ikpsk2_msg2", "ik_msg1", "nn_msg2", "xx_msg2", "xx_msg3"};
  for (size_t m = 0; m < 6; ++m) {
    Bytes g = Genuine(kModes[m], kHello);
    Write(dir, std::string(names[m]) + ".bin", static_cast<uint8_t>(m), g);
    Bytes flipped = g;
    flipped[flipped.size() - 1] ^= 1;
    Write(dir, std::string(names[m]) + "_bad_tag.bin", static_cast<uint8_t>(m), flipped);
    Write(dir, std::string(names[m]) + "_truncated.bin", static_cast<uint8_t>(m),
          Bytes(g.begin(), g.begin() + static_cast<long>(g.size() / 2)));
  }
  // A genuine transport message (the initiator's first, "hello").
  noise::HandshakeState i = Make(noise::HandshakePattern::kIKpsk2, noise::Role::kInitiator);
  noise::HandshakeState r = Make(noise::HandshakePattern::kIKpsk2, noise::Role::kResponder);
  Exchange(i, r, kHello);
  Exchange(r, i, {});
  auto ti = i.Split();
  Bytes t(kHello, kHello + 5);
  t.resize(5 + noise::kNoiseTagSize);
  Check(ti->send.EncryptWithAd({}, t, 5).ok());
  Write(dir, "transport.bin", kTransportMode, t);
  Write(dir, "transport_short.bin", kTransportMode, Bytes(10, 0));
  Write(dir, "empty_mode0.bin", 0, Bytes());
  return 0;
}
#endif
