// Session (sans-I/O): one peer's whole hole punch on one socket - gather candidates (local +
// STUN), meet the peer at the rendezvous server, punch, and keep the path or fall back to relay.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/holepunch/candidates.h"
#include "meshvpn/holepunch/events.h"
#include "meshvpn/holepunch/punch.h"
#include "meshvpn/holepunch/rendezvous_client.h"
#include "meshvpn/holepunch/sans_io.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::holepunch {

struct SessionOptions {
  std::string name;  // ours at the rendezvous
  std::string peer;  // the peer's
  udp::Endpoint rendezvous;
  std::vector<udp::Endpoint> stun_servers;  // may be empty: the rendezvous still sees us
  // The socket's own addresses (InterfaceAddresses()) and its port: the local candidates.
  std::vector<udp::Endpoint> local_addresses;
  uint16_t port = 0;
  // Our X25519 key; empty: a fresh one for this session.
  std::optional<x25519::PrivateKey> private_key;
  // If set, a peer presenting another key is refused (kPeerKeyMismatch).
  std::optional<x25519::PublicKey> expected_peer_key;
  stun::RetransmitPolicy stun_policy{std::chrono::milliseconds(200), 4, 4};
  Duration register_timeout = std::chrono::seconds(5);
  Duration peer_timeout = std::chrono::seconds(60);
  PunchOptions punch;  // its `birthday` role is chosen by the session
  // Allow birthday probing after the standard punch falls back to relay, when exactly one side's
  // NAT maps per destination (see BirthdayRole).
  bool birthday = false;
};

enum class SessionState : uint8_t {
  kGathering,       // asking STUN servers
  kRegistering,     // telling the rendezvous server who we are
  kWaitingForPeer,  // registered; the peer has not shown up yet
  kPunching,
  kDirect,
  kRelay,   // no direct path: fall back to a relay
  kFailed,  // the rendezvous is unreachable or refused us, or the peer never came
};
std::string_view ToString(SessionState s);

// Not thread-safe. Datagrams are demultiplexed by their first bytes: STUN (top bits 00 and the
// magic cookie) goes to the gatherer, holepunch rendezvous messages to the rendezvous client,
// probes to the punch.
class Session final : public Core {
 public:
  static absl::StatusOr<std::unique_ptr<Session>> Create(SessionOptions options, MonoTime now);

  std::optional<Outgoing> NextSend(MonoTime now) override;
  void OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t slot, MonoTime now) override;
  std::optional<MonoTime> NextExpiry() const override;
  void HandleExpiry(MonoTime now) override;
  uint16_t slot_count() const override { return punch_ ? punch_->slot_count() : 1; }

  SessionState state() const;
  std::optional<Event> NextEvent();
  // Sends a text message on the direct path (Punch::SendMessage).
  absl::Status SendMessage(ByteSpan text, MonoTime now);

  const x25519::PublicKey& public_key() const { return public_key_; }
  // Available once gathering is done.
  const GatherResult* gather_result() const {
    return gatherer_ && gatherer_->Done() ? &gatherer_->result() : nullptr;
  }
  const RendezvousClient* rendezvous() const { return rendezvous_.get(); }
  // The peer's info, once found.
  const std::optional<PeerInfo>& peer() const { return peer_; }
  // Null until punching starts.
  const Punch* punch() const { return punch_.get(); }
  bool hard_nat() const { return hard_nat_; }
  bool peer_hard_nat() const { return peer_hard_nat_; }
  BirthdayRole birthday_role() const { return role_; }
  uint64_t unexpected_datagrams() const { return unexpected_; }

 private:
  explicit Session(SessionOptions options) : options_(std::move(options)) {}
  Core* Active() const;
  // Moves to the next phase when the current one is done, and collects events.
  void Advance(MonoTime now);
  void StartRendezvous(MonoTime now);
  void StartPunch(MonoTime now);
  void Fail(EventType type, MonoTime now, std::string text);
  void Emit(Event e);

  SessionOptions options_;
  x25519::PrivateKey private_key_;
  x25519::PublicKey public_key_;
  std::unique_ptr<CandidateGatherer> gatherer_;
  std::unique_ptr<RendezvousClient> rendezvous_;
  std::unique_ptr<Punch> punch_;
  std::optional<PeerInfo> peer_;
  bool failed_ = false;
  bool hard_nat_ = false;
  bool peer_hard_nat_ = false;
  BirthdayRole role_ = BirthdayRole::kNone;
  uint64_t unexpected_ = 0;
  std::deque<Event> events_;
};

// True if two reflexive (STUN or rendezvous) candidates share an address but not a port: that
// NAT gave one socket different public ports for different destinations.
bool ReflexivePortsDiffer(const std::vector<Candidate>& candidates);

}  // namespace meshvpn::holepunch
