// Fuzzes holepunch's wire format: no crash and no read outside the input (the replay build copies
// each input into an exactly sized heap block); the header peek and the decoders agree; every
// decoded message encodes to bytes that decode to the same message and encode to the same bytes;
// a MAC'd message whose MAC verifies under the fixed key re-encodes byte for byte.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "meshvpn/holepunch/messages.h"

namespace {

using namespace meshvpn::holepunch;

void Check(bool condition) {
  if (!condition) std::abort();
}

const SessionKey& FuzzKey() {
  static const SessionKey key = [] {
    std::array<uint8_t, 32> k{};
    for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0xA0 + i);
    return SessionKey::FromBytes(k);
  }();
  return key;
}

// If the input decodes as M: it had M's type, and Decode -> Encode -> Decode -> Encode gives
// equal messages and identical encodings.
template <typename M, typename Eq, typename Enc>
void Stable(meshvpn::ByteSpan input, const HeaderInfo& h, MessageType type, Eq eq, Enc enc) {
  M m;
  const ParseError e = Decode(input, &m);
  Check(!ToString(e).empty());
  if (e != ParseError::kOk) return;
  Check(h.ok() && h.type == type);
  std::array<uint8_t, 2048> w1{}, w2{};
  const size_t n1 = enc(m, w1);
  Check(n1 > 0 && n1 <= kMaxDatagramSize);
  M m2;
  Check(Decode(meshvpn::ByteSpan(w1.data(), n1), &m2) == ParseError::kOk);
  Check(eq(m, m2));
  const size_t n2 = enc(m2, w2);
  Check(n1 == n2 && std::equal(w1.begin(), w1.begin() + n1, w2.begin()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const meshvpn::ByteSpan input(data, size);
  const HeaderInfo h = PeekHeader(input);
  Check(!ToString(h.error).empty());
  if (h.ok()) Check(HasMagic(input) && size >= kHeaderSize);
  auto is = [&](MessageType t) { return h.ok() && h.type == t; };
  const SessionKey& key = FuzzKey();

  Stable<Register>(
      input, h, MessageType::kRegister,
      [](const Register& a, const Register& b) {
        return a.nonce == b.nonce && a.key == b.key && a.flags == b.flags && a.name == b.name &&
               a.peer == b.peer && a.candidates == b.candidates;
      },
      [](const Register& m, std::span<uint8_t> out) { return Encode(m, out); });
  Stable<RegisterAck>(
      input, h, MessageType::kRegisterAck,
      [](const RegisterAck& a, const RegisterAck& b) {
        return a.nonce == b.nonce && a.lease_seconds == b.lease_seconds && a.observed == b.observed;
      },
      [](const RegisterAck& m, std::span<uint8_t> out) { return Encode(m, out); });
  Stable<PeerInfo>(
      input, h, MessageType::kPeerInfo,
      [](const PeerInfo& a, const PeerInfo& b) {
        return a.nonce == b.nonce && a.key == b.key && a.flags == b.flags && a.name == b.name &&
               a.candidates == b.candidates;
      },
      [](const PeerInfo& m, std::span<uint8_t> out) { return Encode(m, out); });

  // The MAC'd probes: decoding checks the layout; re-encoding with the fixed key reproduces the
  // input exactly when (and only when) its MAC verifies and its header is canonical.
  Ping ping;
  if (Decode(input, &ping) == ParseError::kOk) {
    Check(is(MessageType::kPing) && size == kPingSize);
    std::array<uint8_t, kPingSize> w{};
    Check(Encode(ping, key, w) == kPingSize);
    if (VerifyMac(input, key) && data[6] == 0 && data[7] == 0) {
      Check(std::equal(w.begin(), w.end(), data));
    }
  }
  Pong pong;
  if (Decode(input, &pong) == ParseError::kOk) {
    Check(is(MessageType::kPong));
    Check(size == kPongMinSize || size == kPongMaxSize);
  }
  Message message;
  if (Decode(input, &message) == ParseError::kOk) {
    Check(is(MessageType::kMessage));
    Check(message.text.size() <= kMaxTextSize && size == kMessageOverhead + message.text.size());
    Check(message.text.empty() ||
          (message.text.data() >= data && message.text.data() < data + size));
  }
  MessageAck ack;
  if (Decode(input, &ack) == ParseError::kOk) Check(is(MessageType::kMessageAck));
  RegisterError err;
  if (Decode(input, &err) == ParseError::kOk) Check(is(MessageType::kRegisterError));
  (void)VerifyMac(input, key);
  return 0;
}
