// Punch: the sans-I/O hole punching state machine for one peer - authenticated pings to every
// candidate at once with backoff, path confirmation by pong, path choice, keepalives, and
// "unreachable directly: fall back to relay" after a bounded time (birthday probing optional).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/holepunch/candidate.h"
#include "meshvpn/holepunch/events.h"
#include "meshvpn/holepunch/messages.h"
#include "meshvpn/holepunch/port_spray.h"
#include "meshvpn/holepunch/sans_io.h"
#include "meshvpn/holepunch/session_key.h"

namespace meshvpn::holepunch {

// Birthday probing (Tailscale's "How NAT traversal works", the section on hard NATs): when one
// side's NAT maps every destination to a new random port ("hard", symmetric) and the other's
// does not ("easy"), standard punching fails if the easy side filters by address and port. The
// hard side then opens many sockets, each sending to the easy side's public endpoint (each gets
// its own random public port and a hole for the easy side's address); the easy side sends probes
// to random ports of the hard side's public address. A probe that lands on one of the open ports
// gets through, and the pair has a path. With 256 sockets and 64512 possible ports, a probe hits
// with probability 1/252: about 1000 probes (5 s at 200 per second) give 98 %.
enum class BirthdayRole : uint8_t {
  kNone,
  kHardSide,  // my mapping varies by destination: open many sockets
  kEasySide,  // the peer's does: spray its public address with probes
};
std::string_view ToString(BirthdayRole r);

struct PunchOptions {
  // Attempt k (k = 1, 2, ...) pings every candidate at once; attempts are first_interval apart,
  // doubling up to max_interval: with the defaults at 0, 0.1, 0.3, 0.7, 1.5, 2.5, 3.5, 4.5 s.
  Duration first_interval = std::chrono::milliseconds(100);
  Duration max_interval = std::chrono::seconds(1);
  // No pong by then: the peer is unreachable directly; fall back to relay.
  Duration timeout = std::chrono::seconds(5);
  // Once direct: a ping on the chosen path this often keeps the NAT mappings alive (most NATs
  // forget an idle UDP mapping after 30 s or more) ...
  Duration keepalive_interval = std::chrono::seconds(5);
  // ... and no pong for this long means the path is lost: punch again (with a new bound).
  Duration path_timeout = std::chrono::seconds(16);
  // Messages (SendMessage) are resent this often until acked, at most message_max_sends times.
  Duration message_retry = std::chrono::milliseconds(250);
  int message_max_sends = 8;
  // Paths (local slot, remote candidate) tracked at most; peer-reflexive ones beyond are not.
  size_t max_paths = 64;

  // Birthday probing starts when the standard punch falls back to relay, and runs for at most
  // birthday_timeout more (the relay carries traffic meanwhile; a path found upgrades to direct).
  BirthdayRole birthday = BirthdayRole::kNone;
  uint16_t hard_side_sockets = 256;  // sockets the hard side uses, slot 0 included
  int spray_rate = 200;              // easy side: probes per second
  int spray_max = 8192;              // easy side: probes at most
  Duration birthday_timeout = std::chrono::seconds(30);
  uint64_t seed = 0;  // spray order; 0: from the CSPRNG
};

enum class PunchState : uint8_t {
  kIdle,      // created, not started
  kPunching,  // pinging every candidate, waiting for a pong
  kDirect,    // a path works; keepalives hold it
  kRelay,     // no direct path within the bound (birthday probing may still run)
};
std::string_view ToString(PunchState s);

// Why a received datagram was not used. Counted; never logged per packet.
enum class PunchDrop : uint8_t {
  kNone,
  kMalformed,                  // not a valid holepunch datagram
  kNotForPunch,                // a rendezvous message
  kUnknownSender,              // a sender key that is not our peer's
  kBadMac,                     // the MAC does not verify
  kUnknownTransaction,         // a pong to no ping of ours (or too old)
  kDuplicatePong,              // a second pong to the same ping
  kPongFromUnexpectedAddress,  // the pong did not come from where the ping went
  kPathLimit,                  // a new peer-reflexive path, but max_paths are tracked
  kOutboxFull,                 // a reply could not be queued
  kCount,
};
std::string_view ToString(PunchDrop d);

// A path: from local socket `slot` to a remote candidate.
struct Path {
  Candidate remote;
  uint16_t slot = 0;
  int pings_sent = 0;
  int pongs_received = 0;
  bool confirmed = false;
  Duration rtt{};          // of the latest pong
  MonoTime last_ping{};    // the latest ping sent on it
  MonoTime last_pong{};    // the latest pong received on it
  udp::Endpoint observed;  // where the peer saw our pings on this path come from
};

struct PunchStats {
  uint64_t pings_sent = 0;
  uint64_t pongs_sent = 0;
  uint64_t pings_received = 0;
  uint64_t pongs_received = 0;
  uint64_t spray_sent = 0;   // birthday probes (easy side)
  uint64_t opener_sent = 0;  // birthday opener pings from extra sockets (hard side)
  int attempts = 0;
  std::array<uint64_t, static_cast<size_t>(PunchDrop::kCount)> drops{};
};

// Not thread-safe. Allocates when created and when it produces an event (a state change, a new
// path, a keepalive answered, a message); answering a ping, matching a pong on a known path and
// dropping a datagram allocate nothing (test/holepunch/alloc_test.cc).
class Punch final : public Core {
 public:
  // `me` is our public key (sent in every probe), `key` the pair's SessionKey, `peer` the peer's
  // public key (probes from any other sender are dropped) and `candidates` where it may be.
  static absl::StatusOr<std::unique_ptr<Punch>> Create(const x25519::PublicKey& me,
                                                       const SessionKey& key,
                                                       const x25519::PublicKey& peer,
                                                       const std::vector<Candidate>& candidates,
                                                       PunchOptions options = {});

  // Starts punching: the first attempt goes out with the next NextSend.
  void Start(MonoTime now);

  // Core.
  std::optional<Outgoing> NextSend(MonoTime now) override;
  void OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t slot, MonoTime now) override {
    (void)Receive(data, from, slot, now);
  }
  std::optional<MonoTime> NextExpiry() const override;
  void HandleExpiry(MonoTime now) override;
  uint16_t slot_count() const override;

  // OnDatagram with the reason a datagram was dropped (kNone: used).
  PunchDrop Receive(ByteSpan data, const udp::Endpoint& from, uint16_t slot, MonoTime now);

  // Sends `text` (at most kMaxTextSize bytes) on the chosen path, resending until the peer acks.
  // FailedPrecondition when there is no direct path or a message is still unacked.
  absl::Status SendMessage(ByteSpan text, MonoTime now);
  bool message_pending() const { return message_.pending; }

  std::optional<Event> NextEvent();

  PunchState state() const { return state_; }
  // The chosen path while kDirect.
  const Path* current_path() const;
  const std::vector<Path>& paths() const { return paths_; }
  const PunchStats& stats() const { return stats_; }
  uint64_t count(PunchDrop d) const { return stats_.drops[static_cast<size_t>(d)]; }
  bool birthday_active() const { return birthday_active_; }
  MonoTime started() const { return started_; }
  const PunchOptions& options() const { return options_; }

 private:
  // What a ping was sent for, kept per transaction.
  enum class Purpose : uint8_t { kProbe, kOpener, kSpray, kKeepalive };
  struct Transaction {
    uint32_t counter = 0;
    bool used = false;
    bool answered = false;
    Purpose purpose = Purpose::kProbe;
    uint16_t slot = 0;
    CandidateKind kind = CandidateKind::kLocal;
    udp::Endpoint to;
    MonoTime sent{};
  };
  static constexpr size_t kTransactions = 4096;  // a power of two
  struct Queued {
    uint16_t size = 0;
    uint16_t slot = 0;
    bool message = false;  // the bytes are message_.wire
    udp::Endpoint to;
    std::array<uint8_t, kPongMaxSize> bytes{};
  };
  static constexpr size_t kOutbox = 2048;
  struct PendingMessage {
    bool pending = false;
    uint64_t id = 0;
    int sends = 0;
    MonoTime first_send{};
    MonoTime next_send{};
    size_t size = 0;
    std::array<uint8_t, kMaxDatagramSize> wire{};
  };

  Punch(const x25519::PublicKey& me, const SessionKey& key, const x25519::PublicKey& peer,
        PunchOptions options);

  void Attempt(MonoTime now);
  void Spray(MonoTime now);
  void FallBack(MonoTime now);
  void StartBirthday(MonoTime now);
  void EndBirthday(MonoTime now);
  void SendPing(uint16_t slot, const Candidate& to, Purpose purpose, MonoTime now);
  bool Enqueue(ByteSpan bytes, const udp::Endpoint& to, uint16_t slot, bool message);
  Path* FindPath(uint16_t slot, const udp::Endpoint& remote);
  Path* AddPath(uint16_t slot, const Candidate& remote);
  void OnPing(const Ping& ping, const udp::Endpoint& from, uint16_t slot, MonoTime now);
  PunchDrop OnPong(const Pong& pong, const udp::Endpoint& from, uint16_t slot, MonoTime now);
  void OnMessage(const Message& m, const udp::Endpoint& from, uint16_t slot, MonoTime now);
  void OnMessageAck(const MessageAck& m, MonoTime now);
  void Confirm(Path* path, Duration rtt, const udp::Endpoint& observed, bool by_birthday,
               MonoTime now);
  void Emit(Event e);
  Event MakeEvent(EventType t, MonoTime now) const;
  PunchDrop Drop(PunchDrop d) {
    ++stats_.drops[static_cast<size_t>(d)];
    return d;
  }

  x25519::PublicKey me_;
  SessionKey key_;
  x25519::PublicKey peer_;
  PunchOptions options_;
  std::vector<Candidate> public_candidates_;  // the peer's server-reflexive ones

  PunchState state_ = PunchState::kIdle;
  MonoTime started_{};
  MonoTime deadline_{};
  MonoTime next_attempt_{};
  Duration interval_{};
  int round_attempts_ = 0;  // attempts since punching (re)started
  MonoTime round_started_{};
  std::vector<Path> paths_;
  std::optional<size_t> current_;
  MonoTime next_keepalive_{};

  // Birthday probing.
  bool birthday_active_ = false;
  bool birthday_done_ = false;
  MonoTime birthday_started_{};
  MonoTime birthday_deadline_{};
  MonoTime next_spray_{};
  std::unique_ptr<PortSpray> spray_;
  std::vector<udp::Endpoint> spray_addresses_;  // the peer's public addresses (port 0)
  size_t spray_target_ = 0;                     // round robin over them

  std::array<uint8_t, 8> tx_prefix_{};
  uint32_t tx_counter_ = 0;
  std::vector<Transaction> transactions_;  // kTransactions entries, allocated once
  std::vector<Queued> outbox_;             // kOutbox entries, a ring
  size_t outbox_head_ = 0;
  size_t outbox_size_ = 0;

  PendingMessage message_;
  uint64_t message_counter_ = 0;
  std::array<uint64_t, 16> seen_messages_{};
  size_t seen_next_ = 0;

  std::deque<Event> events_;
  PunchStats stats_;
};

}  // namespace meshvpn::holepunch
