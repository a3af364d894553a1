// Two wg::Devices wired back to back in memory, with a FakeClock: the fixture of the device
// tests. Datagrams wait in each side's outbox until the test delivers (or drops, replays, moves)
// them, so every interleaving is under the test's control.
#pragma once

#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "meshvpn/base/clock.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/wg/device.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::wg::test {

struct SentDatagram {
  Bytes bytes;
  udp::Endpoint to;
};

class CollectingOutput final : public DeviceOutput {
 public:
  explicit CollectingOutput(PacketPool* pool) : pool_(pool) {}
  void SendDatagram(PacketBuffer* buffer, const udp::Endpoint& to) override {
    if (hold_buffers) {  // no allocation: the allocation test moves them by hand
      REQUIRE(held_count < held.size());
      held[held_count++] = buffer;
      return;
    }
    outbox.push_back({Bytes(buffer->span().begin(), buffer->span().end()), to});
    pool_->Release(buffer);
  }
  void DeliverPacket(PacketBuffer* buffer) override {
    ++delivered_count;
    if (!hold_buffers) delivered.emplace_back(buffer->span().begin(), buffer->span().end());
    pool_->Release(buffer);
  }
  bool hold_buffers = false;
  std::array<PacketBuffer*, 64> held{};
  size_t held_count = 0;
  size_t delivered_count = 0;
  std::deque<SentDatagram> outbox;
  std::vector<Bytes> delivered;

 private:
  PacketPool* pool_;
};

// One side: keys, pool, output, device.
struct Side {
  Side(const FakeClock* clock, udp::Endpoint self, DeviceOptions options = {})
      : pool(64, 2048),
        output(&pool),
        device(&pool, &output, clock, std::move(options)),
        endpoint(self) {
    auto kp = x25519::GenerateKeyPair();
    REQUIRE(kp.ok());
    private_key = kp->private_key;
    public_key = kp->public_key;
    DeviceConfigUpdate update;
    update.private_key = private_key;
    REQUIRE(device.Apply(update, clock->Now()).ok());
  }
  PacketPool pool;
  CollectingOutput output;
  Device device;
  udp::Endpoint endpoint;
  x25519::PrivateKey private_key;
  x25519::PublicKey public_key;
};

inline tun::IpPrefix Prefix(const std::string& text) {
  auto p = tun::IpPrefix::Parse(text);
  REQUIRE(p.ok());
  return *p;
}

// An IPv4 UDP-ish packet from `src` to `dst` with `payload_size` bytes after the 20-byte header.
inline Bytes Ipv4Packet(std::array<uint8_t, 4> src, std::array<uint8_t, 4> dst, size_t payload_size,
                        uint8_t fill = 0xab) {
  Bytes p(20 + payload_size, fill);
  p[0] = 0x45;
  p[1] = 0;
  p[2] = static_cast<uint8_t>((20 + payload_size) >> 8);
  p[3] = static_cast<uint8_t>(20 + payload_size);
  p[8] = 64;
  p[9] = 17;
  std::copy(src.begin(), src.end(), p.begin() + 12);
  std::copy(dst.begin(), dst.end(), p.begin() + 16);
  return p;
}

// Alice (10.0.0.1, 192.0.2.1:51820) and Bob (10.0.0.2, 192.0.2.2:51820), each the other's peer.
struct Pair {
  FakeClock clock;  // first: the sides read it while they are built
  explicit Pair(DeviceOptions bob_options = {}, bool alice_knows_bob_endpoint = true,
                bool bob_knows_alice_endpoint = false)
      : alice(&clock, udp::Endpoint::V4({192, 0, 2, 1}, 51820)),
        bob(&clock, udp::Endpoint::V4({192, 0, 2, 2}, 51820), std::move(bob_options)) {
    Configure(alice, bob, "10.0.0.2/32", alice_knows_bob_endpoint);
    Configure(bob, alice, "10.0.0.1/32", bob_knows_alice_endpoint);
  }

  void Configure(Side& self, Side& other, const std::string& allowed, bool with_endpoint,
                 std::optional<x25519::PresharedKey> psk = std::nullopt) {
    DeviceConfigUpdate update;
    PeerConfigUpdate& peer = update.peers.emplace_back();
    peer.public_key = other.public_key;
    peer.allowed_ips.push_back(Prefix(allowed));
    if (with_endpoint) peer.endpoint = other.endpoint;
    peer.preshared_key = psk;
    REQUIRE(self.device.Apply(update, clock.Now()).ok());
  }

  // Hands a packet to `from`'s TUN side.
  void SendFrom(Side& from, const Bytes& packet) {
    PacketBuffer* b = from.pool.Acquire();
    REQUIRE(b != nullptr);
    b->Reset();
    REQUIRE(b->SetSize(packet.size()));
    std::copy(packet.begin(), packet.end(), b->data());
    from.device.HandleTunPacket(b, clock.Now());
  }

  // Delivers raw bytes to `to`'s UDP side as if they came from `source`.
  void Inject(Side& to, const Bytes& bytes, const udp::Endpoint& source) {
    PacketBuffer* b = to.pool.Acquire();
    REQUIRE(b != nullptr);
    b->Reset();
    REQUIRE(b->SetSize(bytes.size()));
    std::copy(bytes.begin(), bytes.end(), b->data());
    to.device.HandleDatagram(b, source, clock.Now());
  }

  Side& Other(Side& s) { return &s == &alice ? bob : alice; }

  // Moves every queued datagram of both sides to its destination until nothing is in flight.
  // Returns how many were delivered.
  int Flush(int limit = 100) {
    int n = 0;
    while (n < limit && (!alice.output.outbox.empty() || !bob.output.outbox.empty())) {
      for (Side* s : {&alice, &bob}) {
        while (!s->output.outbox.empty()) {
          SentDatagram d = std::move(s->output.outbox.front());
          s->output.outbox.pop_front();
          Side& to = Other(*s);
          REQUIRE(d.to == to.endpoint);
          Inject(to, d.bytes, s->endpoint);
          ++n;
        }
      }
    }
    return n;
  }

  void Tick(Duration d) {
    clock.Advance(d);
    for (Side* s : {&alice, &bob}) s->device.HandleExpiry(clock.Now());
  }

  Side alice;
  Side bob;
};

}  // namespace meshvpn::wg::test
