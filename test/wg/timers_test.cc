#include "meshvpn/wg/timers.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <vector>

#include "common/alloc_counter.h"
#include "meshvpn/base/clock.h"

namespace meshvpn::wg {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
constexpr nanoseconds k1ns{1};

// Returns whatever the test sets, and counts how often it was asked.
class FixedJitter final : public JitterSource {
 public:
  explicit FixedJitter(Duration value = Duration::zero()) : value_(value) {}
  Duration NextJitter() override {
    ++calls;
    return value_;
  }
  void Set(Duration value) { value_ = value; }
  int calls = 0;

 private:
  Duration value_;
};

TimerActions Only(TimerAction a) {
  TimerActions s;
  s.Add(a);
  return s;
}

// What the device does after sending an initiation.
void SendInitiation(PeerTimers& t, MonoTime now, InitiationKind kind) {
  t.OnAuthenticatedPacketTraversal(now);
  t.OnAnyAuthenticatedPacketSent(now);
  t.OnHandshakeInitiated(now, kind);
}

TEST_CASE("timer enums have names") {
  CHECK(ToString(Timer::kRetransmitHandshake) == "retransmit-handshake");
  CHECK(ToString(Timer::kNewHandshake) == "new-handshake");
  CHECK(ToString(Timer::kSendKeepalive) == "send-keepalive");
  CHECK(ToString(Timer::kPersistentKeepalive) == "persistent-keepalive");
  CHECK(ToString(Timer::kZeroKeyMaterial) == "zero-key-material");
  CHECK(ToString(TimerAction::kGiveUpHandshake) == "give-up-handshake");
  CHECK(ToString(TimerAction::kSendPersistentKeepalive) == "send-persistent-keepalive");
  CHECK(ToString(InitiationKind::kNew) == "new");
  CHECK(ToString(InitiationKind::kRetry) == "retry");
  TimerActions a;
  CHECK(ToString(a) == "none");
  a.Add(TimerAction::kZeroKeyMaterial);
  a.Add(TimerAction::kRetransmitHandshake);
  CHECK(ToString(a) == "retransmit-handshake|zero-key-material");
}

TEST_CASE("a fresh peer has nothing armed") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  CHECK_FALSE(t.NextExpiry().has_value());
  CHECK(t.HandleExpiry(clock.Now()).empty());
  CHECK(t.handshake_attempts() == 0);
  CHECK(t.InitiationAllowed(clock.Now()));
}

TEST_CASE("retransmits every 5 s plus jitter and gives up after 18 initiations") {
  SplitMixJitter jitter(GENERATE(1u, 2u, 3u, 42u));
  PeerTimers t(jitter);
  FakeClock clock;
  const MonoTime start = clock.Now();
  SendInitiation(t, clock.Now(), InitiationKind::kNew);
  t.OnDataReceived(clock.Now());  // a keepalive pending when the give-up comes
  REQUIRE(t.handshake_attempts() == 1);

  std::set<Duration::rep> jitters;
  int retransmits = 0;
  MonoTime last_sent = start;
  for (;;) {
    auto deadline = t.Deadline(Timer::kRetransmitHandshake);
    REQUIRE(deadline.has_value());
    const Duration wait = *deadline - last_sent;
    CHECK(wait >= kRekeyTimeout);
    CHECK(wait <= kRekeyTimeout + kRekeyTimeoutJitterMax);
    jitters.insert((wait - kRekeyTimeout).count());
    // The keepalive (due at 10 s) may fire on the way; drain it like a device would.
    while (t.NextExpiry() && *t.NextExpiry() < *deadline) {
      clock.Advance(*t.NextExpiry() - clock.Now());
      REQUIRE(t.HandleExpiry(clock.Now()) == Only(TimerAction::kSendKeepalive));
      t.OnDataReceived(clock.Now());  // more data keeps one pending
    }
    clock.Advance(*deadline - k1ns - clock.Now());
    CHECK(t.HandleExpiry(clock.Now()).empty());
    clock.Advance(k1ns);
    const TimerActions got = t.HandleExpiry(clock.Now());
    if (got.Has(TimerAction::kGiveUpHandshake)) {
      CHECK(got == Only(TimerAction::kGiveUpHandshake));
      break;
    }
    REQUIRE(got == Only(TimerAction::kRetransmitHandshake));
    ++retransmits;
    SendInitiation(t, clock.Now(), InitiationKind::kRetry);
    CHECK(t.handshake_attempts() == retransmits + 1);
    last_sent = clock.Now();
    t.OnDataReceived(clock.Now());
  }
  CHECK(retransmits == kMaxTimerHandshakes - 1);
  const Duration tried = clock.Now() - start;
  CHECK(tried >= kRekeyAttemptTime);
  CHECK(tried <= kRekeyAttemptTime + kMaxTimerHandshakes * kRekeyTimeoutJitterMax);
  CHECK(jitters.size() > 1);  // the jitter really varies
  // Giving up: nothing to retransmit, the pending keepalive is gone, and leftovers of the
  // exchange are wiped 540 s later.
  CHECK(t.handshake_attempts() == 0);
  CHECK_FALSE(t.Armed(Timer::kRetransmitHandshake));
  CHECK_FALSE(t.Armed(Timer::kSendKeepalive));
  CHECK(t.Deadline(Timer::kZeroKeyMaterial) == clock.Now() + kZeroKeyMaterialTimeout);
}

TEST_CASE("with no jitter the schedule is exactly 0, 5, ..., 85 s and the give-up at 90 s") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  const MonoTime start = clock.Now();
  SendInitiation(t, start, InitiationKind::kNew);
  std::vector<Duration> sent_at{Duration::zero()};
  for (;;) {
    clock.Advance(*t.NextExpiry() - clock.Now());
    const TimerActions got = t.HandleExpiry(clock.Now());
    if (got == Only(TimerAction::kGiveUpHandshake)) break;
    REQUIRE(got == Only(TimerAction::kRetransmitHandshake));
    SendInitiation(t, clock.Now(), InitiationKind::kRetry);
    sent_at.push_back(clock.Now() - start);
  }
  REQUIRE(sent_at.size() == static_cast<size_t>(kMaxTimerHandshakes));
  for (size_t i = 0; i < sent_at.size(); ++i) CHECK(sent_at[i] == kRekeyTimeout * i);
  CHECK(clock.Now() - start == kRekeyAttemptTime);
}

TEST_CASE("jitter out of range is clamped to [0, 333 ms]") {
  FixedJitter j(seconds(-1));
  PeerTimers t(j);
  FakeClock clock;
  t.OnHandshakeInitiated(clock.Now(), InitiationKind::kNew);
  CHECK(t.Deadline(Timer::kRetransmitHandshake) == clock.Now() + kRekeyTimeout);
  j.Set(seconds(10));
  t.OnHandshakeInitiated(clock.Now(), InitiationKind::kRetry);
  CHECK(t.Deadline(Timer::kRetransmitHandshake) ==
        clock.Now() + kRekeyTimeout + kRekeyTimeoutJitterMax);
  t.OnDataSent(clock.Now());
  CHECK(t.Deadline(Timer::kNewHandshake) ==
        clock.Now() + kNewHandshakeTimeout + kRekeyTimeoutJitterMax);
}

TEST_CASE("SplitMixJitter is deterministic, in range and spread out") {
  SplitMixJitter a(7), b(7), c(8);
  Duration lo = Duration::max(), hi = Duration::min();
  bool differs = false;
  for (int i = 0; i < 10000; ++i) {
    const Duration x = a.NextJitter();
    REQUIRE(x == b.NextJitter());
    differs |= x != c.NextJitter();
    REQUIRE(x >= Duration::zero());
    REQUIRE(x <= kRekeyTimeoutJitterMax);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  CHECK(differs);
  CHECK(lo < milliseconds(5));
  CHECK(hi > milliseconds(328));
}

TEST_CASE("handshake completion cancels retransmission and ends the round") {
  FixedJitter j(milliseconds(100));
  PeerTimers t(j);
  FakeClock clock;
  SendInitiation(t, clock.Now(), InitiationKind::kNew);
  clock.Advance(kRekeyTimeout + milliseconds(100));
  REQUIRE(t.HandleExpiry(clock.Now()) == Only(TimerAction::kRetransmitHandshake));
  SendInitiation(t, clock.Now(), InitiationKind::kRetry);
  REQUIRE(t.handshake_attempts() == 2);
  clock.Advance(seconds(1));
  t.OnHandshakeComplete(clock.Now());
  CHECK_FALSE(t.Armed(Timer::kRetransmitHandshake));
  CHECK(t.handshake_attempts() == 0);
  CHECK(t.last_handshake() == clock.Now());
  clock.Advance(seconds(100));
  CHECK(t.HandleExpiry(clock.Now()).empty());
  // The next handshake starts a new round of 18.
  SendInitiation(t, clock.Now(), InitiationKind::kNew);
  CHECK(t.handshake_attempts() == 1);
}

TEST_CASE("a new initiation restarts the round of attempts") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  SendInitiation(t, clock.Now(), InitiationKind::kNew);
  for (int i = 0; i < 10; ++i) {
    clock.Advance(kRekeyTimeout);
    REQUIRE(t.HandleExpiry(clock.Now()) == Only(TimerAction::kRetransmitHandshake));
    SendInitiation(t, clock.Now(), InitiationKind::kRetry);
  }
  REQUIRE(t.handshake_attempts() == 11);
  SendInitiation(t, clock.Now(), InitiationKind::kNew);  // e.g. data wanted a fresh handshake
  CHECK(t.handshake_attempts() == 1);
  int retransmits = 0;
  for (;;) {
    clock.Advance(kRekeyTimeout);
    if (t.HandleExpiry(clock.Now()) == Only(TimerAction::kGiveUpHandshake)) break;
    SendInitiation(t, clock.Now(), InitiationKind::kRetry);
    ++retransmits;
  }
  CHECK(retransmits == kMaxTimerHandshakes - 1);
}

TEST_CASE("initiations are rate limited to one per REKEY_TIMEOUT") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  CHECK(t.InitiationAllowed(clock.Now()));
  t.OnHandshakeInitiated(clock.Now(), InitiationKind::kNew);
  CHECK_FALSE(t.InitiationAllowed(clock.Now()));
  CHECK_FALSE(t.InitiationAllowed(clock.Now() + kRekeyTimeout - k1ns));
  CHECK(t.InitiationAllowed(clock.Now() + kRekeyTimeout));
  CHECK(t.InitiationAllowed(clock.Now() + kRekeyTimeout + k1ns));
}

TEST_CASE("keepalive 10 s after receiving data when nothing was sent back") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  const MonoTime t0 = clock.Now();
  t.OnDataReceived(t0);
  CHECK(t.Deadline(Timer::kSendKeepalive) == t0 + kKeepaliveTimeout);
  // More data does not push the deadline back.
  clock.Advance(seconds(3));
  t.OnDataReceived(clock.Now());
  CHECK(t.NextExpiry() == t0 + kKeepaliveTimeout);
  CHECK(t.HandleExpiry(t0 + kKeepaliveTimeout - k1ns).empty());
  CHECK(t.HandleExpiry(t0 + kKeepaliveTimeout) == Only(TimerAction::kSendKeepalive));
  CHECK_FALSE(t.NextExpiry().has_value());
  CHECK(t.HandleExpiry(t0 + kKeepaliveTimeout + seconds(60)).empty());
}

TEST_CASE("anything authenticated sent back cancels the keepalive") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  t.OnDataReceived(clock.Now());
  clock.Advance(seconds(9));
  t.OnAnyAuthenticatedPacketSent(clock.Now());
  CHECK_FALSE(t.Armed(Timer::kSendKeepalive));
  clock.Advance(seconds(5));
  CHECK(t.HandleExpiry(clock.Now()).empty());
  // Receiving a keepalive (no data) arms nothing.
  t.OnAuthenticatedPacketTraversal(clock.Now());
  t.OnAuthenticatedPacketReceived(clock.Now());
  CHECK_FALSE(t.NextExpiry().has_value());
}

TEST_CASE("new handshake 15 s plus jitter after sending data with no reply") {
  FixedJitter j(milliseconds(200));
  PeerTimers t(j);
  FakeClock clock;
  const MonoTime t0 = clock.Now();
  t.OnDataSent(t0);
  const MonoTime due = t0 + kNewHandshakeTimeout + milliseconds(200);
  CHECK(t.Deadline(Timer::kNewHandshake) == due);
  clock.Advance(seconds(10));
  t.OnDataSent(clock.Now());  // not pushed back
  CHECK(t.Deadline(Timer::kNewHandshake) == due);
  CHECK(j.calls == 1);
  CHECK(t.HandleExpiry(due - k1ns).empty());
  CHECK(t.HandleExpiry(due) == Only(TimerAction::kNewHandshake));
  SendInitiation(t, due, InitiationKind::kNew);
  CHECK(t.handshake_attempts() == 1);
  CHECK_FALSE(t.Armed(Timer::kNewHandshake));
}

TEST_CASE("any authenticated packet received cancels the new-handshake timer") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  t.OnDataSent(clock.Now());
  clock.Advance(seconds(14));
  t.OnAuthenticatedPacketReceived(clock.Now());  // e.g. the peer's keepalive
  CHECK_FALSE(t.Armed(Timer::kNewHandshake));
  clock.Advance(seconds(10));
  CHECK(t.HandleExpiry(clock.Now()).empty());
  // The next data sent arms it again, from its own time.
  t.OnDataSent(clock.Now());
  CHECK(t.Deadline(Timer::kNewHandshake) == clock.Now() + kNewHandshakeTimeout);
}

TEST_CASE("persistent keepalive: first one at once, then every interval of silence") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  t.OnAuthenticatedPacketTraversal(clock.Now());  // no interval: nothing
  CHECK_FALSE(t.NextExpiry().has_value());

  t.SetPersistentKeepalive(seconds(25), clock.Now());
  CHECK(t.persistent_keepalive() == seconds(25));
  const MonoTime t0 = clock.Now();
  REQUIRE(t.HandleExpiry(t0) == Only(TimerAction::kSendPersistentKeepalive));
  auto send_keepalive = [&](MonoTime now) {
    t.OnAuthenticatedPacketTraversal(now);
    t.OnAnyAuthenticatedPacketSent(now);
  };
  send_keepalive(t0);
  // Cadence with no other traffic: 25, 50, 75 s.
  for (int i = 1; i <= 3; ++i) {
    const MonoTime due = t0 + seconds(25) * i;
    REQUIRE(t.NextExpiry() == due);
    CHECK(t.HandleExpiry(due - k1ns).empty());
    REQUIRE(t.HandleExpiry(due) == Only(TimerAction::kSendPersistentKeepalive));
    send_keepalive(due);
  }
  // Other traffic, sent or received, pushes it back.
  const MonoTime t75 = t0 + seconds(75);
  t.OnAuthenticatedPacketTraversal(t75 + seconds(20));  // we sent data
  CHECK(t.Deadline(Timer::kPersistentKeepalive) == t75 + seconds(45));
  t.OnAuthenticatedPacketTraversal(t75 + seconds(40));  // we received something
  CHECK(t.Deadline(Timer::kPersistentKeepalive) == t75 + seconds(65));
  CHECK(t.HandleExpiry(t75 + seconds(64)).empty());
  // Setting the same interval again changes nothing; a new one fires at once.
  t.SetPersistentKeepalive(seconds(25), t75 + seconds(64));
  CHECK(t.Deadline(Timer::kPersistentKeepalive) == t75 + seconds(65));
  t.SetPersistentKeepalive(seconds(15), t75 + seconds(64));
  CHECK(t.Deadline(Timer::kPersistentKeepalive) == t75 + seconds(64));
  // 0 turns it off.
  t.SetPersistentKeepalive(seconds(0), t75 + seconds(64));
  CHECK_FALSE(t.NextExpiry().has_value());
  t.OnAuthenticatedPacketTraversal(t75 + seconds(70));
  CHECK_FALSE(t.NextExpiry().has_value());
}

TEST_CASE("passive and persistent keepalive can be due together") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  const MonoTime t0 = clock.Now();
  t.SetPersistentKeepalive(seconds(10), t0);
  REQUIRE(t.HandleExpiry(t0) == Only(TimerAction::kSendPersistentKeepalive));
  t.OnAuthenticatedPacketTraversal(t0);
  t.OnAnyAuthenticatedPacketSent(t0);
  // Data arrives at the same instant: both timers say 10 s.
  t.OnAuthenticatedPacketTraversal(t0);
  t.OnAuthenticatedPacketReceived(t0);
  t.OnDataReceived(t0);
  TimerActions both;
  both.Add(TimerAction::kSendKeepalive);
  both.Add(TimerAction::kSendPersistentKeepalive);
  CHECK(t.HandleExpiry(t0 + seconds(10)) == both);
}

TEST_CASE("key material is zeroed 540 s after the last session was derived") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  const MonoTime t0 = clock.Now();
  t.OnSessionDerived(t0);
  CHECK(t.Deadline(Timer::kZeroKeyMaterial) == t0 + seconds(540));
  // A new session moves it.
  t.OnSessionDerived(t0 + seconds(100));
  const MonoTime due = t0 + seconds(640);
  CHECK(t.NextExpiry() == due);
  CHECK(t.HandleExpiry(due - k1ns).empty());
  CHECK(t.HandleExpiry(due) == Only(TimerAction::kZeroKeyMaterial));
  CHECK_FALSE(t.NextExpiry().has_value());
}

TEST_CASE("giving up arms zeroing only when it is not already armed") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  const MonoTime t0 = clock.Now();
  t.OnSessionDerived(t0);
  SendInitiation(t, t0 + seconds(1), InitiationKind::kNew);
  for (;;) {
    clock.Advance(*t.NextExpiry() - clock.Now());
    const TimerActions got = t.HandleExpiry(clock.Now());
    if (got.Has(TimerAction::kGiveUpHandshake)) break;
    SendInitiation(t, clock.Now(), InitiationKind::kRetry);
  }
  CHECK(t.Deadline(Timer::kZeroKeyMaterial) == t0 + seconds(540));
}

TEST_CASE("Stop cancels every timer but keeps the configured interval") {
  FixedJitter j;
  PeerTimers t(j);
  FakeClock clock;
  const MonoTime now = clock.Now();
  t.SetPersistentKeepalive(seconds(25), now);
  SendInitiation(t, now, InitiationKind::kNew);
  t.OnDataSent(now);
  t.OnDataReceived(now);
  t.OnSessionDerived(now);
  for (size_t i = 0; i < kTimerCount; ++i) REQUIRE(t.Armed(static_cast<Timer>(i)));
  t.Stop();
  CHECK_FALSE(t.NextExpiry().has_value());
  CHECK(t.handshake_attempts() == 0);
  CHECK(t.HandleExpiry(now + seconds(1000)).empty());
  CHECK(t.persistent_keepalive() == seconds(25));
}

TEST_CASE("rekey on send: 120 s for the initiator, 2^60 messages for both") {
  FakeClock clock;
  const MonoTime born = clock.Now();
  KeypairUsage k{born, 0, true};
  CHECK_FALSE(RekeyOnSendDue(k, born));
  CHECK_FALSE(RekeyOnSendDue(k, born + kRekeyAfterTime - k1ns));
  CHECK(RekeyOnSendDue(k, born + kRekeyAfterTime));
  CHECK(RekeyOnSendDue(k, born + kRekeyAfterTime + k1ns));
  KeypairUsage responder{born, 0, false};
  CHECK_FALSE(RekeyOnSendDue(responder, born + seconds(179)));
  for (KeypairUsage* p : {&k, &responder}) {
    p->messages_sent = kRekeyAfterMessages - 1;
    CHECK_FALSE(RekeyOnSendDue(*p, born));
    p->messages_sent = kRekeyAfterMessages;
    CHECK_FALSE(RekeyOnSendDue(*p, born));
    p->messages_sent = kRekeyAfterMessages + 1;
    CHECK(RekeyOnSendDue(*p, born));
  }
  // A `now` from before the keypair's birth counts as age 0.
  KeypairUsage fresh{born, 0, true};
  CHECK_FALSE(RekeyOnSendDue(fresh, born - seconds(500)));
}

TEST_CASE("rekey on receive: the initiator at 165 s, once per handshake") {
  FakeClock clock;
  const MonoTime born = clock.Now();
  KeypairUsage k{born, 5, true};
  CHECK_FALSE(RekeyOnReceiveDue(k, born + kRekeyOnReceiveAge - k1ns));
  CHECK(RekeyOnReceiveDue(k, born + kRekeyOnReceiveAge));
  CHECK(RekeyOnReceiveDue(k, born + kRekeyOnReceiveAge + k1ns));
  CHECK_FALSE(RekeyOnReceiveDue(KeypairUsage{born, 5, false}, born + seconds(179)));

  FixedJitter j;
  PeerTimers t(j);
  CHECK_FALSE(t.ShouldRekeyOnReceive(k, born + kRekeyOnReceiveAge - k1ns));
  CHECK(t.ShouldRekeyOnReceive(k, born + kRekeyOnReceiveAge));
  CHECK_FALSE(t.ShouldRekeyOnReceive(k, born + kRekeyOnReceiveAge + seconds(1)));
  t.OnHandshakeComplete(born + seconds(170));
  CHECK(t.ShouldRekeyOnReceive(k, born + seconds(171)));
}

TEST_CASE("keypairs are rejected at 180 s and at REJECT_AFTER_MESSAGES") {
  FakeClock clock;
  const MonoTime born = clock.Now();
  CHECK_FALSE(KeypairExpired(born, born + kRejectAfterTime - k1ns));
  CHECK(KeypairExpired(born, born + kRejectAfterTime));
  CHECK(KeypairExpired(born, born + kRejectAfterTime + k1ns));
  CHECK_FALSE(KeypairExpired(born, born - seconds(1)));

  KeypairUsage k{born, kRejectAfterMessages - 1, false};
  CHECK(MayEncrypt(k, born));
  CHECK(MayEncrypt(k, born + kRejectAfterTime - k1ns));
  CHECK_FALSE(MayEncrypt(k, born + kRejectAfterTime));
  k.messages_sent = kRejectAfterMessages;
  CHECK_FALSE(MayEncrypt(k, born));
  k.messages_sent = UINT64_MAX;
  CHECK_FALSE(MayEncrypt(k, born));

  CHECK(MayDecrypt(born, 0, born));
  CHECK(MayDecrypt(born, kRejectAfterMessages - 1, born + kRejectAfterTime - k1ns));
  CHECK_FALSE(MayDecrypt(born, kRejectAfterMessages, born));
  CHECK_FALSE(MayDecrypt(born, 0, born + kRejectAfterTime));
}

TEST_CASE("timer events and expiry allocate nothing") {
  FixedJitter j(milliseconds(1));
  PeerTimers t(j);
  FakeClock clock;
  const long before = meshvpn::test::ThreadNewCount();
  MonoTime now = clock.Now();
  for (int i = 0; i < 1000; ++i) {
    now += milliseconds(700);
    t.SetPersistentKeepalive(seconds(i % 3 == 0 ? 0 : 25), now);
    t.OnDataSent(now);
    t.OnDataReceived(now);
    t.OnAnyAuthenticatedPacketSent(now);
    t.OnAuthenticatedPacketReceived(now);
    t.OnAuthenticatedPacketTraversal(now);
    if (i % 7 == 0) t.OnHandshakeInitiated(now, InitiationKind::kNew);
    if (i % 11 == 0) t.OnHandshakeComplete(now);
    if (i % 13 == 0) t.OnSessionDerived(now);
    (void)t.NextExpiry();
    (void)t.HandleExpiry(now);
    (void)t.ShouldRekeyOnReceive(KeypairUsage{now, 1, true}, now);
  }
  CHECK(meshvpn::test::ThreadNewCount() == before);
}

// ---- Randomized comparison against a model --------------------------------------------------
//
// The model keeps only the history of events and firings, and derives every deadline from the
// rules of whitepaper section 6 as stated in timers.h ("armed by X if idle, cancelled by Y").

enum class Ev {
  kDataSent,
  kDataReceived,
  kAnySent,
  kAuthReceived,
  kTraversal,
  kInitiatedNew,
  kInitiatedRetry,
  kComplete,
  kSessionDerived,
  kSetKeepalive,  // `interval` holds the new value; logged only when it changed
  kStop,
  kFiredRetransmit,
  kFiredGiveUp,
  kFiredNewHandshake,
  kFiredKeepalive,
  kFiredPersistent,
  kFiredZero,
};

struct Entry {
  Ev ev;
  MonoTime at;
  seconds interval{0};
};

class Model {
 public:
  explicit Model(Duration jitter) : jitter_(jitter) {}

  void Log(Ev ev, MonoTime at, seconds interval = seconds(0)) {
    if (ev == Ev::kSetKeepalive) {
      if (interval == interval_) return;
      interval_ = interval;
    }
    if (ev == Ev::kTraversal && interval_.count() > 0) interval = interval_;
    log_.push_back({ev, at, interval});
    // Zeroing depends on "armed when the give-up came", so it is tracked as it happens.
    if (ev == Ev::kSessionDerived) zero_ = at + seconds(540);
    if (ev == Ev::kFiredGiveUp && !zero_) zero_ = at + seconds(540);
    if (ev == Ev::kStop || ev == Ev::kFiredZero) zero_.reset();
  }

  // Index of the last entry whose event is in `evs`, or -1.
  long LastOf(std::initializer_list<Ev> evs) const {
    for (long i = static_cast<long>(log_.size()) - 1; i >= 0; --i) {
      for (Ev e : evs) {
        if (log_[i].ev == e) return i;
      }
    }
    return -1;
  }
  // The first entry after `from` whose event is `ev`.
  const Entry* FirstAfter(long from, Ev ev) const {
    for (size_t i = static_cast<size_t>(from + 1); i < log_.size(); ++i) {
      if (log_[i].ev == ev) return &log_[i];
    }
    return nullptr;
  }

  std::optional<MonoTime> Deadline(Timer t) const {
    switch (t) {
      case Timer::kRetransmitHandshake: {
        long i = LastOf({Ev::kInitiatedNew, Ev::kInitiatedRetry, Ev::kComplete, Ev::kStop,
                         Ev::kFiredRetransmit, Ev::kFiredGiveUp});
        if (i < 0) return std::nullopt;
        const Entry& e = log_[i];
        if (e.ev != Ev::kInitiatedNew && e.ev != Ev::kInitiatedRetry) return std::nullopt;
        return e.at + kRekeyTimeout + jitter_;
      }
      case Timer::kNewHandshake: {
        const Entry* d = FirstAfter(LastOf({Ev::kAuthReceived, Ev::kStop, Ev::kFiredNewHandshake}),
                                    Ev::kDataSent);
        if (!d) return std::nullopt;
        return d->at + seconds(15) + jitter_;
      }
      case Timer::kSendKeepalive: {
        const Entry* r =
            FirstAfter(LastOf({Ev::kAnySent, Ev::kStop, Ev::kFiredKeepalive, Ev::kFiredGiveUp}),
                       Ev::kDataReceived);
        if (!r) return std::nullopt;
        return r->at + seconds(10);
      }
      case Timer::kPersistentKeepalive: {
        const long i = LastOf({Ev::kTraversal, Ev::kSetKeepalive, Ev::kStop, Ev::kFiredPersistent});
        if (i < 0) return std::nullopt;
        const Entry& e = log_[i];
        // A traversal while the interval is 0 arms nothing (and nothing can be armed then).
        if (e.ev == Ev::kTraversal && e.interval.count() > 0) return e.at + e.interval;
        if (e.ev == Ev::kSetKeepalive && e.interval.count() > 0) return e.at;
        return std::nullopt;
      }
      case Timer::kZeroKeyMaterial:
        return zero_;
    }
    return std::nullopt;
  }

  // Initiations in the current round: since the last new one (inclusive), complete, stop or
  // give-up.
  int Attempts() const {
    long i = LastOf({Ev::kInitiatedNew, Ev::kComplete, Ev::kStop, Ev::kFiredGiveUp});
    int n = (i >= 0 && log_[i].ev == Ev::kInitiatedNew) ? 1 : 0;
    for (size_t k = static_cast<size_t>(i + 1); k < log_.size(); ++k) {
      if (log_[k].ev == Ev::kInitiatedRetry) ++n;
    }
    return n;
  }

  // Fires what is due at `now` (in timers.h's order) and returns the expected actions.
  TimerActions Expire(MonoTime now) {
    TimerActions a;
    auto due = [&](Timer t) {
      auto d = Deadline(t);
      return d && *d <= now;
    };
    if (due(Timer::kRetransmitHandshake)) {
      if (Attempts() >= kMaxTimerHandshakes) {
        a.Add(TimerAction::kGiveUpHandshake);
        Log(Ev::kFiredGiveUp, now);
      } else {
        a.Add(TimerAction::kRetransmitHandshake);
        Log(Ev::kFiredRetransmit, now);
      }
    }
    if (due(Timer::kNewHandshake)) {
      a.Add(TimerAction::kNewHandshake);
      Log(Ev::kFiredNewHandshake, now);
    }
    if (due(Timer::kSendKeepalive)) {
      a.Add(TimerAction::kSendKeepalive);
      Log(Ev::kFiredKeepalive, now);
    }
    if (due(Timer::kPersistentKeepalive)) {
      a.Add(TimerAction::kSendPersistentKeepalive);
      Log(Ev::kFiredPersistent, now);
    }
    if (due(Timer::kZeroKeyMaterial)) {
      a.Add(TimerAction::kZeroKeyMaterial);
      Log(Ev::kFiredZero, now);
    }
    return a;
  }

 private:
  Duration jitter_;
  std::vector<Entry> log_;
  seconds interval_{0};
  std::optional<MonoTime> zero_;
};

// Feeds the same events to PeerTimers and the model.
struct Pair {
  PeerTimers& t;
  Model& m;
  void DataSent(MonoTime now) {
    Traversal(now);
    AnySent(now);
    t.OnDataSent(now);
    m.Log(Ev::kDataSent, now);
  }
  void Received(MonoTime now, bool data) {
    Traversal(now);
    t.OnAuthenticatedPacketReceived(now);
    m.Log(Ev::kAuthReceived, now);
    if (data) {
      t.OnDataReceived(now);
      m.Log(Ev::kDataReceived, now);
    }
  }
  void Keepalive(MonoTime now) {
    Traversal(now);
    AnySent(now);
  }
  void Initiation(MonoTime now, InitiationKind kind) {
    Traversal(now);
    AnySent(now);
    t.OnHandshakeInitiated(now, kind);
    m.Log(kind == InitiationKind::kNew ? Ev::kInitiatedNew : Ev::kInitiatedRetry, now);
  }
  void Response(MonoTime now) {
    Received(now, false);
    t.OnSessionDerived(now);
    m.Log(Ev::kSessionDerived, now);
    t.OnHandshakeComplete(now);
    m.Log(Ev::kComplete, now);
  }
  void SetKeepalive(MonoTime now, seconds interval) {
    t.SetPersistentKeepalive(interval, now);
    m.Log(Ev::kSetKeepalive, now, interval);
  }
  void Stop(MonoTime now) {
    t.Stop();
    m.Log(Ev::kStop, now);
  }
  void Traversal(MonoTime now) {
    t.OnAuthenticatedPacketTraversal(now);
    m.Log(Ev::kTraversal, now);
  }
  void AnySent(MonoTime now) {
    t.OnAnyAuthenticatedPacketSent(now);
    m.Log(Ev::kAnySent, now);
  }
};

TEST_CASE("PeerTimers agrees with a history model on random event sequences") {
  const uint64_t seed = GENERATE(11u, 12u, 13u, 14u, 15u);
  std::mt19937_64 rng(seed);
  const Duration jitter = milliseconds(seed * 20);
  FixedJitter j(jitter);
  PeerTimers t(j);
  Model m(jitter);
  Pair p{t, m};
  FakeClock clock;
  int fired[6] = {};

  auto check_deadlines = [&] {
    for (size_t i = 0; i < kTimerCount; ++i) {
      const auto timer = static_cast<Timer>(i);
      INFO("timer " << ToString(timer));
      REQUIRE(t.Deadline(timer) == m.Deadline(timer));
    }
  };

  for (int step = 0; step < 3000; ++step) {
    INFO("seed " << seed << " step " << step);
    // Quiet periods are long sometimes, so rounds of 18 attempts and zeroing happen.
    const bool quiet = rng() % 20 == 0;
    const Duration dt = milliseconds(rng() % (quiet ? 200'000 : 12'000));
    const MonoTime target = clock.Now() + dt;
    while (t.NextExpiry() && *t.NextExpiry() <= target) {
      clock.Advance(*t.NextExpiry() - clock.Now());
      const MonoTime now = clock.Now();
      const TimerActions want = m.Expire(now);
      const TimerActions got = t.HandleExpiry(now);
      INFO("at +" << (now - FakeClock().Now()).count() << " ns");
      REQUIRE(ToString(got) == ToString(want));
      REQUIRE_FALSE(got.empty());
      for (unsigned b = 0; b < 6; ++b) fired[b] += (got.bits() >> b) & 1;
      // React like a device (usually): the packets sent in response re-arm timers.
      if (got.Has(TimerAction::kRetransmitHandshake) && rng() % 10 != 0) {
        p.Initiation(now, InitiationKind::kRetry);
      }
      if (got.Has(TimerAction::kNewHandshake)) p.Initiation(now, InitiationKind::kNew);
      if (got.Has(TimerAction::kSendKeepalive) || got.Has(TimerAction::kSendPersistentKeepalive)) {
        p.Keepalive(now);
      }
      check_deadlines();
    }
    clock.Advance(target - clock.Now());
    const MonoTime now = clock.Now();
    switch (rng() % 16) {
      case 0:
      case 1:
      case 2:
        p.DataSent(now);
        break;
      case 3:
      case 4:
        p.Received(now, /*data=*/true);
        break;
      case 5:
        p.Received(now, /*data=*/false);
        break;
      case 6:
        p.Keepalive(now);
        break;
      case 7:
        if (rng() % 3 == 0) p.Initiation(now, InitiationKind::kNew);
        break;
      case 8:
        if (rng() % 4 == 0) p.Response(now);
        break;
      case 9: {
        static constexpr seconds kIntervals[] = {seconds(0), seconds(7), seconds(25)};
        p.SetKeepalive(now, kIntervals[rng() % 3]);
        break;
      }
      case 10:
        if (rng() % 50 == 0) p.Stop(now);
        break;
      default:
        break;  // silence
    }
    check_deadlines();
    std::optional<MonoTime> want_next;
    for (size_t i = 0; i < kTimerCount; ++i) {
      auto d = m.Deadline(static_cast<Timer>(i));
      if (d && (!want_next || *d < *want_next)) want_next = d;
    }
    REQUIRE(t.NextExpiry() == want_next);
  }
  // Every kind of action happened at least once across the run.
  for (unsigned b = 0; b < 6; ++b) {
    INFO("action " << ToString(static_cast<TimerAction>(1u << b)));
    CHECK(fired[b] > 0);
  }
}

}  // namespace
}  // namespace meshvpn::wg
