// A simulated internet for holepunch cores, driven by a FakeClock: public nodes, and hosts each
// behind a NAT with RFC 4787 mapping and filtering behaviour (the ones natlab builds). Every
// datagram takes `latency` to arrive. Deterministic: symmetric NATs draw ports from a seeded PRNG.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "meshvpn/base/clock.h"
#include "meshvpn/holepunch/sans_io.h"
#include "meshvpn/stun/server.h"

namespace meshvpn::holepunch::sim {

enum class Mapping { kNone, kEndpointIndependent, kAddressAndPortDependent };
enum class Filtering { kEndpointIndependent, kAddressDependent, kAddressAndPortDependent };

struct NatType {
  const char* name;
  Mapping mapping;
  Filtering filtering;
  bool blocked = false;  // UDP dropped both ways
};
inline const NatType kNone{"none", Mapping::kNone, Filtering::kEndpointIndependent};
inline const NatType kFullCone{"full-cone", Mapping::kEndpointIndependent,
                               Filtering::kEndpointIndependent};
inline const NatType kRestricted{"restricted-cone", Mapping::kEndpointIndependent,
                                 Filtering::kAddressDependent};
inline const NatType kPortRestricted{"port-restricted-cone", Mapping::kEndpointIndependent,
                                     Filtering::kAddressAndPortDependent};
inline const NatType kSymmetric{"symmetric", Mapping::kAddressAndPortDependent,
                                Filtering::kAddressAndPortDependent};
inline const NatType kUdpBlocked{"udp-blocked", Mapping::kEndpointIndependent,
                                 Filtering::kAddressAndPortDependent, true};
inline const NatType kAllTypes[] = {kNone,           kFullCone,  kRestricted,
                                    kPortRestricted, kSymmetric, kUdpBlocked};

inline udp::Endpoint Ep(const std::string& text) { return *udp::Endpoint::Parse(text); }

// A stun::Server as a Core (one slot per server socket).
class StunServerCore final : public Core {
 public:
  explicit StunServerCore(stun::Server server) : server_(std::move(server)) {}
  std::optional<Outgoing> NextSend(MonoTime) override {
    if (queue_.empty()) return std::nullopt;
    current_ = std::move(queue_.front());
    queue_.erase(queue_.begin());
    return Outgoing{current_.bytes, current_.to, current_.slot};
  }
  void OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t slot, MonoTime) override {
    std::vector<uint8_t> out(1472);
    stun::ServerReply r;
    if (server_.HandleDatagram(data, from, slot, out, &r) != stun::ServerDrop::kNone) return;
    out.resize(r.size);
    queue_.push_back({std::move(out), r.to, static_cast<uint16_t>(r.from_slot)});
  }
  std::optional<MonoTime> NextExpiry() const override { return std::nullopt; }
  void HandleExpiry(MonoTime) override {}
  uint16_t slot_count() const override { return static_cast<uint16_t>(server_.slot_count()); }
  udp::Endpoint SlotEndpoint(int slot) const { return server_.SlotEndpoint(slot); }

 private:
  struct Q {
    std::vector<uint8_t> bytes;
    udp::Endpoint to;
    uint16_t slot;
  };
  stun::Server server_;
  std::vector<Q> queue_;
  Q current_;
};

class Network {
 public:
  explicit Network(FakeClock* clock, Duration latency = std::chrono::milliseconds(10))
      : clock_(clock), latency_(latency) {}

  // A node on the public internet; slot i is at slots[i] (or address:(port + i) beyond them).
  void AddPublic(Core* core, std::vector<udp::Endpoint> slots) {
    Node n;
    n.core = core;
    n.slots = std::move(slots);
    nodes_.push_back(std::move(n));
  }
  // A host behind a NAT of `type`: its slot i is 10.0.H.2:(4000 + i), the NAT's public address
  // 198.51.100.H (H = 1, 2, ...). With kNone the host sits at 198.51.100.H itself.
  // Returns the host's index.
  size_t AddHost(Core* core, const NatType& type) {
    const int h = ++hosts_;
    Node n;
    n.core = core;
    n.nat = type;
    n.behind_nat = type.mapping != Mapping::kNone;
    n.public_ip = Ep("198.51.100." + std::to_string(h) + ":0");
    n.private_ip = n.behind_nat ? Ep("10.0." + std::to_string(h) + ".2:0") : n.public_ip;
    n.rng = 0x1234567ull * h;
    nodes_.push_back(std::move(n));
    return nodes_.size() - 1;
  }
  // The host's slot address as the host sees it (its local candidate).
  udp::Endpoint HostEndpoint(size_t node, uint16_t slot = 0) const {
    return nodes_[node].private_ip.WithPort(static_cast<uint16_t>(4000 + slot));
  }
  udp::Endpoint HostAddress(size_t node) const { return nodes_[node].private_ip; }
  udp::Endpoint PublicAddress(size_t node) const { return nodes_[node].public_ip; }
  // Cores may be attached after the node exists (a core's candidates need the node's addresses).
  void SetCore(size_t node, Core* core) { nodes_[node].core = core; }
  // What a STUN server at `server` would see for the host's slot (creates the mapping and the
  // filter state, as if the host had sent there).
  udp::Endpoint Reflexive(size_t node, uint16_t slot, const udp::Endpoint& server) {
    return Outbound(nodes_[node], HostEndpoint(node, slot), server);
  }
  void set_loss(std::function<bool(const udp::Endpoint& from, const udp::Endpoint& to)> f) {
    loss_ = std::move(f);
  }
  void set_latency(Duration d) { latency_ = d; }
  uint64_t delivered() const { return delivered_; }
  uint64_t dropped() const { return dropped_; }

  // Runs until `done()` or until `limit` of simulated time has passed. Returns done().
  bool Run(Duration limit, const std::function<bool()>& done) {
    const MonoTime end = clock_->Now() + limit;
    for (;;) {
      Flush();
      if (done()) return true;
      std::optional<MonoTime> next;
      if (!inflight_.empty()) next = inflight_.begin()->first.at;
      for (Node& n : nodes_) {
        if (n.core == nullptr) continue;
        if (auto e = n.core->NextExpiry(); e && (!next || *e < *next)) next = *e;
      }
      if (!next || *next > end) {
        if (clock_->Now() < end) clock_->Advance(end - clock_->Now());
        return done();
      }
      if (*next > clock_->Now()) clock_->Advance(*next - clock_->Now());
      const MonoTime now = clock_->Now();
      while (!inflight_.empty() && inflight_.begin()->first.at <= now) {
        auto it = inflight_.begin();
        Node& n = nodes_[it->second.node];
        if (n.core != nullptr) {
          n.core->OnDatagram(it->second.bytes, it->second.from, it->second.slot, now);
          ++delivered_;
        }
        inflight_.erase(it);
      }
      for (Node& n : nodes_) {
        if (n.core == nullptr) continue;
        if (auto e = n.core->NextExpiry(); e && *e <= now) n.core->HandleExpiry(now);
      }
    }
  }

  // Sends everything every core has queued.
  void Flush() {
    const MonoTime now = clock_->Now();
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      if (n.core == nullptr) continue;
      while (auto d = n.core->NextSend(now)) Send(i, *d);
    }
  }

 private:
  struct Node {
    Core* core = nullptr;
    std::vector<udp::Endpoint> slots;  // public nodes
    NatType nat = kNone;
    bool behind_nat = false;
    udp::Endpoint public_ip;
    udp::Endpoint private_ip;
    uint64_t rng = 1;
    // (inside endpoint, destination or "") -> public port
    std::map<std::pair<std::string, std::string>, uint16_t> mappings;
    std::map<uint16_t, udp::Endpoint> inside_of;  // public port -> inside endpoint
    std::set<std::string> contacted;              // "port|addr" and "port|addr:port"
  };
  struct Key {
    MonoTime at;
    uint64_t seq;
    bool operator<(const Key& o) const { return std::tie(at, seq) < std::tie(o.at, o.seq); }
  };
  struct InFlight {
    size_t node;
    uint16_t slot;
    udp::Endpoint from;
    std::vector<uint8_t> bytes;
  };

  udp::Endpoint PublicSlot(const Node& n, uint16_t slot) const {
    if (slot < n.slots.size()) return n.slots[slot];
    return n.slots.back().WithPort(static_cast<uint16_t>(n.slots.back().port() + slot));
  }

  uint16_t RandomPort(Node& n) {
    for (;;) {
      n.rng = n.rng * 6364136223846793005ull + 1442695040888963407ull;
      const uint16_t p = static_cast<uint16_t>(1024 + (n.rng >> 33) % 64512);
      if (!n.inside_of.count(p)) return p;
    }
  }

  // NAT n translates inside -> to; returns the public source.
  udp::Endpoint Outbound(Node& n, const udp::Endpoint& inside, const udp::Endpoint& to) {
    if (!n.behind_nat) return inside;
    const std::string dest =
        n.nat.mapping == Mapping::kAddressAndPortDependent ? to.ToString() : std::string();
    auto key = std::make_pair(inside.ToString(), dest);
    auto it = n.mappings.find(key);
    uint16_t port;
    if (it != n.mappings.end()) {
      port = it->second;
    } else {
      // Endpoint-independent mapping keeps the port when it is free (as netfilter does).
      port = n.nat.mapping == Mapping::kEndpointIndependent && !n.inside_of.count(inside.port())
                 ? inside.port()
                 : RandomPort(n);
      n.mappings[key] = port;
      n.inside_of[port] = inside;
    }
    n.contacted.insert(std::to_string(port) + "|" + to.AddressString());
    n.contacted.insert(std::to_string(port) + "|" + to.ToString());
    return n.public_ip.WithPort(port);
  }

  // Finds where a datagram to `to` from `from` goes: node index and slot, after the NAT.
  bool Route(const udp::Endpoint& from, const udp::Endpoint& to, size_t* node, uint16_t* slot) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      const uint16_t slots = n.core != nullptr ? n.core->slot_count() : 1;
      if (!n.slots.empty()) {
        for (uint16_t s = 0; s < slots; ++s) {
          if (PublicSlot(n, s) == to) {
            *node = i;
            *slot = s;
            return true;
          }
        }
        continue;
      }
      if (!(to.WithPort(0) == n.public_ip)) continue;
      udp::Endpoint inside = to;
      if (n.behind_nat) {
        if (n.nat.blocked) return false;
        auto it = n.inside_of.find(to.port());
        if (it == n.inside_of.end()) return false;
        const std::string port = std::to_string(to.port());
        switch (n.nat.filtering) {
          case Filtering::kEndpointIndependent:
            break;
          case Filtering::kAddressDependent:
            if (!n.contacted.count(port + "|" + from.AddressString())) return false;
            break;
          case Filtering::kAddressAndPortDependent:
            if (!n.contacted.count(port + "|" + from.ToString())) return false;
            break;
        }
        inside = it->second;
      }
      if (inside.port() < 4000 || inside.port() >= 4000 + slots) return false;
      *node = i;
      *slot = static_cast<uint16_t>(inside.port() - 4000);
      return true;
    }
    return false;
  }

  void Send(size_t from_node, const Outgoing& d) {
    Node& n = nodes_[from_node];
    udp::Endpoint src;
    if (!n.slots.empty()) {
      src = PublicSlot(n, d.slot);
    } else {
      if (n.nat.blocked) {
        ++dropped_;
        return;
      }
      // A private (10.x) destination is not routable from here.
      if (d.to.is_v4() && d.to.address()[0] == 10) {
        ++dropped_;
        return;
      }
      src = Outbound(n, HostEndpoint(from_node, d.slot), d.to);
    }
    if (loss_ && loss_(src, d.to)) {
      ++dropped_;
      return;
    }
    size_t node = 0;
    uint16_t slot = 0;
    if (!Route(src, d.to, &node, &slot)) {
      ++dropped_;
      return;
    }
    inflight_.emplace(
        Key{clock_->Now() + latency_, seq_++},
        InFlight{node, slot, src, std::vector<uint8_t>(d.data.begin(), d.data.end())});
  }

  FakeClock* clock_;
  Duration latency_;
  std::vector<Node> nodes_;
  int hosts_ = 0;
  std::map<Key, InFlight> inflight_;
  uint64_t seq_ = 0;
  uint64_t delivered_ = 0;
  uint64_t dropped_ = 0;
  std::function<bool(const udp::Endpoint&, const udp::Endpoint&)> loss_;
};

}  // namespace meshvpn::holepunch::sim
