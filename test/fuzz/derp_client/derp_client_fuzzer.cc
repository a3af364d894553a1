// The DERP client core fed what a lying or broken server sends: arbitrary bytes cut at
// fuzzer-chosen points, optionally after a valid greeting and ServerInfo (first byte, bit 0),
// with sends and pings in between. No crash, output is always whole frames, and a core that
// failed stays failed and sends nothing more.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "meshvpn/base/clock.h"
#include "meshvpn/derp/client_core.h"
#include "meshvpn/derp/frame.h"
#include "meshvpn/derp/handshake.h"
#include "meshvpn/x25519/x25519.h"

namespace {

using namespace meshvpn;
using namespace meshvpn::derp;

void Check(bool ok) {
  if (!ok) std::abort();
}

PrivateKey FixedKey(uint8_t seed) {
  std::array<uint8_t, 32> bytes;
  bytes.fill(seed);
  return PrivateKey(bytes);
}

class Events final : public ClientEvents {
 public:
  void OnReady(const PublicKey&, const ServerInfo&) override { ++ready; }
  void OnPacket(const PublicKey&, ByteSpan data) override { bytes += data.size(); }
  void OnError(const absl::Status&) override { ++errors; }
  size_t bytes = 0;
  int errors = 0;
  int ready = 0;
};

void CheckWholeFrames(const std::string& out) {
  FrameReader reader(kMaxFrameWrite);
  reader.Feed(AsBytes(out));
  size_t seen = 0;
  while (auto f = reader.Next()) seen += kFrameHeaderLen + f->payload.size();
  Check(!reader.failed() && seen == out.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const PrivateKey server = FixedKey(1);
  static const PrivateKey client = FixedKey(2);
  static const PublicKey server_pub = x25519::DerivePublicKey(server).value();
  static const PublicKey client_pub = x25519::DerivePublicKey(client).value();
  static const std::string greeting =
      MakeServerKeyFrame(server_pub) + MakeServerInfoFrame(server, client_pub, ServerInfo{2, 0, 0});
  if (size < 2) return 0;
  FakeClock clock;
  Events events;
  ClientCore core(client, client_pub, ClientCoreOptions{}, &clock, &events);
  const bool handshake = data[0] & 1;
  const size_t piece = 1 + data[1] % 128;
  data += 2;
  size -= 2;
  if (handshake) core.Feed(AsBytes(greeting));
  bool was_failed = core.failed();
  for (size_t at = 0; at < size; at += piece) {
    const size_t n = std::min(piece, size - at);
    core.Feed(ByteSpan(data + at, n));
    // Something to send between reads: a packet to the server's own key, and a ping.
    core.Send(server_pub, ByteSpan(data + at, n));
    if (data[at] & 0x10) core.Ping();
    if (data[at] & 0x20) {
      clock.Advance(std::chrono::seconds(data[at] & 0x0f));
      core.HandleExpiry(clock.Now());
    }
    const std::string out = core.TakeOutput();
    CheckWholeFrames(out);
    if (was_failed) Check(out.empty());
    if (core.failed()) was_failed = true;
  }
  return 0;
}
