// Fuzzes the receive paths of holepunch's cores with fixed keys, so that mutations reach past the
// MAC: a Punch (started, two candidates), a RendezvousServer and a RendezvousClient. Each input
// is a script of records, op (1 byte) | length (1 byte) | payload:
//   op % 6 == 0  the payload as a datagram to the punch, from the peer's first candidate
//   op % 6 == 1  the payload with a valid MAC appended (the session key is fixed)
//   op % 6 == 2  the payload as a datagram to the rendezvous server
//   op % 6 == 3  the payload as a datagram to the rendezvous client, from its server
//   op % 6 == 4  answer the punch's latest ping with a genuine pong (from where it went)
//   op % 6 == 5  advance the clock by payload[0] * 37 ms and run every due timer
// Checked after every step: no crash, the punch's state and chosen path agree, what it queues
// to send is well-formed, and nothing grows without bound.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "meshvpn/holepunch/punch.h"
#include "meshvpn/holepunch/rendezvous_client.h"
#include "meshvpn/holepunch/rendezvous_server.h"

namespace {

using namespace meshvpn;
using namespace meshvpn::holepunch;

void Check(bool condition) {
  if (!condition) std::abort();
}

x25519::PublicKey Key(uint8_t fill) {
  std::array<uint8_t, 32> b{};
  b.fill(fill);
  return x25519::PublicKey(b);
}

SessionKey FixedKey() {
  std::array<uint8_t, 32> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0xA0 + i);
  return SessionKey::FromBytes(k);
}

udp::Endpoint Ep(const char* s) { return *udp::Endpoint::Parse(s); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FakeClock clock;
  const SessionKey key = FixedKey();
  const udp::Endpoint peer_ep = Ep("198.51.100.2:4000");
  const udp::Endpoint server_ep = Ep("192.0.2.20:9000");
  PunchOptions po;
  po.seed = 1;
  auto punch = *Punch::Create(
      Key(1), key, Key(2),
      {{peer_ep, CandidateKind::kStun}, {Ep("10.0.2.2:4000"), CandidateKind::kLocal}}, po);
  punch->Start(clock.Now());
  RendezvousServer server(RendezvousServerOptions{std::chrono::seconds(30), 8});
  RendezvousClientOptions co;
  co.server = server_ep;
  co.name = "alice";
  co.peer = "bob";
  co.nonce = 7;
  auto client = *RendezvousClient::Create(co, clock.Now());

  std::vector<uint8_t> last_ping;
  udp::Endpoint last_ping_to;
  uint16_t last_ping_slot = 0;
  auto drain = [&] {
    const MonoTime now = clock.Now();
    while (auto d = punch->NextSend(now)) {
      const HeaderInfo h = PeekHeader(d->data);
      Check(h.ok());
      Check(d->slot < punch->slot_count());
      if (h.type == MessageType::kPing) {
        last_ping.assign(d->data.begin(), d->data.end());
        last_ping_to = d->to;
        last_ping_slot = d->slot;
      }
    }
    while (auto d = server.NextSend(now)) Check(PeekHeader(d->data).ok());
    while (client->NextSend(now)) {
    }
    while (punch->NextEvent()) {
    }
    while (server.NextEvent()) {
    }
    while (client->NextEvent()) {
    }
    Check((punch->state() == PunchState::kDirect) == (punch->current_path() != nullptr));
    Check(punch->paths().size() <= po.max_paths);
  };
  drain();

  size_t pos = 0;
  while (pos + 2 <= size) {
    const uint8_t op = data[pos];
    const size_t len = std::min<size_t>(data[pos + 1], size - pos - 2);
    const ByteSpan payload(data + pos + 2, len);
    pos += 2 + len;
    const MonoTime now = clock.Now();
    switch (op % 6) {
      case 0:
        (void)punch->Receive(payload, peer_ep, 0, now);
        break;
      case 1: {
        std::vector<uint8_t> sealed(payload.begin(), payload.end());
        const noise::Mac16 mac = key.Mac(sealed);
        sealed.insert(sealed.end(), mac.begin(), mac.end());
        (void)punch->Receive(sealed, peer_ep, 0, now);
        break;
      }
      case 2:
        (void)server.HandleDatagram(payload, Ep("203.0.113.9:5000"), now);
        break;
      case 3:
        client->OnDatagram(payload, server_ep, 0, now);
        break;
      case 4: {
        Ping ping;
        if (last_ping.empty() || Decode(last_ping, &ping) != ParseError::kOk) break;
        Pong pong;
        pong.sender = Key(2);
        pong.tx = ping.tx;
        pong.observed = Ep("203.0.113.1:4000");
        std::array<uint8_t, kPongMaxSize> w{};
        const size_t n = Encode(pong, key, w);
        Check(n > 0);
        Check(punch->Receive(ByteSpan(w.data(), n), last_ping_to, last_ping_slot, now) !=
              PunchDrop::kMalformed);
        break;
      }
      case 5: {
        clock.Advance(std::chrono::milliseconds(37) * (len > 0 ? payload[0] : 1));
        const MonoTime later = clock.Now();
        for (Core* c : std::initializer_list<Core*>{punch.get(), &server, client.get()}) {
          if (auto e = c->NextExpiry(); e && *e <= later) c->HandleExpiry(later);
        }
        break;
      }
    }
    drain();
  }
  return 0;
}
