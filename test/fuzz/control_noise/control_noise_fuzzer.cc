// Fuzzes the control channel. Byte 0 even: the rest is an initiation frame for AcceptHandshake
// (it must fail cleanly unless it is a real one, which random bytes cannot be). Byte 0 odd: a
// real handshake first (keys made once), then a script of [op][len][bytes]:
//   0: the client seals `bytes` as one Envelope's encoding (so they reach DecodeEnvelope)
//   1: raw bytes into the server's stream (forged or broken frames)
//   2: the pending stream is delivered in pieces of len+1 bytes
// Invariants: no crash; an error is final; what the server decodes from untampered input is
// exactly the Envelopes the client sent that are valid; buffering stays bounded.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "meshvpn/control/noise_channel.h"
#include "meshvpn/control/protocol.h"
#include "meshvpn/x25519/x25519.h"

namespace {

using namespace meshvpn;           // NOLINT
using namespace meshvpn::control;  // NOLINT

void Check(bool c) {
  if (!c) std::abort();
}

struct Keys {
  x25519::KeyPair machine;
  x25519::KeyPair server;
};
const Keys& GetKeys() {
  static const Keys* keys = [] {
    auto m = x25519::GenerateKeyPair();
    auto s = x25519::GenerateKeyPair();
    Check(m.ok() && s.ok());
    return new Keys{*std::move(m), *std::move(s)};
  }();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Keys& keys = GetKeys();
  if ((data[0] & 1) == 0) {
    auto accepted = AcceptHandshake(keys.server.private_key, ByteSpan(data + 1, size - 1));
    Check(!accepted.ok());
    return 0;
  }
  auto hs = ClientHandshake::Start(keys.machine.private_key, keys.server.public_key);
  Check(hs.ok());
  auto accepted = AcceptHandshake(keys.server.private_key, AsBytes(hs->initiation()));
  Check(accepted.ok());
  auto client = hs->Finish(AsBytes(accepted->response));
  Check(client.ok());
  NoiseChannel& server = accepted->channel;

  std::string pending;
  std::vector<v1::Envelope> got;
  size_t expected = 0;
  bool tampered = false;
  bool failed = false;
  size_t pos = 1;
  while (pos + 2 <= size) {
    const uint8_t op = data[pos];
    const size_t len = std::min<size_t>(data[pos + 1] * (op & 0x80 ? 256 : 1), size - pos - 2);
    const std::string_view bytes(reinterpret_cast<const char*>(data + pos + 2), len);
    pos += 2 + len;
    switch (op % 3) {
      case 0:
        Check(client->SendEncoded(bytes, &pending).ok());
        if (DecodeEnvelope(AsBytes(bytes)).ok()) {
          ++expected;
        } else {
          tampered = true;  // the server must refuse it: the channel then ends
        }
        break;
      case 1:
        pending.append(bytes);
        tampered = true;
        break;
      case 2: {
        const size_t piece = len + 1;
        for (size_t at = 0; at < pending.size(); at += piece) {
          const absl::Status s =
              server.Receive(AsBytes(std::string_view(pending).substr(at, piece)), &got);
          if (!s.ok()) failed = true;
          Check(!failed || !s.ok());  // final
        }
        pending.clear();
        break;
      }
    }
    Check(server.buffered() <= kMaxEnvelopeBytes + 4 + kNoiseFrameHeader + kMaxNoiseFramePayload);
  }
  if (!pending.empty()) failed |= !server.Receive(AsBytes(pending), &got).ok();
  if (!tampered) {
    Check(!failed);
    Check(got.size() == expected);
  }
  return 0;
}
