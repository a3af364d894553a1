// Speed of the WireGuard core without I/O: a whole handshake (initiation created and consumed,
// response created and consumed), transport messages sealed and opened by wg::Device at 64 and
// 1420 bytes, and allowed-IPs lookups among 10,000 random prefixes (v4 and v6).
//
// Run: build/bench/bench_wg   (the tunnel end to end, with wireguard-go beside it, is
// issue 7's bench/tunnel)
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "meshvpn/wg/allowedips.h"
#include "meshvpn/wg/device.h"
#include "meshvpn/wg/handshake.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::wg {
namespace {

x25519::KeyPair NewKeys() { return *x25519::GenerateKeyPair(); }

void BM_Handshake(benchmark::State& state) {
  const x25519::KeyPair initiator = NewKeys();
  const x25519::KeyPair responder = NewKeys();
  const x25519::PresharedKey psk;
  std::array<uint8_t, initiation::kSize> init{};
  std::array<uint8_t, response::kSize> resp{};
  const Tai64n now(Tai64n::kLabelBase + 1'700'000'000, 0);
  for (auto _ : state) {
    auto hs =
        InitiatorHandshake::Start(initiator.private_key, responder.public_key, psk, 1, now, init);
    auto consumed = ResponderHandshake::Consume(responder.private_key, init);
    auto responder_keys = consumed->Respond(psk, 2, resp);
    auto initiator_keys = hs->ConsumeResponse(resp);
    if (!initiator_keys.ok() || !responder_keys.ok()) state.SkipWithError("handshake failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Handshake);

// Two devices back to back; the output keeps the last datagram each side sent.
struct Holder final : DeviceOutput {
  explicit Holder(PacketPool* p) : pool(p) {}
  void SendDatagram(PacketBuffer* buffer, const udp::Endpoint&) override {
    if (held) pool->Release(held);
    held = buffer;
  }
  void DeliverPacket(PacketBuffer* buffer) override {
    ++delivered;
    pool->Release(buffer);
  }
  PacketPool* pool;
  PacketBuffer* held = nullptr;
  size_t delivered = 0;
};

struct Node {
  explicit Node(const Clock* clock) : pool(64, 2048), out(&pool), device(&pool, &out, clock) {}
  PacketPool pool;
  Holder out;
  Device device;
  x25519::KeyPair keys = NewKeys();
};

Bytes Ipv4(size_t size, std::array<uint8_t, 4> src, std::array<uint8_t, 4> dst) {
  Bytes p(size, 0x5a);
  p[0] = 0x45;
  p[2] = static_cast<uint8_t>(size >> 8);
  p[3] = static_cast<uint8_t>(size);
  std::memcpy(&p[12], src.data(), 4);
  std::memcpy(&p[16], dst.data(), 4);
  return p;
}

class Pair {
 public:
  Pair() : a_(&clock_), b_(&clock_) {
    Configure(a_, b_, "10.0.0.2/32", true);
    Configure(b_, a_, "10.0.0.1/32", false);
    // Handshake: a's first packet is staged; three hops complete it.
    Inject(a_, Ipv4(64, {10, 0, 0, 1}, {10, 0, 0, 2}));
    for (int i = 0; i < 3; ++i) {
      Move(a_, b_);
      Move(b_, a_);
    }
  }
  void Configure(Node& self, Node& other, const char* allowed, bool endpoint) {
    DeviceConfigUpdate update;
    update.private_key = self.keys.private_key;
    PeerConfigUpdate& p = update.peers.emplace_back();
    p.public_key = other.keys.public_key;
    p.allowed_ips.push_back(*tun::IpPrefix::Parse(allowed));
    if (endpoint) p.endpoint = udp::Endpoint::V4({192, 0, 2, 2}, 51820);
    (void)self.device.Apply(update, clock_.Now());
  }
  void Inject(Node& n, const Bytes& packet) {
    PacketBuffer* b = n.pool.Acquire();
    b->Reset();
    (void)b->SetSize(packet.size());
    std::memcpy(b->data(), packet.data(), packet.size());
    n.device.HandleTunPacket(b, clock_.Now());
  }
  // Hands what `from` sent last to `to`.
  void Move(Node& from, Node& to) {
    if (from.out.held == nullptr) return;
    PacketBuffer* b = to.pool.Acquire();
    b->Reset();
    (void)b->SetSize(from.out.held->size());
    std::memcpy(b->data(), from.out.held->data(), from.out.held->size());
    from.pool.Release(from.out.held);
    from.out.held = nullptr;
    to.device.HandleDatagram(b, udp::Endpoint::V4({192, 0, 2, 1}, 51820), clock_.Now());
  }
  Node& a() { return a_; }
  Node& b() { return b_; }

 private:
  RealClock clock_;
  Node a_;
  Node b_;
};

void BM_TransportSeal(benchmark::State& state) {
  Pair pair;
  const Bytes packet = Ipv4(state.range(0), {10, 0, 0, 1}, {10, 0, 0, 2});
  for (auto _ : state) pair.Inject(pair.a(), packet);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TransportSeal)->Arg(64)->Arg(1420);

// Seal at a, open at b: the open cost is this minus BM_TransportSeal.
void BM_TransportSealAndOpen(benchmark::State& state) {
  Pair pair;
  const Bytes packet = Ipv4(state.range(0), {10, 0, 0, 1}, {10, 0, 0, 2});
  const size_t before = pair.b().out.delivered;
  for (auto _ : state) {
    pair.Inject(pair.a(), packet);
    pair.Move(pair.a(), pair.b());
  }
  if (pair.b().out.delivered - before != static_cast<size_t>(state.iterations())) {
    state.SkipWithError("packets were dropped");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TransportSealAndOpen)->Arg(64)->Arg(1420);

void BM_AllowedIpsLookup(benchmark::State& state) {
  std::mt19937_64 rng(42);
  AllowedIps table;
  std::vector<tun::IpAddress> probes;
  for (int i = 0; i < 10'000; ++i) {
    const bool v6 = i % 4 == 0;
    std::array<uint8_t, 16> bytes{};
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    tun::IpPrefix prefix;
    prefix.address = tun::IpAddress::FromBytes(ByteSpan(bytes.data(), v6 ? 16 : 4));
    prefix.length = static_cast<int>(v6 ? 32 + rng() % 97 : 8 + rng() % 25);
    (void)table.Insert(prefix, static_cast<AllowedIps::PeerId>(i % 500));
    probes.push_back(prefix.address);
  }
  size_t i = 0, found = 0;
  for (auto _ : state) {
    found += table.Lookup(probes[i]).has_value();
    i = (i + 1) % probes.size();
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllowedIpsLookup);

}  // namespace
}  // namespace meshvpn::wg
