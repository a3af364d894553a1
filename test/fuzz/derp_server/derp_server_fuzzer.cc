// The DERP server core fed a fuzzer-written script of connection events (open, raw bytes after
// the upgrade, a valid handshake for one of a few fixed client keys, close, output taken, time
// passing): no crash, every output is whole frames within the size the core may write, the
// registry's counts stay consistent, and a client that never reads stays bounded.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "meshvpn/base/clock.h"
#include "meshvpn/derp/codec.h"
#include "meshvpn/derp/frame.h"
#include "meshvpn/derp/handshake.h"
#include "meshvpn/derp/server_core.h"
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

class CountingTransport final : public ServerTransport {
 public:
  void WantWrite(ConnId) override {}
  void CloseConnection(ConnId) override { ++closes; }
  uint64_t closes = 0;
};

constexpr size_t kConns = 8;
constexpr size_t kControlBound = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const PrivateKey server_key = FixedKey(1);
  static const MeshKey mesh_key =
      MeshKey::Parse("6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8").value();
  FakeClock clock;
  CountingTransport transport;
  ServerOptions options;
  options.private_key = server_key;
  options.mesh_key = mesh_key;
  options.max_control_bytes = kControlBound;
  options.rate_limit_bytes_per_second = 100000;
  ServerCore core(std::move(options), &transport, &clock);
  // The ClientInfo frames of 4 fixed client keys, without and with the mesh key (made once:
  // sealing costs more than everything else an input does).
  static const std::vector<std::string> hellos = [&] {
    std::vector<std::string> frames;
    for (uint8_t k = 0; k < 4; ++k) {
      const PrivateKey client = FixedKey(static_cast<uint8_t>(2 + k));
      const PublicKey pub = x25519::DerivePublicKey(client).value();
      for (bool mesh : {false, true}) {
        ClientInfo info;
        info.version = 2;
        if (mesh) info.mesh_key = mesh_key;
        frames.push_back(MakeClientInfoFrame(client, pub, core.public_key(), info));
      }
    }
    return frames;
  }();

  size_t at = 0;
  while (at + 2 <= size) {
    const uint8_t op = data[at] % 6;
    const ConnId conn = 1 + data[at + 1] % kConns;
    at += 2;
    switch (op) {
      case 0:  // open
        core.OnConnectionOpened(conn, PeerEndpoint::FromIpv4(0x0a000000 + conn, 1000));
        break;
      case 1: {  // raw bytes: a length byte, then that many
        if (at >= size) break;
        const size_t n = std::min<size_t>(data[at], size - at - 1);
        core.OnData(conn, ByteSpan(data + at + 1, n));
        at += 1 + n;
        break;
      }
      case 2: {  // a valid ClientInfo for client key `k`, with or without the mesh key
        if (at >= size) break;
        const uint8_t k = data[at++];
        core.OnData(conn, AsBytes(hellos[(k % 4) * 2 + (k >> 7)]));
        break;
      }
      case 3:
        core.OnConnectionClosed(conn);
        break;
      case 4: {  // the driver takes output: whole frames, no frame the core may not write
        std::string out;
        core.TakeOutput(conn, &out, 1 + (at < size ? data[at] : 0) * 512);
        FrameReader reader(kMaxFrameLen);
        reader.Feed(AsBytes(out));
        size_t seen = 0;
        while (auto f = reader.Next()) {
          Check(f->payload.size() + kFrameHeaderLen <= kMaxForwardPacketFrame);
          seen += kFrameHeaderLen + f->payload.size();
        }
        Check(!reader.failed());
        Check(seen == out.size());
        break;
      }
      case 5:
        clock.Advance(std::chrono::seconds(1 + (at < size ? data[at] % 70 : 0)));
        core.HandleExpiry(clock.Now());
        break;
    }
    const ServerStats& s = core.stats();
    Check(core.connections() <= kConns);
    Check(s.current_clients <= core.connections());
    Check(s.current_keys == core.client_keys());
    Check(s.current_keys <= s.current_clients);
    Check(s.current_home_clients <= s.current_clients);
    Check(s.current_watchers <= s.current_clients);
    Check(s.handshakes <= s.accepts);
  }
  return 0;
}
