// Fuzzes wg::Device's receive path. Every input starts from the same state: a device ("us") and
// its peer ("them") with fixed static keys and an established session (them -> us). The input is
// a script of steps, each a selector byte, a 2-byte big-endian length and that many bytes:
//   0  a raw datagram for us, from the peer's endpoint
//   1  the same, with mac1 recomputed for our public key (a 148- or 92-byte message then passes
//      the mac1 check and reaches the handshake code)
//   2  an inner packet that the peer seals on its session and sends us (reaches the replay
//      window, the inner header parser and the allowed-IPs source check)
//   3  a clock step of (first byte) x 100 ms, then the timers run
//   4  a raw datagram from another endpoint
// Checks: no crash, no leak, every buffer back in the pools, counters consistent.
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <optional>

#include "meshvpn/base/clock.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/wg/cookie.h"
#include "meshvpn/wg/device.h"
#include "meshvpn/x25519/x25519.h"

namespace {

using namespace meshvpn;
using namespace meshvpn::wg;

void Check(bool condition) {
  if (!condition) std::abort();
}

struct Queue final : DeviceOutput {
  explicit Queue(PacketPool* p) : pool(p) {}
  void SendDatagram(PacketBuffer* buffer, const udp::Endpoint&) override { sent.push_back(buffer); }
  void DeliverPacket(PacketBuffer* buffer) override {
    ++delivered;
    pool->Release(buffer);
  }
  void DropAll() {
    for (PacketBuffer* b : sent) pool->Release(b);
    sent.clear();
  }
  PacketPool* pool;
  std::deque<PacketBuffer*> sent;
  size_t delivered = 0;
};

x25519::PrivateKey FixedKey(uint8_t seed) {
  std::array<uint8_t, 32> bytes{};
  bytes.fill(seed);
  return x25519::PrivateKey(bytes);
}

struct Node {
  Node(const FakeClock* clock, uint8_t seed) : pool(32, 2048), out(&pool) {
    device.emplace(&pool, &out, clock);
    key = FixedKey(seed);
    public_key = *x25519::DerivePublicKey(key);
  }
  PacketPool pool;
  Queue out;
  std::optional<Device> device;  // reset first at the end, so the pool can be checked
  x25519::PrivateKey key;
  x25519::PublicKey public_key;
};

void Configure(Node& self, const Node& peer, const char* allowed, const udp::Endpoint* endpoint,
               MonoTime now) {
  DeviceConfigUpdate update;
  update.private_key = self.key;
  PeerConfigUpdate& p = update.peers.emplace_back();
  p.public_key = peer.public_key;
  p.allowed_ips.push_back(*tun::IpPrefix::Parse(allowed));
  if (endpoint) p.endpoint = *endpoint;
  Check(self.device->Apply(update, now).ok());
}

PacketBuffer* Load(PacketPool& pool, ByteSpan bytes) {
  PacketBuffer* b = pool.Acquire();
  if (b == nullptr) return nullptr;
  b->Reset();
  if (!b->SetSize(bytes.size())) {
    pool.Release(b);
    return nullptr;
  }
  std::copy(bytes.begin(), bytes.end(), b->data());
  return b;
}

// Moves everything `from` sent into `to` (the in-memory network).
void Pump(Node& from, Node& to, const udp::Endpoint& source, MonoTime now) {
  while (!from.out.sent.empty()) {
    PacketBuffer* b = from.out.sent.front();
    from.out.sent.pop_front();
    if (PacketBuffer* copy = Load(to.pool, b->span())) to.device->HandleDatagram(copy, source, now);
    from.pool.Release(b);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FakeClock clock;
  const udp::Endpoint us_at = udp::Endpoint::V4({192, 0, 2, 1}, 51820);
  const udp::Endpoint them_at = udp::Endpoint::V4({192, 0, 2, 2}, 51820);
  const udp::Endpoint stranger = udp::Endpoint::V4({198, 51, 100, 9}, 4242);
  Node us(&clock, 0x11);
  Node them(&clock, 0x22);
  Configure(us, them, "10.0.0.2/32", nullptr, clock.Now());
  Configure(them, us, "0.0.0.0/0", &us_at, clock.Now());

  // Establish them -> us: a packet from them starts the handshake.
  const uint8_t first[20] = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1};
  them.device->HandleTunPacket(Load(them.pool, first), clock.Now());
  for (int i = 0; i < 3; ++i) {
    Pump(them, us, them_at, clock.Now());
    Pump(us, them, us_at, clock.Now());
  }
  Check(us.out.delivered == 1);
  auto mac_maker = CookieGenerator::Create(us.public_key.bytes());
  Check(mac_maker.ok());

  size_t pos = 0;
  while (pos + 3 <= size) {
    const uint8_t selector = data[pos] % 5;
    const size_t length = std::min<size_t>((size_t{data[pos + 1]} << 8) | data[pos + 2], 1600);
    pos += 3;
    const size_t n = std::min(length, size - pos);
    const ByteSpan bytes(data + pos, n);
    pos += n;
    switch (selector) {
      case 0:
      case 4:
        if (PacketBuffer* b = Load(us.pool, bytes)) {
          us.device->HandleDatagram(b, selector == 0 ? them_at : stranger, clock.Now());
        }
        break;
      case 1:
        if (PacketBuffer* b = Load(us.pool, bytes)) {
          if (b->size() == initiation::kSize || b->size() == response::kSize) {
            (void)mac_maker->AddMacs(b->span(), clock.Now());
          }
          us.device->HandleDatagram(b, them_at, clock.Now());
        }
        break;
      case 2:
        if (PacketBuffer* b = Load(them.pool, bytes)) {
          them.device->HandleTunPacket(b, clock.Now());
          Pump(them, us, them_at, clock.Now());
        }
        break;
      case 3:
        clock.Advance(std::chrono::milliseconds(100) * (n > 0 ? bytes[0] : 1));
        us.device->HandleExpiry(clock.Now());
        them.device->HandleExpiry(clock.Now());
        break;
    }
    // What we answer goes back to them (so their side of the protocol runs too), then is gone.
    Pump(us, them, us_at, clock.Now());
    them.out.DropAll();
  }
  us.out.DropAll();
  them.out.DropAll();
  const DeviceStats& stats = us.device->stats();
  Check(stats.packets_received + stats.keepalives_received <= stats.datagrams_received);
  // Every buffer is back in its pool once the devices (holding staged packets) are gone.
  us.device.reset();
  them.device.reset();
  Check(us.pool.available() == us.pool.capacity());
  Check(them.pool.available() == them.pool.capacity());
  return 0;
}
