// RendezvousServer (sans-I/O): peers register by name with their key and candidates; when two
// peers want each other, each gets the other's info at the same moment, so they punch together.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "meshvpn/holepunch/events.h"
#include "meshvpn/holepunch/messages.h"
#include "meshvpn/holepunch/sans_io.h"

namespace meshvpn::holepunch {

struct RendezvousServerOptions {
  // A registration lives this long after its last Register (the ack tells the client). Waiting
  // clients resend every second, so a short lease frees the name of a peer that has gone soon.
  Duration lease = std::chrono::seconds(10);
  // Names held at most; beyond, new names get kServerFull.
  size_t max_peers = 4096;
};

enum class ServerDrop : uint8_t {
  kNone,
  kMalformed,   // not a valid holepunch datagram
  kNotRequest,  // a holepunch datagram, but not a Register
  kOutboxFull,  // the reply could not be queued
  kCount,
};
std::string_view ToString(ServerDrop d);

// What the server did, for the tool's log (one per Register, pairing or expiry; at most
// kMaxQueuedEvents wait to be drained).
struct ServerEvent {
  enum class Type : uint8_t { kRegistered, kPaired, kRejected, kExpired };
  Type type = Type::kRegistered;
  std::string name;
  std::string peer;
  udp::Endpoint from;
  size_t candidates = 0;
  bool refresh = false;  // kRegistered: a resend of a registration already held
  RegisterErrorCode code = RegisterErrorCode::kBadRequest;
};

struct RendezvousStats {
  uint64_t registers = 0;
  uint64_t acks = 0;
  uint64_t peer_infos = 0;
  uint64_t errors = 0;
  uint64_t pairs = 0;
  uint64_t expired = 0;
  std::array<uint64_t, static_cast<size_t>(ServerDrop::kCount)> drops{};
};

// One slot (socket). Not thread-safe. A registration binds a name to a key for the lease: a
// Register for the same name with another key is refused (kNameTaken) until the lease ends.
class RendezvousServer final : public Core {
 public:
  explicit RendezvousServer(RendezvousServerOptions options = {});

  std::optional<Outgoing> NextSend(MonoTime now) override;
  void OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t, MonoTime now) override {
    (void)HandleDatagram(data, from, now);
  }
  std::optional<MonoTime> NextExpiry() const override;
  void HandleExpiry(MonoTime now) override;

  ServerDrop HandleDatagram(ByteSpan data, const udp::Endpoint& from, MonoTime now);
  std::optional<ServerEvent> NextEvent();
  const RendezvousStats& stats() const { return stats_; }
  size_t peers() const { return peers_.size(); }

 private:
  struct Entry {
    x25519::PublicKey key;
    uint64_t nonce = 0;
    uint8_t flags = 0;
    udp::Endpoint from;
    std::string peer;
    std::vector<Candidate> candidates;
    MonoTime expires{};
    bool paired = false;  // PeerInfo sent for the current registration
  };
  struct Queued {
    udp::Endpoint to;
    uint16_t size = 0;
    std::array<uint8_t, 512> bytes{};
  };
  static constexpr size_t kOutbox = 256;

  bool Queue(ByteSpan bytes, const udp::Endpoint& to);
  void SendPeerInfo(const Entry& to, const std::string& about_name, const Entry& about);
  void Emit(ServerEvent e);
  ServerDrop Drop(ServerDrop d) {
    ++stats_.drops[static_cast<size_t>(d)];
    return d;
  }

  RendezvousServerOptions options_;
  absl::flat_hash_map<std::string, Entry> peers_;
  std::vector<Queued> outbox_;
  size_t head_ = 0;
  size_t size_ = 0;
  std::deque<ServerEvent> events_;
  RendezvousStats stats_;
};

}  // namespace meshvpn::holepunch
