// hole_punch: two peers behind NATs meet at a rendezvous server, exchange candidate addresses,
// punch through both NATs at once and talk directly - or find within a bound that they cannot
// and fall back to a relay (deep dive project 3, C project 5).
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/stderr_log_sink.h"
#include "common/tool_init.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/holepunch/interfaces.h"
#include "meshvpn/holepunch/session.h"
#include "meshvpn/holepunch/uv_runner.h"
#include "meshvpn/udp/resolve.h"

ABSL_FLAG(std::string, rendezvous, "", "the rendezvous server, HOST:PORT (required)");
ABSL_FLAG(std::string, name, "", "our name at the rendezvous (a-z, 0-9, '.', '_', '-'; required)");
ABSL_FLAG(std::string, peer, "", "the name of the peer to connect to (required)");
ABSL_FLAG(std::vector<std::string>, stun, {},
          "STUN server(s), HOST:PORT, comma-separated or repeated: they tell us our public "
          "address; two servers (or two addresses of one) also show a symmetric NAT");
ABSL_FLAG(std::string, local, "0.0.0.0:0",
          "where our socket binds (\"0.0.0.0:0\": any free port, IPv4)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5),
          "no direct path this long after the peer's info arrived: fall back to relay");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(60), "how long to wait for the peer to register");
ABSL_FLAG(std::string, message, "<default>",
          "text to send once connected (default \"Hello from NAME!\"; empty: none)");
ABSL_FLAG(absl::Duration, hold, absl::ZeroDuration(),
          "after the messages, keep the path open this long (keepalives; \"inf\": until Ctrl-C)");
ABSL_FLAG(absl::Duration, keepalive, absl::Seconds(5),
          "ping on the chosen path this often to keep both NATs' mappings open");
ABSL_FLAG(bool, birthday, false,
          "after a failed punch, try birthday probing if exactly one NAT is symmetric");
ABSL_FLAG(absl::Duration, birthday_timeout, absl::Seconds(30), "how long birthday probing runs");
ABSL_FLAG(int32_t, hard_sockets, 256, "birthday, hard side: sockets to send from");
ABSL_FLAG(int32_t, spray_rate, 200, "birthday, easy side: probes per second");
ABSL_FLAG(std::string, peer_key, "",
          "the peer's public key (base64) if known: refuse any other (the rendezvous server "
          "could otherwise hand us a key of its own)");
ABSL_FLAG(bool, verbose, false, "print every pong and socket setup");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage = R"(connect to a peer behind a NAT directly, by UDP hole punching.

How it works (the way Tailscale does it):
  1. Candidates. Our socket's own addresses (useful on the same LAN) and, if --stun
     is given, our public address:port as STUN servers see it through our NAT.
  2. Rendezvous. We register our name, the peer we want, a fresh public key and the
     candidates with the rendezvous server, from the same socket. When the peer has
     registered too, the server sends each of us the other's key and candidates at
     the same moment.
  3. Punching. Both send authenticated pings to every candidate of the other at
     once, again after 0.1, 0.3, 0.7, 1.5, 2.5, ... s. Our outgoing ping opens our
     NAT for the peer's address; the peer's ping opens its NAT for ours; once both
     have sent, pings get through and are answered by pongs. A ping from an address
     we did not know (a symmetric NAT picks a new port per destination) becomes a
     new candidate. The first pong proves a path works both ways: "Direct connection
     established", with its round-trip time.
  4. Keepalives hold the NAT mappings open; messages go over the path.
  5. No pong within --timeout (5 s): the peer is unreachable directly: "fall back to
     relay" (a DERP-like relay would carry the traffic; not part of this tool).
     With --birthday, a pair with exactly one symmetric NAT then tries birthday
     probing: the symmetric side sends from 256 sockets, the other side probes
     random ports of its public address, until one lands (Tailscale's "How NAT
     traversal works").
Pings and pongs carry a MAC under a key both peers derive from their X25519 keys:
nobody else (not even the rendezvous server) can fake a working path.

Which NATs can punch? Most home routers map one inside port to one public port for
every destination ("cone"); two cones always connect. A symmetric NAT (a new port
per destination: carrier-grade NAT, some firewalls) connects to a cone that filters
by address only, or not at all, but not to a port-restricted cone nor to another
symmetric NAT. Try them all with natlab (docs/labs/hole_punch.md).

Examples (natlab: sudo tools/natlab/natlab up pair:full-cone,port-restricted-cone):
  natlab exec -d rendezvous -- rendezvous --listen 203.0.113.20:9000
  natlab exec -d stun -- stun_server --listen 203.0.113.10:3478 \
                                     --alt-address 203.0.113.11 --alt-port 3479
  natlab exec a -- hole_punch --rendezvous 203.0.113.20:9000 --name alice --peer bob \
                              --stun 203.0.113.10:3478,203.0.113.11:3479
  natlab exec b -- hole_punch --rendezvous 203.0.113.20:9000 --name bob --peer alice \
                              --stun 203.0.113.10:3478,203.0.113.11:3479

The last line is machine-readable: "Result: direct ...", "Result: relay ...",
"Result: no-peer" or "Result: failed ...". Exit status: 0 direct, 3 relay (no
direct path, or UDP to the rendezvous blocked), 4 the peer never came, 1 errors,
2 bad flags.

Flags:)";

// --stun may be repeated; abseil keeps only the last value, so collect them all first.
std::vector<std::string> CollectRepeated(int argc, char** argv, std::string_view flag) {
  std::vector<std::string> out;
  auto add = [&](std::string_view v) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string_view::npos) comma = v.size();
      if (comma > start) out.emplace_back(v.substr(start, comma - start));
      start = comma + 1;
    }
  };
  const std::string dashes = absl::StrFormat("--%s", flag);
  const std::string single = absl::StrFormat("-%s", flag);
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    for (std::string_view name : {std::string_view(dashes), std::string_view(single)}) {
      if (a == name && i + 1 < argc) {
        add(argv[i + 1]);
      } else if (a.size() > name.size() && a.substr(0, name.size()) == name &&
                 a[name.size()] == '=') {
        add(a.substr(name.size() + 1));
      }
    }
  }
  return out;
}

// The source address the kernel would use toward `to` (a connected UDP socket's name).
std::optional<udp::Endpoint> RouteSource(const udp::Endpoint& to) {
  sockaddr_storage ss{};
  const socklen_t len = to.ToSockaddr(to.family(), &ss);
  if (len == 0) return std::nullopt;
  const int fd = socket(to.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return std::nullopt;
  std::optional<udp::Endpoint> result;
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0) {
    result = udp::Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&local), local_len);
  }
  close(fd);
  return result;
}

int64_t Millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}
double Seconds(Duration d) { return static_cast<double>(Millis(d)) / 1000.0; }

// The peer is authenticated, but its text still must not drive our terminal (escape sequences).
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out;
}

std::string Describe(const holepunch::Candidate& c) {
  return absl::StrFormat("%s (%s)", c.endpoint.ToString(), holepunch::ToString(c.kind));
}

class App final : public holepunch::UvRunner::Listener {
 public:
  struct Config {
    std::string name;
    std::string peer;
    std::string message;
    udp::Endpoint rendezvous;
    std::optional<Duration> hold;  // nullopt: forever
    Duration exchange_wait = std::chrono::seconds(3);
    bool verbose = false;
  };

  App(Config config, uv_loop_t* loop, holepunch::Session* session, holepunch::UvRunner* runner)
      : config_(std::move(config)), loop_(loop), session_(session), runner_(runner) {}

  absl::Status Init() {
    auto timer = UvTimer::Create(loop_, uv_timer_init);
    if (!timer.ok()) return timer.status();
    timer_ = std::move(*timer);
    timer_.set_owner(this);
    return absl::OkStatus();
  }

  void OnProgress() override {
    while (auto e = session_->NextEvent()) Print(*e);
    Step();
    std::fflush(stdout);
  }

  // Ctrl-C: report what we have and stop.
  void Interrupt() {
    std::printf("Interrupted.\n");
    if (exit_code_ < 0) {
      Finish(session_->state() == holepunch::SessionState::kDirect ? 0 : 1,
             session_->state() == holepunch::SessionState::kDirect ? DirectResult()
                                                                   : "failed reason=interrupted");
    }
    std::fflush(stdout);
  }

  int exit_code() const { return exit_code_ < 0 ? 1 : exit_code_; }

 private:
  enum class Phase { kRunning, kExchanging, kHolding, kDone };

  static void OnTimer(uv_timer_t* handle) {
    if (handle->data != nullptr) static_cast<App*>(handle->data)->OnProgress();
  }

  void Print(const holepunch::Event& e) {
    using holepunch::EventType;
    switch (e.type) {
      case EventType::kStunMapped:
        if (e.flag) {
          std::printf("[STUN] %s sees us as %s (%lldms)\n", e.peer_endpoint.ToString().c_str(),
                      e.endpoint.ToString().c_str(), static_cast<long long>(Millis(e.rtt)));
        } else {
          std::printf("[STUN] %s: no answer (%s)\n", e.peer_endpoint.ToString().c_str(),
                      e.text.c_str());
        }
        break;
      case EventType::kCandidates: {
        std::printf("Candidates discovered: %lld\n", static_cast<long long>(e.count));
        if (const holepunch::GatherResult* g = session_->gather_result()) {
          for (const holepunch::Candidate& c : g->candidates) {
            std::printf("  %s\n", Describe(c).c_str());
          }
          size_t answered = 0;
          for (const auto& a : g->answers) answered += a.mapped.has_value() ? 1 : 0;
          if (e.flag) {
            announced_hard_ = true;
            std::printf(
                "NAT mapping: varies by destination (symmetric, a \"hard\" NAT): peers cannot "
                "predict our public port\n");
          } else if (answered >= 2) {
            std::printf("NAT mapping: the same public endpoint for every server (a cone NAT)\n");
          }
        }
        std::printf("Connecting to rendezvous server %s...\n",
                    config_.rendezvous.ToString().c_str());
        break;
      }
      case EventType::kRegistered:
        std::printf("Registered as: %s (%s as the rendezvous sees us)\n", config_.name.c_str(),
                    e.endpoint.ToString().c_str());
        if (e.flag && !announced_hard_) {
          std::printf("NAT mapping: varies by destination (symmetric, a \"hard\" NAT)\n");
        }
        std::printf("Waiting for peer '%s'...\n", config_.peer.c_str());
        break;
      case EventType::kPeerFound: {
        const auto& info = session_->peer();
        const holepunch::Candidate* best = nullptr;
        for (const holepunch::Candidate& c : info->candidates) {
          if (best == nullptr || (best->kind != holepunch::CandidateKind::kStun &&
                                  c.kind != holepunch::CandidateKind::kLocal)) {
            best = &c;
          }
        }
        std::printf("[Rendezvous] Peer '%s' is at %s\n", e.text.c_str(),
                    best ? best->endpoint.ToString().c_str() : "(no candidates)");
        for (const holepunch::Candidate& c : info->candidates) {
          std::printf("[Rendezvous]   candidate %s\n", Describe(c).c_str());
        }
        break;
      }
      case EventType::kPunchStarted:
        if (session_->peer_hard_nat()) {
          std::printf("[HolePunch] The peer's NAT maps per destination (symmetric)\n");
        }
        std::printf("[HolePunch] Sending punch packets to %lld candidates at once...\n",
                    static_cast<long long>(e.count));
        if (session_->birthday_role() != holepunch::BirthdayRole::kNone) {
          std::printf("[HolePunch] Birthday probing armed: we are the %s\n",
                      std::string(holepunch::ToString(session_->birthday_role())).c_str());
        }
        break;
      case EventType::kAttempt:
        std::printf("[HolePunch] Attempt %lld: sent %lld pings, waiting...\n",
                    static_cast<long long>(e.count), static_cast<long long>(e.value));
        break;
      case EventType::kPeerReflexive:
        std::printf(
            "[HolePunch] A ping came from %s: a new (peer-reflexive) candidate - its NAT picked "
            "that port for us\n",
            e.candidate.endpoint.ToString().c_str());
        break;
      case EventType::kPathConfirmed:
        if (config_.verbose || session_->state() != holepunch::SessionState::kDirect) {
          std::printf("[HolePunch] Pong from %s: this path works (RTT %lldms)\n",
                      Describe(e.candidate).c_str(), static_cast<long long>(Millis(e.rtt)));
        }
        break;
      case EventType::kDirect: {
        direct_ = e;
        if (e.flag) {
          const holepunch::PunchStats& st = session_->punch()->stats();
          std::printf(
              "[Birthday] SUCCESS! A probe landed after %.2fs of probing (%llu %s)\n",
              Seconds(e.at - birthday_started_),
              static_cast<unsigned long long>(st.spray_sent > 0 ? st.spray_sent : st.opener_sent),
              st.spray_sent > 0 ? "probes sent" : "opener pings sent");
        }
        std::printf("[HolePunch] SUCCESS! Direct connection established! (after %.2fs)\n",
                    Seconds(e.elapsed));
        const auto local = RouteSource(e.candidate.endpoint);
        std::printf("Direct P2P connection established:\n");
        std::printf("Local: %s (public %s as %s sees us)\n",
                    local
                        ? local->WithPort(runner_->local_endpoint(e.slot).port()).ToString().c_str()
                        : runner_->local_endpoint(e.slot).ToString().c_str(),
                    e.endpoint.ToString().c_str(), config_.peer.c_str());
        std::printf("Remote: %s\n", Describe(e.candidate).c_str());
        std::printf("RTT: %lldms\n", static_cast<long long>(Millis(e.rtt)));
        StartExchange(e.at);
        break;
      }
      case EventType::kPathChanged:
        std::printf("[HolePunch] Switched to a better path: %s (RTT %lldms)\n",
                    Describe(e.candidate).c_str(), static_cast<long long>(Millis(e.rtt)));
        if (direct_) direct_->candidate = e.candidate;
        break;
      case EventType::kPathLost:
        std::printf("[HolePunch] Path lost (no pong for too long): punching again\n");
        break;
      case EventType::kRelayFallback: {
        const holepunch::Punch* p = session_->punch();
        std::printf(
            "[HolePunch] FAILED: no direct path after %.1fs (%lld attempts; %llu pings sent, "
            "%llu answered in all)\n",
            Seconds(e.elapsed), static_cast<long long>(e.count),
            static_cast<unsigned long long>(p->stats().pings_sent),
            static_cast<unsigned long long>(p->stats().pongs_received));
        std::printf("Unreachable directly -> fall back to relay (DERP)\n");
        relay_at_ = e.elapsed;
        break;
      }
      case EventType::kBirthdayStarted:
        birthday_started_ = e.at;
        if (session_->birthday_role() == holepunch::BirthdayRole::kHardSide) {
          std::printf(
              "[Birthday] We are the hard side: sending from %lld sockets, each opens its own "
              "port on our NAT\n",
              static_cast<long long>(e.count));
        } else {
          std::printf(
              "[Birthday] We are the easy side: probing random ports of the peer's public address "
              "at %lld per second\n",
              static_cast<long long>(e.count));
        }
        break;
      case EventType::kBirthdayGaveUp:
        std::printf("[Birthday] Gave up after %.1fs (%lld probes)\n", Seconds(e.elapsed),
                    static_cast<long long>(e.value));
        break;
      case EventType::kKeepalive:
        std::printf("[Keepalive] RTT %lldms\n", static_cast<long long>(Millis(e.rtt)));
        break;
      case EventType::kMessageReceived:
        std::printf("Received: \"%s\"\n", Printable(e.text).c_str());
        received_ = e.text;
        break;
      case EventType::kMessageDelivered:
        if (config_.verbose) {
          std::printf("[Message] acked after %lldms\n", static_cast<long long>(Millis(e.rtt)));
        }
        delivered_ = true;
        break;
      case EventType::kMessageFailed:
        std::printf("[Message] not acknowledged by the peer\n");
        send_failed_ = true;
        break;
      case EventType::kRendezvousUnreachable:
        failure_ = e.type;
        std::printf(
            "No answer from the rendezvous server after %.1fs (%lld Registers sent): UDP is "
            "blocked, or the server is down\n",
            Seconds(e.elapsed), static_cast<long long>(e.count));
        break;
      case EventType::kRegisterRejected:
        failure_ = e.type;
        std::printf("The rendezvous server refused us: %s\n", e.text.c_str());
        if (e.text == holepunch::ToString(holepunch::RegisterErrorCode::kNameTaken)) {
          std::printf(
              "(a name is held by the key that registered it until its lease ends: "
              "retry in a few seconds, or pick another name)\n");
        }
        break;
      case EventType::kPeerTimeout:
        failure_ = e.type;
        std::printf("Peer '%s' did not show up at the rendezvous\n", config_.peer.c_str());
        break;
      case EventType::kPeerKeyMismatch:
        failure_ = e.type;
        std::printf("Refusing peer '%s': %s is not the expected key\n", config_.peer.c_str(),
                    e.text.c_str());
        break;
    }
  }

  std::string DirectResult() const {
    if (!direct_) return "direct";
    const holepunch::Punch* p = session_->punch();
    const holepunch::Path* path = p ? p->current_path() : nullptr;
    const holepunch::Candidate remote = path ? path->remote : direct_->candidate;
    return absl::StrFormat("direct remote=%s kind=%s rtt_ms=%d time_s=%.3f birthday=%s",
                           remote.endpoint.ToString(), holepunch::ToString(remote.kind),
                           Millis(direct_->rtt), Seconds(direct_->elapsed),
                           direct_->flag ? "yes" : "no");
  }

  // Once direct: send our message (one exchange per run).
  void StartExchange(MonoTime now) {
    if (phase_ != Phase::kRunning) return;
    phase_ = Phase::kExchanging;
    exchange_deadline_ = now + config_.exchange_wait;
    if (config_.message.empty()) return;
    std::printf("Sending message: \"%s\"\n", config_.message.c_str());
    if (auto st = session_->SendMessage(AsBytes(config_.message), now); st.ok()) {
      runner_->Poke();
    } else {
      std::printf("[Message] could not send: %s\n", st.ToString().c_str());
      send_failed_ = true;
    }
  }

  void Step() {
    if (phase_ == Phase::kDone) return;
    const MonoTime now = RealClock::Instance().Now();
    using holepunch::SessionState;
    switch (session_->state()) {
      case SessionState::kDirect:
        StartExchange(now);
        break;
      case SessionState::kRelay:
        if (!session_->punch()->birthday_active()) {
          // Never direct, or direct until the path died and the new punch failed too.
          Finish(3, phase_ == Phase::kRunning
                        ? absl::StrFormat("relay reason=no-direct-path time_s=%.3f",
                                          Seconds(relay_at_))
                        : std::string("relay reason=path-lost"));
          return;
        }
        break;
      case SessionState::kFailed:
        switch (failure_) {
          case holepunch::EventType::kPeerTimeout:
            Finish(4, "no-peer");
            break;
          case holepunch::EventType::kRendezvousUnreachable:
            Finish(3, "relay reason=rendezvous-unreachable");
            break;
          case holepunch::EventType::kPeerKeyMismatch:
            Finish(1, "failed reason=peer-key");
            break;
          default:
            Finish(1, "failed reason=rendezvous-refused");
            break;
        }
        return;
      default:
        break;
    }
    if (phase_ == Phase::kExchanging) {
      const bool mine_done = config_.message.empty() || delivered_ || send_failed_;
      if (mine_done && (received_ || now >= exchange_deadline_)) {
        if (!received_ && !config_.message.empty()) {
          std::printf("(no message from %s)\n", config_.peer.c_str());
        }
        phase_ = Phase::kHolding;
        if (config_.hold) {
          hold_deadline_ = now + *config_.hold;
          if (*config_.hold > Duration::zero()) {
            std::printf("Holding the path for %.0fs (keepalives every few seconds)...\n",
                        Seconds(*config_.hold));
          }
        } else {
          std::printf("Holding the path until Ctrl-C...\n");
        }
      }
    }
    if (phase_ == Phase::kHolding && config_.hold && now >= hold_deadline_) {
      if (session_->state() == SessionState::kDirect) {
        Finish(0, DirectResult());
      } else {
        Finish(3, "relay reason=path-lost");
      }
      return;
    }
    // Wake up for our own deadlines (the core wakes the runner only for its timers).
    uv_timer_stop(timer_.get());
    std::optional<MonoTime> next;
    if (phase_ == Phase::kExchanging) next = exchange_deadline_;
    if (phase_ == Phase::kHolding && config_.hold) next = hold_deadline_;
    if (next) {
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - now);
      uv_timer_start(timer_.get(), &App::OnTimer,
                     static_cast<uint64_t>(std::max<int64_t>(wait.count(), 0)) + 1, 0);
    }
  }

  void Finish(int code, const std::string& result) {
    phase_ = Phase::kDone;
    exit_code_ = code;
    std::printf("Result: %s\n", result.c_str());
    uv_timer_stop(timer_.get());
    runner_->Stop();
    uv_stop(loop_);
  }

  Config config_;
  uv_loop_t* loop_;
  holepunch::Session* session_;
  holepunch::UvRunner* runner_;
  UvTimer timer_;
  Phase phase_ = Phase::kRunning;
  int exit_code_ = -1;
  std::optional<holepunch::Event> direct_;
  std::optional<std::string> received_;
  bool delivered_ = false;
  bool send_failed_ = false;
  bool announced_hard_ = false;
  holepunch::EventType failure_ = holepunch::EventType::kRegisterRejected;
  Duration relay_at_{};
  MonoTime birthday_started_{};
  MonoTime exchange_deadline_{};
  MonoTime hold_deadline_{};
};

struct Signals {
  UvSignal sigint;
  UvSignal sigterm;
  App* app = nullptr;
  static void OnSignal(uv_signal_t* handle, int) {
    if (handle->data != nullptr) static_cast<Signals*>(handle->data)->app->Interrupt();
  }
};

int Main(int argc, char** argv) {
  std::vector<std::string> stun_names = CollectRepeated(argc, argv, "stun");
  InitTool(argc, argv, kUsage);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  StderrLogSink sink;
  const std::string name = absl::GetFlag(FLAGS_name);
  const std::string peer = absl::GetFlag(FLAGS_peer);
  if (absl::GetFlag(FLAGS_rendezvous).empty() || name.empty() || peer.empty()) {
    std::fprintf(stderr, "hole_punch: --rendezvous, --name and --peer are required (--help)\n");
    return 2;
  }
  auto rendezvous = udp::Resolve(absl::GetFlag(FLAGS_rendezvous), udp::AddressFamily::kIpv4);
  if (!rendezvous.ok()) {
    std::fprintf(stderr, "hole_punch: --rendezvous: %s\n", rendezvous.status().ToString().c_str());
    return 2;
  }
  auto local = udp::Endpoint::Parse(absl::GetFlag(FLAGS_local));
  if (!local.ok()) {
    std::fprintf(stderr, "hole_punch: --local: %s\n", local.status().ToString().c_str());
    return 2;
  }
  std::vector<udp::Endpoint> stun_servers;
  for (const std::string& s : stun_names) {
    auto e = udp::Resolve(s, udp::AddressFamily::kIpv4);
    if (!e.ok()) {
      std::fprintf(stderr, "hole_punch: --stun %s: %s\n", s.c_str(), e.status().ToString().c_str());
      return 2;
    }
    stun_servers.push_back(*e);
  }
  std::optional<x25519::PublicKey> peer_key;
  if (!absl::GetFlag(FLAGS_peer_key).empty()) {
    auto k = x25519::PublicKey::FromBase64(absl::GetFlag(FLAGS_peer_key));
    if (!k.ok()) {
      std::fprintf(stderr, "hole_punch: --peer-key: %s\n", k.status().ToString().c_str());
      return 2;
    }
    peer_key = *k;
  }
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  const absl::Duration keepalive = absl::GetFlag(FLAGS_keepalive);
  const int32_t hard_sockets = absl::GetFlag(FLAGS_hard_sockets);
  if (timeout <= absl::ZeroDuration() || keepalive <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_wait) <= absl::ZeroDuration() || hard_sockets < 1 ||
      hard_sockets > 1000 || absl::GetFlag(FLAGS_spray_rate) < 1 ||
      absl::GetFlag(FLAGS_spray_rate) > 10000) {
    std::fprintf(stderr,
                 "hole_punch: durations must be positive, --hard-sockets 1..1000, --spray-rate "
                 "1..10000\n");
    return 2;
  }

  UvLoop loop;
  int rc = 1;
  {
    holepunch::UvRunnerOptions ro;
    ro.bind = *local;
    if (absl::GetFlag(FLAGS_verbose)) ro.logger = Logger(&sink, "udp");
    auto runner = holepunch::UvRunner::Create(loop.get(), ro);
    if (!runner.ok()) {
      std::fprintf(stderr, "hole_punch: %s\n", runner.status().ToString().c_str());
      return 1;
    }
    const udp::Endpoint bound = (*runner)->local_endpoint();

    holepunch::SessionOptions so;
    so.name = name;
    so.peer = peer;
    so.rendezvous = *rendezvous;
    so.stun_servers = stun_servers;
    holepunch::InterfaceFilter filter;
    filter.ipv6 = bound.is_v6();
    filter.loopback = rendezvous->IsLoopback();
    if (auto addrs = holepunch::InterfaceAddresses(filter); addrs.ok()) {
      so.local_addresses = *addrs;
    }
    if (!bound.IsUnspecified()) so.local_addresses = {bound.WithPort(0)};
    so.port = bound.port();
    so.expected_peer_key = peer_key;
    so.peer_timeout = absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_wait));
    so.punch.timeout = absl::ToChronoNanoseconds(timeout);
    so.punch.keepalive_interval = absl::ToChronoNanoseconds(keepalive);
    so.punch.path_timeout = so.punch.keepalive_interval * 3 + std::chrono::seconds(1);
    so.punch.hard_side_sockets = static_cast<uint16_t>(hard_sockets);
    so.punch.spray_rate = absl::GetFlag(FLAGS_spray_rate);
    so.punch.birthday_timeout = absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_birthday_timeout));
    so.birthday = absl::GetFlag(FLAGS_birthday);
    auto session = holepunch::Session::Create(std::move(so), RealClock::Instance().Now());
    if (!session.ok()) {
      std::fprintf(stderr, "hole_punch: %s\n", session.status().ToString().c_str());
      return 2;
    }

    App::Config config;
    config.name = name;
    config.peer = peer;
    config.rendezvous = *rendezvous;
    config.message = absl::GetFlag(FLAGS_message) == "<default>"
                         ? absl::StrFormat("Hello from %s!", name)
                         : absl::GetFlag(FLAGS_message);
    const absl::Duration hold = absl::GetFlag(FLAGS_hold);
    if (hold != absl::InfiniteDuration()) config.hold = absl::ToChronoNanoseconds(hold);
    config.verbose = absl::GetFlag(FLAGS_verbose);
    App app(config, loop.get(), session->get(), runner->get());
    if (auto st = app.Init(); !st.ok()) {
      std::fprintf(stderr, "hole_punch: %s\n", st.ToString().c_str());
      return 1;
    }
    Signals signals;
    signals.app = &app;
    signals.sigint = *UvSignal::Create(loop.get(), uv_signal_init);
    signals.sigterm = *UvSignal::Create(loop.get(), uv_signal_init);
    signals.sigint.set_owner(&signals);
    signals.sigterm.set_owner(&signals);
    uv_signal_start(signals.sigint.get(), &Signals::OnSignal, SIGINT);
    uv_signal_start(signals.sigterm.get(), &Signals::OnSignal, SIGTERM);

    std::printf("Local socket: %s, our key %s\n", bound.ToString().c_str(),
                (*session)->public_key().ToBase64().c_str());
    if (stun_servers.empty()) {
      std::printf("No --stun server: the rendezvous server's view is our only public candidate\n");
    } else {
      std::printf("Asking %zu STUN server(s) for our public address...\n", stun_servers.size());
    }
    if (auto st = (*runner)->Start(session->get(), &app); !st.ok()) {
      std::fprintf(stderr, "hole_punch: %s\n", st.ToString().c_str());
      return 1;
    }
    loop.Run();
    (*runner)->Stop();
    rc = app.exit_code();
  }
  loop.Close();
  return rc;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
