// WireGuard's per-peer timers (whitepaper section 6) as a sans-I/O core: the device reports what
// happened, PeerTimers decides what to arm, and tells the device when to wake and what is then due.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meshvpn/base/clock.h"
#include "meshvpn/wg/messages.h"

namespace meshvpn::wg {

// ---- Derived limits (whitepaper 6.1-6.5; the base constants live in messages.h) -----------------

// Initiations sent in one round before giving up: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT = 90 / 5.
inline constexpr int kMaxTimerHandshakes = 18;
static_assert(kMaxTimerHandshakes * kRekeyTimeout == kRekeyAttemptTime);
// Data sent and nothing heard back for this long (plus jitter): start a new handshake.
inline constexpr std::chrono::seconds kNewHandshakeTimeout = kKeepaliveTimeout + kRekeyTimeout;
// No new session for this long: zero all key material of the peer.
inline constexpr std::chrono::seconds kZeroKeyMaterialTimeout = kRejectAfterTime * 3;
// The initiator of the current session rekeys on receive once the keypair is this old, so the new
// session exists before the old one is rejected (180 - 10 - 5 = 165 s).
inline constexpr std::chrono::seconds kRekeyOnReceiveAge =
    kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout;
static_assert(kNewHandshakeTimeout == std::chrono::seconds(15));
static_assert(kZeroKeyMaterialTimeout == std::chrono::seconds(540));
static_assert(kRekeyOnReceiveAge == std::chrono::seconds(165));

// ---- The timers ---------------------------------------------------------------------------------
//
// Every timer of a peer. "Armed" sets a deadline; "if idle" means only when not already armed (a
// later event does not push it back); "cancelled" clears the deadline. HandleExpiry(now) fires
// every armed timer whose deadline is <= now, in the order below, clears it, and returns the
// actions; a timer never re-arms itself - the packet the device sends in response does that.
//
// kRetransmitHandshake  "we sent an initiation and heard no response"
//   armed by     OnHandshakeInitiated: now + REKEY_TIMEOUT (5 s) + jitter in [0, 333 ms]
//                (re-armed by every initiation, first or retry)
//   cancelled by OnHandshakeComplete, Stop
//   on expiry    if kMaxTimerHandshakes (18) initiations have gone out in this round (~90 s of
//                trying): kGiveUpHandshake - cancel kSendKeepalive, arm kZeroKeyMaterial if idle,
//                and the device drops the packets queued for the handshake. Otherwise return
//                kRetransmitHandshake: the device sends a new initiation and reports
//                OnHandshakeInitiated(now, InitiationKind::kRetry), which counts the attempt.
//                With no jitter: initiations at 0, 5, ..., 85 s and the give-up at 90 s. (The
//                Linux module and wireguard-go compare with '>' and send 20, giving up ~100 s.)
//
// kSendKeepalive  "we received data and have sent nothing back"
//   armed by     OnDataReceived (if idle): now + KEEPALIVE_TIMEOUT (10 s)
//   cancelled by OnAnyAuthenticatedPacketSent (data, keepalive or handshake message), give-up,
//                Stop
//   on expiry    kSendKeepalive: the device sends an empty transport message (whitepaper 6.5).
//                The Linux module also re-arms it once when more data arrived while it was
//                pending; that re-arm is undone by the keepalive's own send, so it is not kept.
//
// kNewHandshake  "we sent data and have heard nothing back"
//   armed by     OnDataSent (if idle): now + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (15 s) + jitter
//   cancelled by OnAuthenticatedPacketReceived (data, keepalive or handshake message), Stop
//   on expiry    kNewHandshake: the peer looks gone; the device starts a fresh handshake and
//                reports OnHandshakeInitiated(now, InitiationKind::kNew) (whitepaper 6.5).
//
// kZeroKeyMaterial  "no new session for a long time"
//   armed by     OnSessionDerived: now + REJECT_AFTER_TIME * 3 (540 s), always re-armed;
//                give-up: now + 540 s if idle (destroys what a half-done exchange left)
//   cancelled by Stop
//   on expiry    kZeroKeyMaterial: the device wipes the handshake state and all keypairs.
//
// kPersistentKeepalive  "keep NAT mappings open" (only with an interval configured)
//   armed by     OnAuthenticatedPacketTraversal: now + interval (always re-armed);
//                SetPersistentKeepalive with a new non-zero interval: due at once, so the first
//                keepalive goes out immediately, as `wg set ... persistent-keepalive` does
//   cancelled by SetPersistentKeepalive(0), Stop
//   on expiry    kSendPersistentKeepalive: the device sends an empty transport message.
//
// What the device reports, and when:
//   sending a data message          OnAuthenticatedPacketTraversal, OnAnyAuthenticatedPacketSent,
//                                   OnDataSent
//   sending a keepalive             OnAuthenticatedPacketTraversal, OnAnyAuthenticatedPacketSent
//   sending an initiation           OnAuthenticatedPacketTraversal, OnAnyAuthenticatedPacketSent,
//                                   OnHandshakeInitiated
//   sending a response              OnAuthenticatedPacketTraversal, OnAnyAuthenticatedPacketSent,
//                                   OnSessionDerived (before sending; the responder's session)
//   receiving a valid initiation    OnAuthenticatedPacketTraversal, OnAuthenticatedPacketReceived
//   receiving a valid response      OnAuthenticatedPacketTraversal, OnAuthenticatedPacketReceived,
//                                   OnSessionDerived, OnHandshakeComplete (then a keepalive
//                                   confirms the keys if no data is waiting)
//   first data on a new responder   OnHandshakeComplete (key confirmation)
//     session
//   receiving a transport message   OnAuthenticatedPacketTraversal, OnAuthenticatedPacketReceived,
//                                   and OnDataReceived if it carried data (not a keepalive)
//
// Per packet: the event methods and HandleExpiry never allocate, log or format. Not thread-safe:
// the device serialises calls for one peer. Time only comes in as `now` (FakeClock in tests).

enum class Timer : uint8_t {
  kRetransmitHandshake = 0,
  kNewHandshake,
  kSendKeepalive,
  kPersistentKeepalive,
  kZeroKeyMaterial,
};
inline constexpr size_t kTimerCount = 5;
std::string_view ToString(Timer timer);

// What HandleExpiry asks of the device; several may be due at once (a bitmask).
enum class TimerAction : uint8_t {
  kRetransmitHandshake = 1 << 0,      // send the initiation again (report InitiationKind::kRetry)
  kGiveUpHandshake = 1 << 1,          // stop trying; drop packets queued for the handshake
  kNewHandshake = 1 << 2,             // start a fresh handshake (report InitiationKind::kNew)
  kSendKeepalive = 1 << 3,            // send an empty transport message (passive keepalive)
  kSendPersistentKeepalive = 1 << 4,  // send an empty transport message (configured interval)
  kZeroKeyMaterial = 1 << 5,          // wipe the handshake state and every keypair of the peer
};
std::string_view ToString(TimerAction action);

// A set of TimerAction bits. Trivially copyable; no allocation.
class TimerActions {
 public:
  constexpr TimerActions() = default;
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool Has(TimerAction a) const { return (bits_ & static_cast<uint8_t>(a)) != 0; }
  constexpr void Add(TimerAction a) { bits_ |= static_cast<uint8_t>(a); }
  constexpr uint8_t bits() const { return bits_; }
  friend constexpr bool operator==(TimerActions, TimerActions) = default;

 private:
  uint8_t bits_ = 0;
};
// "none", or the names of the set actions joined by '|' in bit order. For logs and tests only.
std::string ToString(TimerActions actions);

// Whether an initiation starts a new round of attempts or retries the current one.
enum class InitiationKind : uint8_t { kNew, kRetry };
std::string_view ToString(InitiationKind kind);

// Where the jitter added to retransmit and new-handshake deadlines comes from (whitepaper 6.1:
// random, so that many peers that lost their session together do not retry in lockstep).
// Injected so tests are deterministic. Values outside [0, kRekeyTimeoutJitterMax] are clamped.
class JitterSource {
 public:
  virtual ~JitterSource() = default;
  virtual Duration NextJitter() = 0;
};

// The default source: a SplitMix64 generator, uniform over [0, kRekeyTimeoutJitterMax] in
// nanoseconds. Not cryptographic (jitter needs no secrecy); seed it from FillRandom in the device.
class SplitMixJitter final : public JitterSource {
 public:
  explicit SplitMixJitter(uint64_t seed) : state_(seed) {}
  Duration NextJitter() override;

 private:
  uint64_t state_;
};

// ---- Key freshness decisions (whitepaper 6.2) ---------------------------------------------------
// All ages are now - created; a limit counts as reached at exactly its value (age >= limit, as the
// Linux module's birthdate check), so "just before" is limit - 1 ns.

struct KeypairUsage {
  MonoTime created;            // when the session's keys were derived
  uint64_t messages_sent = 0;  // transport messages sent with it = the next sending counter
  bool we_initiated = false;   // this side sent the initiation of that handshake
};

// Before sending on the current keypair: start a new handshake if more than REKEY_AFTER_MESSAGES
// (2^60) messages went out on it, or if this side initiated it and it is REKEY_AFTER_TIME (120 s)
// old. Only the initiator rekeys by time, so both sides do not start handshakes at once.
bool RekeyOnSendDue(const KeypairUsage& keypair, MonoTime now);
// After receiving on the current keypair: the initiator starts a new handshake once it is
// REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT (165 s) old, so a quiet initiator gets a
// fresh session before the old one dies. (PeerTimers::ShouldRekeyOnReceive adds "once".)
bool RekeyOnReceiveDue(const KeypairUsage& keypair, MonoTime now);
// A keypair is dead, for sending and receiving, once it is REJECT_AFTER_TIME (180 s) old.
bool KeypairExpired(MonoTime created, MonoTime now);
// Whether the keypair may encrypt one more message: not expired and the next counter is below
// REJECT_AFTER_MESSAGES (2^64 - 2^13 - 1).
bool MayEncrypt(const KeypairUsage& keypair, MonoTime now);
// Whether a received message with `counter` may be decrypted with a keypair born at `created`.
bool MayDecrypt(MonoTime created, uint64_t counter, MonoTime now);

// ---- PeerTimers ---------------------------------------------------------------------------------

class PeerTimers {
 public:
  // `jitter` must outlive this object (one source per device is fine; calls are serialised).
  explicit PeerTimers(JitterSource& jitter) : jitter_(&jitter) {}

  // Events (see the table above).
  void OnDataSent(MonoTime now);
  void OnDataReceived(MonoTime now);
  void OnAnyAuthenticatedPacketSent(MonoTime now);
  void OnAuthenticatedPacketReceived(MonoTime now);
  void OnAuthenticatedPacketTraversal(MonoTime now);
  void OnHandshakeInitiated(MonoTime now, InitiationKind kind);
  void OnHandshakeComplete(MonoTime now);
  void OnSessionDerived(MonoTime now);

  // 0 disables persistent keepalive (and cancels its timer). A new non-zero interval makes a
  // keepalive due at once; setting the same interval again changes nothing.
  void SetPersistentKeepalive(std::chrono::seconds interval, MonoTime now);
  std::chrono::seconds persistent_keepalive() const { return persistent_interval_; }

  // The peer is removed (or the device goes down): cancel every timer and forget the round of
  // attempts. The persistent-keepalive interval is configuration and is kept.
  void Stop();

  // The earliest armed deadline, or nullopt when nothing is armed.
  std::optional<MonoTime> NextExpiry() const;
  // Fires every timer due at `now` and returns what the device must do.
  [[nodiscard]] TimerActions HandleExpiry(MonoTime now);

  // Rate limit of whitepaper 6.1: at most one initiation per REKEY_TIMEOUT. True if none was
  // sent yet, or the last one is at least 5 s old.
  bool InitiationAllowed(MonoTime now) const;
  // RekeyOnReceiveDue, but true at most once per completed handshake (the Linux module's
  // "last-minute handshake"): the caller initiates when this returns true.
  bool ShouldRekeyOnReceive(const KeypairUsage& current, MonoTime now);

  // Introspection, for the device's status output and for tests.
  std::optional<MonoTime> Deadline(Timer timer) const { return deadlines_[Index(timer)]; }
  bool Armed(Timer timer) const { return deadlines_[Index(timer)].has_value(); }
  // Initiations sent in the current round (1 after the first, 0 when no round is running).
  int handshake_attempts() const { return attempts_; }
  std::optional<MonoTime> last_handshake() const { return last_handshake_; }

 private:
  static constexpr size_t Index(Timer t) { return static_cast<size_t>(t); }
  void Arm(Timer t, MonoTime when) { deadlines_[Index(t)] = when; }
  void ArmIfIdle(Timer t, MonoTime when) {
    if (!Armed(t)) Arm(t, when);
  }
  void Cancel(Timer t) { deadlines_[Index(t)].reset(); }
  Duration Jitter();

  JitterSource* jitter_;
  std::array<std::optional<MonoTime>, kTimerCount> deadlines_{};
  std::chrono::seconds persistent_interval_{0};
  int attempts_ = 0;
  bool sent_last_minute_handshake_ = false;
  std::optional<MonoTime> last_initiation_;
  std::optional<MonoTime> last_handshake_;
};

}  // namespace meshvpn::wg
