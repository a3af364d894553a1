// bench_control_clients: N simulated nodes on one loop, each a real UvControlClient (its own
// machine and node key, the Noise channel over TCP loopback, registration with a pre-auth key,
// the map stream) against bench_control_server. They keep no netmap (keep_netmap=false: each
// message is decrypted and parsed, counted and dropped), except --samples of them that keep it
// so that the change can be checked in their maps.
//
//   bench_control_clients --port P --key K --server-key HEX --nodes N [--group 100]
//                         [--window 200] [--samples 3] [--quiet-ms 2000]
//
// Connects with at most --window attempts in flight (so the server's accept backlog is never
// overrun), and prints, once every node holds a full map and the stream has been quiet for
// --quiet-ms:
//   CONNECTED {"nodes":N,"all_full_s":...,...}
// Then reads commands on stdin:
//   change   one node (the same every time) reports a new endpoint; prints, once every peer
//            that can see it (N-1, or the 99 others of its group of --group) has received a
//            map message after it, and the stream has been quiet again:
//            CHANGED {"propagation_s":...,"viewers":...,"deltas":...,"full_maps":...,...}
//   quit
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench_util.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/control/uv_control_client.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::control {
namespace {

using Clock = std::chrono::steady_clock;

class Driver;

struct Sim final : ControlClientEvents {
  Driver* driver = nullptr;
  size_t index = 0;
  x25519::KeyPair machine;
  x25519::KeyPair node;
  std::unique_ptr<UvControlClient> client;
  bool sample = false;
  bool started = false;
  bool has_full = false;
  uint64_t node_id = 0;
  uint64_t full_maps = 0;
  uint64_t deltas = 0;
  uint64_t keepalives = 0;
  uint64_t errors = 0;
  uint64_t backoffs = 0;
  uint64_t seen_generation = 0;  // the last change this node has heard of

  void OnRegistered(const v1::RegisterResponse& r) override { node_id = r.node().id(); }
  void OnStateChanged(ClientState s) override;
  void OnNetmap(const Netmap&, const NetmapChange& change) override;
  void OnError(const absl::Status& e) override;
};

struct Options {
  uint16_t port = 0;
  std::string key;
  std::string server_key_hex;
  size_t nodes = 1000;
  uint64_t group = 0;  // 0: full mesh
  size_t window = 200;
  size_t samples = 3;
  int quiet_ms = 2000;
  double change_timeout_s = 900;
};

class Driver {
 public:
  Driver(uv_loop_t* loop, Options options) : loop_(loop), options_(std::move(options)) {}

  bool Init() {
    auto server_key = x25519::PublicKey::FromHex(options_.server_key_hex);
    if (!server_key.ok()) {
      std::fprintf(stderr, "clients: bad --server-key\n");
      return false;
    }
    server_key_ = *server_key;
    sims_.resize(options_.nodes);
    for (size_t i = 0; i < options_.nodes; ++i) {
      auto sim = std::make_unique<Sim>();
      auto m = x25519::GenerateKeyPair();
      auto n = x25519::GenerateKeyPair();
      if (!m.ok() || !n.ok()) return false;
      sim->driver = this;
      sim->index = i;
      sim->machine = *std::move(m);
      sim->node = *std::move(n);
      sim->sample = i < options_.samples;
      ChannelClientOptions channel;
      channel.host = "127.0.0.1";
      channel.port = options_.port;
      channel.machine_key = &sim->machine.private_key;
      channel.server_key = server_key_;
      ControlClientConfig config;
      config.node_key = sim->node.public_key;
      config.hostinfo.set_hostname("node-" + std::to_string(i));
      config.hostinfo.set_os("linux");
      config.auth_key = options_.key;
      config.keep_netmap = sim->sample;
      config.seed = static_cast<uint32_t>(i + 1);
      auto c = UvControlClient::Create(loop_, channel, config, sim.get());
      if (!c.ok()) {
        std::fprintf(stderr, "clients: %s\n", std::string(c.status().message()).c_str());
        return false;
      }
      sim->client = std::move(*c);
      // Two endpoints, as a node behind NAT reports them: realistic map sizes.
      sim->client->SetEndpoints({"203.0.113." + std::to_string(i % 250 + 1) + ":41641",
                                 "192.168." + std::to_string(i / 250 % 250) + "." +
                                     std::to_string(i % 250 + 1) + ":41641"});
      sims_[i] = std::move(sim);
    }
    uv_timer_init(loop_, &tick_);
    tick_.data = this;
    start_ = Clock::now();
    last_message_ = start_;
    uv_timer_start(
        &tick_, [](uv_timer_t* t) { static_cast<Driver*>(t->data)->Tick(); }, 5, 5);
    TopUp();
    return true;
  }

  void Close() {
    for (auto& s : sims_) s->client.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  }

  // Events from the simulated nodes.
  void OnMessage() { last_message_ = Clock::now(); }
  void OnFirstFull(Sim& s) {
    (void)s;
    ++have_full_;
    --in_flight_;
    if (have_full_ == sims_.size()) all_full_s_ = bench::SecondsSince(start_);
  }
  void OnChangeSeen(Sim& s, bool full) {
    if (change_ == nullptr) return;
    if (&s == change_) {
      ++change_self_messages_;
      return;
    }
    if (!Viewer(s)) {
      ++change_unexpected_;
      return;
    }
    (void)full;
    if (++change_seen_ == change_expected_) {
      change_done_s_ = bench::SecondsSince(change_start_);
      std::fprintf(stderr, "clients: every one of %zu viewers has the change (%.3f s)\n",
                   change_expected_, change_done_s_);
    }
  }
  uint64_t generation() const { return generation_; }

  void Command(const std::string& line) {
    if (line == "change") {
      StartChange();
    } else if (line == "quit") {
      uv_stop(loop_);
    } else if (!line.empty()) {
      std::printf("ERROR unknown command: %s\n", line.c_str());
      std::fflush(stdout);
    }
  }

 private:
  bool Viewer(const Sim& s) const {
    if (&s == change_ || s.node_id == 0) return false;
    if (options_.group == 0) return true;
    return (s.node_id - 1) / options_.group == (change_->node_id - 1) / options_.group;
  }

  void TopUp() {
    while (next_ < sims_.size() && in_flight_ < options_.window) {
      sims_[next_]->started = true;
      sims_[next_]->client->Start();
      ++next_;
      ++in_flight_;
    }
  }

  void Tick() {
    TopUp();
    const double t = bench::SecondsSince(start_);
    if (t - last_progress_ >= 2.0 && !connected_printed_) {
      last_progress_ = t;
      std::fprintf(stderr, "clients: %.1f s: %zu started, %zu hold a full map\n", t, next_,
                   have_full_);
    }
    const auto quiet = std::chrono::milliseconds(options_.quiet_ms);
    if (!connected_printed_ && have_full_ == sims_.size() &&
        Clock::now() - last_message_ >= quiet) {
      connected_printed_ = true;
      PrintConnected();
    }
    if (change_ != nullptr && !change_printed_) {
      const bool done = change_seen_ >= change_expected_;
      const bool timed_out = bench::SecondsSince(change_start_) > options_.change_timeout_s;
      if ((done && Clock::now() - last_message_ >= quiet) || timed_out) {
        change_printed_ = true;
        PrintChanged(done);
      } else if (!done && t - last_progress_ >= 5.0) {
        last_progress_ = t;
        std::fprintf(stderr, "clients: change: %zu of %zu viewers have it (%.1f s)\n", change_seen_,
                     change_expected_, bench::SecondsSince(change_start_));
      }
    }
  }

  struct Totals {
    uint64_t full_maps = 0, deltas = 0, keepalives = 0, errors = 0, backoffs = 0;
  };
  Totals Sum() const {
    Totals t;
    for (const auto& s : sims_) {
      t.full_maps += s->full_maps;
      t.deltas += s->deltas;
      t.keepalives += s->keepalives;
      t.errors += s->errors;
      t.backoffs += s->backoffs;
    }
    return t;
  }

  void PrintConnected() {
    const Totals t = Sum();
    std::printf(
        "CONNECTED {\"nodes\":%zu,\"all_full_s\":%.3f,\"full_maps\":%llu,\"deltas\":%llu,"
        "\"errors\":%llu,\"backoffs\":%llu,\"client_cpu_s\":%.6f,\"client_rss_kb\":%llu}\n",
        sims_.size(), all_full_s_, static_cast<unsigned long long>(t.full_maps),
        static_cast<unsigned long long>(t.deltas), static_cast<unsigned long long>(t.errors),
        static_cast<unsigned long long>(t.backoffs), bench::CpuSeconds(),
        static_cast<unsigned long long>(bench::ProcStatusKb("VmRSS")));
    std::fflush(stdout);
    std::fprintf(stderr, "clients: all %zu hold a full map after %.2f s\n", sims_.size(),
                 all_full_s_);
  }

  void StartChange() {
    if (!connected_printed_ || (change_ != nullptr && !change_printed_)) {
      std::printf("ERROR not ready for a change\n");
      std::fflush(stdout);
      return;
    }
    // The node that moves: for groups, one in the block of sample 0 (so the samples can check
    // it), else one in the middle; never a sample.
    Sim* mover = nullptr;
    const Sim& probe = *sims_[0];
    for (size_t k = 0; k < sims_.size() && mover == nullptr; ++k) {
      Sim& s = *sims_[(sims_.size() / 2 + k) % sims_.size()];
      if (s.sample || s.node_id == 0) continue;
      if (options_.group != 0 &&
          (s.node_id - 1) / options_.group != (probe.node_id - 1) / options_.group) {
        continue;
      }
      mover = &s;
    }
    if (mover == nullptr) {
      std::printf("ERROR no node to move\n");
      std::fflush(stdout);
      return;
    }
    change_ = mover;
    change_expected_ = 0;
    for (const auto& s : sims_) change_expected_ += Viewer(*s) ? 1 : 0;
    change_seen_ = 0;
    change_unexpected_ = 0;
    change_self_messages_ = 0;
    change_printed_ = false;
    change_done_s_ = -1;
    before_ = Sum();
    ++generation_;
    endpoint_ = "198.51.100." + std::to_string(generation_ % 250 + 1) + ":" +
                std::to_string(40000 + generation_);
    cpu_before_ = bench::CpuSeconds();
    change_start_ = Clock::now();
    mover->client->SetEndpoints({endpoint_});
  }

  void PrintChanged(bool complete) {
    const Totals t = Sum();
    // The samples that can see the mover must show the new endpoint in their netmaps.
    size_t checked = 0, correct = 0;
    for (const auto& s : sims_) {
      if (!s->sample || !Viewer(*s)) continue;
      ++checked;
      const v1::Node* p = s->client->netmap().peer(change_->node_id);
      if (p != nullptr && p->endpoints_size() == 1 && p->endpoints(0) == endpoint_) ++correct;
    }
    std::printf(
        "CHANGED {\"complete\":%s,\"propagation_s\":%.4f,\"viewers\":%zu,\"seen\":%zu,"
        "\"unexpected\":%zu,\"self_messages\":%zu,\"deltas\":%llu,\"full_maps\":%llu,"
        "\"samples_checked\":%zu,\"samples_correct\":%zu,\"mover_node_id\":%llu,"
        "\"errors\":%llu,\"backoffs\":%llu,\"client_cpu_s\":%.6f}\n",
        complete ? "true" : "false", change_done_s_, change_expected_, change_seen_,
        change_unexpected_, change_self_messages_,
        static_cast<unsigned long long>(t.deltas - before_.deltas),
        static_cast<unsigned long long>(t.full_maps - before_.full_maps), checked, correct,
        static_cast<unsigned long long>(change_->node_id),
        static_cast<unsigned long long>(t.errors - before_.errors),
        static_cast<unsigned long long>(t.backoffs - before_.backoffs),
        bench::CpuSeconds() - cpu_before_);
    std::fflush(stdout);
  }

  uv_loop_t* loop_;
  Options options_;
  x25519::PublicKey server_key_;
  std::vector<std::unique_ptr<Sim>> sims_;
  uv_timer_t tick_{};
  Clock::time_point start_;
  Clock::time_point last_message_;
  double last_progress_ = 0;
  size_t next_ = 0;
  size_t in_flight_ = 0;
  size_t have_full_ = 0;
  double all_full_s_ = -1;
  bool connected_printed_ = false;
  // The change under way.
  uint64_t generation_ = 0;
  Sim* change_ = nullptr;
  std::string endpoint_;
  size_t change_expected_ = 0;
  size_t change_seen_ = 0;
  size_t change_unexpected_ = 0;
  size_t change_self_messages_ = 0;
  bool change_printed_ = true;
  double change_done_s_ = -1;
  double cpu_before_ = 0;
  Totals before_;
  Clock::time_point change_start_;
};

void Sim::OnStateChanged(ClientState s) {
  if (s == ClientState::kBackoff) ++backoffs;
  if (s == ClientState::kNeedsLogin) {
    std::fprintf(stderr, "clients: node %zu needs a login: %s\n", index,
                 std::string(client->core().last_error().message()).c_str());
  }
}

void Sim::OnNetmap(const Netmap&, const NetmapChange& change) {
  if (change.keep_alive) {
    ++keepalives;
    return;
  }
  driver->OnMessage();
  if (change.full) {
    ++full_maps;
    if (!has_full) {
      has_full = true;
      driver->OnFirstFull(*this);
      return;  // the stream's first map: not an answer to a change
    }
  } else {
    ++deltas;
  }
  if (driver->generation() != 0 && seen_generation != driver->generation()) {
    seen_generation = driver->generation();
    driver->OnChangeSeen(*this, change.full);
  }
}

void Sim::OnError(const absl::Status& e) {
  if (++errors <= 2 && index < 20) {
    std::fprintf(stderr, "clients: node %zu: %s\n", index, std::string(e.message()).c_str());
  }
}

int Usage() {
  std::fprintf(stderr,
               "usage: bench_control_clients --port P --key K --server-key HEX --nodes N "
               "[--group G] [--window W] [--samples S] [--quiet-ms MS]\n");
  return 2;
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = next();
    if (v == nullptr) return Usage();
    if (a == "--port") {
      o.port = static_cast<uint16_t>(std::atoi(v));
    } else if (a == "--key") {
      o.key = v;
    } else if (a == "--server-key") {
      o.server_key_hex = v;
    } else if (a == "--nodes") {
      o.nodes = std::strtoull(v, nullptr, 10);
    } else if (a == "--group") {
      o.group = std::strtoull(v, nullptr, 10);
    } else if (a == "--window") {
      o.window = std::strtoull(v, nullptr, 10);
    } else if (a == "--samples") {
      o.samples = std::strtoull(v, nullptr, 10);
    } else if (a == "--quiet-ms") {
      o.quiet_ms = std::atoi(v);
    } else {
      return Usage();
    }
  }
  if (o.port == 0 || o.key.empty() || o.server_key_hex.empty() || o.nodes < 2) return Usage();
  const uint64_t nofile = bench::RaiseOpenFiles();
  if (nofile < o.nodes + 100) {
    std::fprintf(stderr, "clients: the open-files limit is %llu, too few for %zu nodes\n",
                 static_cast<unsigned long long>(nofile), o.nodes);
    return 1;
  }
  UvLoop loop;
  Driver driver(loop.get(), o);
  if (!driver.Init()) return 1;
  bench::StdinLines commands(
      loop.get(), [&](const std::string& line) { driver.Command(line); },
      [&] { uv_stop(loop.get()); });
  uv_run(loop.get(), UV_RUN_DEFAULT);
  commands.Stop();
  driver.Close();
  return loop.Close() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace meshvpn::control

int main(int argc, char** argv) { return meshvpn::control::Main(argc, argv); }
