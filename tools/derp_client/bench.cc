// derp_client --bench. Each pair is two clients A and B of the same server; A sends B packets of
// --size bytes for --duration seconds. Flow control keeps the figure the relay's throughput and
// not its drops: A has at most --window packets in flight, and B acknowledges (a 24-byte packet
// back through the relay) every window/4 packets with the highest sequence number it has seen.
// The server queues at most 32 packets per destination and drops beyond that, so a window of 32
// or less cannot overrun it. Every --rtt-every-th packet carries A's send time; B acknowledges it
// at once with the time echoed, so A gets a round trip A -> server -> B -> server -> A.
//
// Everything runs on one loop thread. Per packet: no allocation (the packet is one buffer per
// pair whose header is rewritten), no clock read except for timestamped packets. A's sends made
// while handling B's acknowledgement go out together when the read callback returns (one TLS
// write for the batch), and so do B's acknowledgements.
#include "bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/derp/keys.h"
#include "meshvpn/derp/uv_client.h"
#include "output.h"

namespace meshvpn::tools {
namespace {

// The bench header, in this process's byte order (both ends are this process):
//   [0] type ('D' data from A, 'A' acknowledgement from B)   [1] flags
//   [8..16) data: sequence number; ack: packets up to this sequence number (highest + 1)
//   [16..24) the send time (uv_hrtime ns) when flags has kTimestamped; an ack echoes it
constexpr uint8_t kData = 'D';
constexpr uint8_t kAck = 'A';
constexpr uint8_t kTimestamped = 1;
// A sender whose window is full and that hears nothing for this long counts what is in flight
// as lost (so a dropped packet cannot stall the pair for good).
constexpr uint64_t kStallMs = 250;
constexpr uint64_t kKickMs = 10;
// After --duration, how long the last packets may take to arrive before they count as lost.
constexpr uint64_t kDrainMs = 2000;
constexpr size_t kMaxRttSamples = 1 << 22;

void Put64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, sizeof v); }
uint64_t Get64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The q-quantile (0..1) of `v` (reordered), in ms; 0 for none.
double QuantileMs(std::vector<uint64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  k = std::min(k, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1e6;
}

class Bench;
struct Pair;

class Endpoint final : public derp::UvClientEvents {
 public:
  Bench* bench = nullptr;
  Pair* pair = nullptr;
  bool sender = false;
  std::string name;  // "A3", "B3"
  std::unique_ptr<derp::UvClient> client;
  bool ever_ready = false;

  void OnReady(const derp::PublicKey&, const derp::ServerInfo&) override;
  void OnDisconnected(const absl::Status& why, Duration retry_in) override;
  void OnPacket(const derp::PublicKey& source, ByteSpan data) override;
  void OnPeerGone(const derp::PublicKey&, derp::PeerGoneReason) override;
};

struct Pair {
  Endpoint a;
  Endpoint b;
  std::vector<uint8_t> data;  // A's packet: the header is rewritten for each send
  uint8_t ack[kBenchHeaderLen] = {};
  // A's side.
  uint64_t next_seq = 0;  // packets sent
  uint64_t acked = 0;     // packets B has seen or that count as lost (a sequence number bound)
  uint64_t last_progress_ms = 0;
  uint64_t send_refused = 0;
  uint64_t window_resets = 0;
  // B's side.
  uint64_t received = 0;
  uint64_t received_bytes = 0;
  uint64_t highest = 0;  // highest sequence number seen + 1
  uint64_t unacked = 0;
  uint64_t out_of_order = 0;
  uint64_t acks_sent = 0;
  uint64_t acks_refused = 0;
};

class Bench {
 public:
  Bench(uv_loop_t* loop, const BenchOptions& options, std::FILE* human)
      : loop_(loop),
        options_(options),
        human_(human),
        ack_every_(std::max<uint64_t>(1, static_cast<uint64_t>(options.window) / 4)) {}

  int Run(const ServerUrl& url, std::shared_ptr<const http::TlsContext> tls,
          const std::string& app_name) {
    for (UvTimer* t : {&timeout_timer_, &kick_timer_, &progress_timer_, &end_timer_}) {
      auto timer = UvTimer::Create(loop_, uv_timer_init);
      if (!timer.ok()) return Fail(timer.status().ToString());
      *t = *std::move(timer);
      t->set_owner(this);
    }
    for (auto [signal, number] : {std::pair{&sigint_, SIGINT}, std::pair{&sigterm_, SIGTERM}}) {
      auto handle = UvSignal::Create(loop_, uv_signal_init);
      if (!handle.ok()) return Fail(handle.status().ToString());
      *signal = *std::move(handle);
      signal->set_owner(this);
      uv_signal_start(signal->get(), &Bench::OnSignal, number);
    }
    samples_.reserve(std::min<size_t>(kMaxRttSamples, 1 << 16));
    pairs_.reserve(static_cast<size_t>(options_.pairs));
    for (int i = 0; i < options_.pairs; ++i) {
      pairs_.push_back(std::make_unique<Pair>());
      Pair& p = *pairs_.back();
      p.data.resize(options_.size);
      for (size_t k = kBenchHeaderLen; k < p.data.size(); ++k) {
        p.data[k] = static_cast<uint8_t>(k);
      }
      for (Endpoint* e : {&p.a, &p.b}) {
        e->bench = this;
        e->pair = &p;
        e->sender = e == &p.a;
        e->name = absl::StrCat(e->sender ? "A" : "B", i + 1);
        auto key = derp::PrivateKey::Generate();
        if (!key.ok()) return Fail(key.status().ToString());
        auto client = derp::UvClient::Create(loop_, *std::move(key),
                                             MakeUvClientOptions(url, tls, app_name), e);
        if (!client.ok()) return Fail(client.status().ToString());
        e->client = *std::move(client);
      }
    }
    Say(human_, "Bench: %d pair%s, %zu-byte packets, %.3g s, window %d packets, ack every %llu\n",
        options_.pairs, options_.pairs == 1 ? "" : "s", options_.size, options_.duration_s,
        options_.window, static_cast<unsigned long long>(ack_every_));
    Say(human_, "Connecting %d clients...\n", 2 * options_.pairs);
    uv_timer_start(
        timeout_timer_.get(), &Bench::OnTimeout,
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count()),
        0);
    for (auto& p : pairs_) {
      p->a.client->Start();
      p->b.client->Start();
    }
    uv_run(loop_, UV_RUN_DEFAULT);
    if (phase_ == Phase::kDone) Report();
    for (auto& p : pairs_) {
      p->a.client->Close();
      p->b.client->Close();
    }
    pairs_.clear();
    return exit_code_;
  }

  // ---- Events from the endpoints
  // -----------------------------------------------------------------
  void OnReady(Endpoint& e) {
    if (e.ever_ready) return;
    e.ever_ready = true;
    if (++ready_count_ == 2 * pairs_.size() && phase_ == Phase::kConnecting) Begin();
  }

  void OnDisconnected(Endpoint& e, const absl::Status& why, Duration retry_in) {
    ++disconnects_;
    last_error_ = std::string(why.message());
    if (phase_ == Phase::kConnecting && disconnects_ > 3) return;  // the timeout reports it
    Say(human_, "[Disconnected] %s: %s; retrying in %lldms\n", e.name.c_str(), last_error_.c_str(),
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(retry_in).count()));
  }

  // B: a data packet from A.
  void OnData(Pair& p, ByteSpan data) {
    if (data.size() < kBenchHeaderLen || data[0] != kData) return;
    const uint64_t seq = Get64(data.data() + 8);
    ++p.received;
    p.received_bytes += data.size();
    if (seq + 1 > p.highest) {
      p.highest = seq + 1;
    } else {
      ++p.out_of_order;
    }
    ++p.unacked;
    const bool timestamped = (data[1] & kTimestamped) != 0;
    if (!timestamped && p.unacked < ack_every_) return;
    p.unacked = 0;
    p.ack[0] = kAck;
    p.ack[1] = timestamped ? kTimestamped : 0;
    Put64(p.ack + 8, p.highest);
    Put64(p.ack + 16, timestamped ? Get64(data.data() + 16) : 0);
    if (p.b.client->Send(p.a.client->public_key(), ByteSpan(p.ack, sizeof p.ack))) {
      ++p.acks_sent;
    } else {
      ++p.acks_refused;
    }
  }

  // A: an acknowledgement from B.
  void OnAck(Pair& p, ByteSpan data) {
    if (data.size() < kBenchHeaderLen || data[0] != kAck) return;
    const uint64_t upto = Get64(data.data() + 8);
    if (upto > p.acked) {
      p.acked = std::min(upto, p.next_seq);
      p.last_progress_ms = uv_now(loop_);
    }
    if ((data[1] & kTimestamped) != 0 && phase_ == Phase::kRunning &&
        samples_.size() < kMaxRttSamples) {
      samples_.push_back(uv_hrtime() - Get64(data.data() + 16));
    }
    Pump(p);
  }

 private:
  enum class Phase { kConnecting, kRunning, kDraining, kDone };

  int Fail(const std::string& message) {
    std::fprintf(stderr, "derp_client: %s\n", message.c_str());
    return 1;
  }

  void Begin() {
    phase_ = Phase::kRunning;
    uv_timer_stop(timeout_timer_.get());
    Say(human_, "Connected; measuring for %.3g s...\n", options_.duration_s);
    uv_update_time(loop_);
    start_ns_ = uv_hrtime();
    start_cpu_ = CpuSeconds();
    last_tick_ns_ = start_ns_;
    for (auto& p : pairs_) {
      p->last_progress_ms = uv_now(loop_);
      Pump(*p);
    }
    uv_timer_start(kick_timer_.get(), &Bench::OnKick, kKickMs, kKickMs);
    uv_timer_start(progress_timer_.get(), &Bench::OnProgress, 1000, 1000);
    uv_timer_start(end_timer_.get(), &Bench::OnEnd,
                   static_cast<uint64_t>(options_.duration_s * 1000 + 0.5), 0);
  }

  // A: fills the window.
  void Pump(Pair& p) {
    if (phase_ != Phase::kRunning) return;
    const uint64_t window = static_cast<uint64_t>(options_.window);
    uint8_t* header = p.data.data();
    const ByteSpan packet(header, p.data.size());
    const derp::PublicKey& to = p.b.client->public_key();
    while (p.next_seq - p.acked < window) {
      const bool stamp = p.next_seq % static_cast<uint64_t>(options_.rtt_every) == 0;
      header[0] = kData;
      header[1] = stamp ? kTimestamped : 0;
      Put64(header + 8, p.next_seq);
      Put64(header + 16, stamp ? uv_hrtime() : 0);
      if (!p.a.client->Send(to, packet)) {
        ++p.send_refused;  // output full or not connected: the kick timer retries
        return;
      }
      ++p.next_seq;
    }
  }

  uint64_t TotalReceived() const {
    uint64_t n = 0;
    for (const auto& p : pairs_) n += p->received;
    return n;
  }

  static void OnKick(uv_timer_t* timer) {
    auto* self = static_cast<Bench*>(timer->data);
    if (self == nullptr) return;
    const uint64_t now = uv_now(self->loop_);
    if (self->phase_ == Phase::kRunning) {
      for (auto& p : self->pairs_) {
        if (p->next_seq - p->acked >= static_cast<uint64_t>(self->options_.window) &&
            now - p->last_progress_ms > kStallMs) {
          ++p->window_resets;  // what was in flight is lost (or its acknowledgement was)
          p->acked = p->next_seq;
          p->last_progress_ms = now;
        }
        self->Pump(*p);
      }
      return;
    }
    if (self->phase_ == Phase::kDraining) {
      bool all_in = true;
      for (auto& p : self->pairs_) all_in = all_in && p->highest >= p->next_seq;
      if (all_in || now - self->drain_start_ms_ >= kDrainMs) self->Finish();
    }
  }

  static void OnProgress(uv_timer_t* timer) {
    auto* self = static_cast<Bench*>(timer->data);
    if (self == nullptr || self->phase_ != Phase::kRunning) return;
    const uint64_t now = uv_hrtime();
    const uint64_t total = self->TotalReceived();
    const double dt = static_cast<double>(now - self->last_tick_ns_) / 1e9;
    const double pps = static_cast<double>(total - self->last_tick_received_) / dt;
    const double gbps = pps * static_cast<double>(self->options_.size) * 8 / 1e9;
    self->scratch_.assign(
        self->samples_.begin() + static_cast<std::ptrdiff_t>(self->last_tick_samples_),
        self->samples_.end());
    ++self->ticks_;
    std::string rtt =
        self->scratch_.empty()
            ? std::string("no RTT samples")
            : absl::StrCat("RTT p50 ", JsonNumber(QuantileMs(self->scratch_, 0.5), 3), " ms");
    Say(self->human_, "[%ds] %s packets/s, %.3f Gbit/s, %s\n", self->ticks_,
        WithThousands(static_cast<uint64_t>(pps)).c_str(), gbps, rtt.c_str());
    self->last_tick_ns_ = now;
    self->last_tick_received_ = total;
    self->last_tick_samples_ = self->samples_.size();
  }

  static void OnEnd(uv_timer_t* timer) {
    auto* self = static_cast<Bench*>(timer->data);
    if (self != nullptr) self->EndMeasurement();
  }

  void EndMeasurement() {
    if (phase_ != Phase::kRunning) return;
    end_ns_ = uv_hrtime();
    end_cpu_ = CpuSeconds();
    measured_received_ = TotalReceived();
    for (const auto& p : pairs_) measured_bytes_ += p->received_bytes;
    phase_ = Phase::kDraining;
    uv_update_time(loop_);
    drain_start_ms_ = uv_now(loop_);
    uv_timer_stop(progress_timer_.get());
    uv_timer_stop(end_timer_.get());
  }

  void Finish() {
    phase_ = Phase::kDone;
    uv_timer_stop(kick_timer_.get());
    uv_stop(loop_);
  }

  static void OnTimeout(uv_timer_t* timer) {
    auto* self = static_cast<Bench*>(timer->data);
    if (self == nullptr || self->phase_ != Phase::kConnecting) return;
    std::fprintf(stderr, "derp_client: --bench: %zu of %zu clients connected within %.3gs%s%s\n",
                 self->ready_count_, 2 * self->pairs_.size(),
                 std::chrono::duration<double>(self->options_.timeout).count(),
                 self->last_error_.empty() ? "" : "; last error: ", self->last_error_.c_str());
    self->exit_code_ = 1;
    uv_stop(self->loop_);
  }

  static void OnSignal(uv_signal_t* handle, int) {
    auto* self = static_cast<Bench*>(handle->data);
    if (self == nullptr) return;
    if (self->phase_ == Phase::kRunning) {
      Say(self->human_, "Interrupted: reporting what was measured so far\n");
      self->EndMeasurement();
      self->Finish();
    } else if (self->phase_ == Phase::kDraining) {
      self->Finish();
    } else {
      self->exit_code_ = 1;
      uv_stop(self->loop_);
    }
  }

  void Report() {
    const double seconds = static_cast<double>(end_ns_ - start_ns_) / 1e9;
    uint64_t sent = 0, received = 0, refused = 0, resets = 0, acks = 0, acks_refused = 0,
             reordered = 0;
    uint64_t dropped_local = 0, reconnects = 0;
    for (const auto& p : pairs_) {
      sent += p->next_seq;
      received += p->received;
      refused += p->send_refused;
      resets += p->window_resets;
      acks += p->acks_sent;
      acks_refused += p->acks_refused;
      reordered += p->out_of_order;
      for (const Endpoint* e : {&p->a, &p->b}) {
        const derp::UvClientStats s = e->client->stats();
        dropped_local += s.core.dropped_output_full + s.core.dropped_rate_limited;
        reconnects += s.connections_ready > 0 ? s.connections_ready - 1 : 0;
      }
    }
    const uint64_t lost = sent > received ? sent - received : 0;
    const double loss_pct =
        sent > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(sent) : 0;
    const double pps = seconds > 0 ? static_cast<double>(measured_received_) / seconds : 0;
    const double gbps = seconds > 0 ? static_cast<double>(measured_bytes_) * 8 / seconds / 1e9 : 0;
    const double cpu_pct = seconds > 0 ? 100.0 * (end_cpu_ - start_cpu_) / seconds : 0;
    const size_t n_samples = samples_.size();
    const double p50 = QuantileMs(samples_, 0.5);
    const double p99 = QuantileMs(samples_, 0.99);
    const double max = samples_.empty() ? 0 : QuantileMs(samples_, 1.0);
    const bool have_rtt = n_samples > 0;

    Say(human_,
        "Relayed: %s packets in %.2f s = %s packets/s, %.3f Gbit/s of payload (A -> server -> B)\n",
        WithThousands(measured_received_).c_str(), seconds,
        WithThousands(static_cast<uint64_t>(pps)).c_str(), gbps);
    Say(human_,
        "Acks back: %s (B -> server -> A, %zu bytes: one per %llu packets and one per timestamp)\n",
        WithThousands(acks).c_str(), kBenchHeaderLen, static_cast<unsigned long long>(ack_every_));
    Say(human_, "Loss: %s of %s sent (%.3f%%)%s\n", WithThousands(lost).c_str(),
        WithThousands(sent).c_str(), loss_pct,
        reordered > 0 ? absl::StrCat("; ", reordered, " out of order").c_str() : "");
    if (have_rtt) {
      Say(human_,
          "RTT (A -> server -> B -> server -> A, under load): p50 %.3f ms, p99 %.3f ms, max %.3f "
          "ms "
          "(%s samples; one way is about half)\n",
          p50, p99, max, WithThousands(n_samples).c_str());
    } else {
      Say(human_, "RTT: no samples\n");
    }
    Say(human_, "Client CPU: %.1f%% of one core (this process, user+sys, all %zu clients)\n",
        cpu_pct, 2 * pairs_.size());
    if (refused + acks_refused + resets + dropped_local + reconnects > 0) {
      Say(human_,
          "Local drops: %s sends refused, %s acks refused (%s output full or rate limited), %s "
          "stalled windows reset, %s reconnects\n",
          WithThousands(refused).c_str(), WithThousands(acks_refused).c_str(),
          WithThousands(dropped_local).c_str(), WithThousands(resets).c_str(),
          WithThousands(reconnects).c_str());
    }
    if (options_.json) {
      auto rtt = [&](double v) { return have_rtt ? JsonNumber(v, 4) : std::string("null"); };
      Say(stdout,
          "{\"pairs\":%d,\"size\":%zu,\"duration_s\":%s,\"window\":%d,\"packets\":%llu,"
          "\"packets_per_s\":%s,\"gbit_per_s\":%s,\"sent\":%llu,\"lost\":%llu,\"loss_pct\":%s,"
          "\"rtt_p50_ms\":%s,\"rtt_p99_ms\":%s,\"rtt_max_ms\":%s,\"rtt_samples\":%zu,"
          "\"client_cpu_pct\":%s,\"acks\":%llu,\"send_refused\":%llu,\"window_resets\":%llu,"
          "\"reconnects\":%llu}\n",
          options_.pairs, options_.size, JsonNumber(seconds, 3).c_str(), options_.window,
          static_cast<unsigned long long>(measured_received_), JsonNumber(pps, 0).c_str(),
          JsonNumber(gbps, 4).c_str(), static_cast<unsigned long long>(sent),
          static_cast<unsigned long long>(lost), JsonNumber(loss_pct, 4).c_str(), rtt(p50).c_str(),
          rtt(p99).c_str(), rtt(max).c_str(), n_samples, JsonNumber(cpu_pct, 1).c_str(),
          static_cast<unsigned long long>(acks),
          static_cast<unsigned long long>(refused + acks_refused),
          static_cast<unsigned long long>(resets), static_cast<unsigned long long>(reconnects));
    }
    exit_code_ = measured_received_ > 0 ? 0 : 1;
  }

  uv_loop_t* loop_;
  BenchOptions options_;
  std::FILE* human_;
  const uint64_t ack_every_;
  std::vector<std::unique_ptr<Pair>> pairs_;
  UvTimer timeout_timer_;
  UvTimer kick_timer_;
  UvTimer progress_timer_;
  UvTimer end_timer_;
  UvSignal sigint_;
  UvSignal sigterm_;
  Phase phase_ = Phase::kConnecting;
  size_t ready_count_ = 0;
  uint64_t disconnects_ = 0;
  std::string last_error_;
  uint64_t start_ns_ = 0;
  uint64_t end_ns_ = 0;
  double start_cpu_ = 0;
  double end_cpu_ = 0;
  uint64_t drain_start_ms_ = 0;
  uint64_t measured_received_ = 0;
  uint64_t measured_bytes_ = 0;
  std::vector<uint64_t> samples_;  // RTTs in ns
  std::vector<uint64_t> scratch_;
  uint64_t last_tick_ns_ = 0;
  uint64_t last_tick_received_ = 0;
  size_t last_tick_samples_ = 0;
  int ticks_ = 0;
  int exit_code_ = 0;
};

void Endpoint::OnReady(const derp::PublicKey&, const derp::ServerInfo&) { bench->OnReady(*this); }

void Endpoint::OnDisconnected(const absl::Status& why, Duration retry_in) {
  bench->OnDisconnected(*this, why, retry_in);
}

void Endpoint::OnPacket(const derp::PublicKey&, ByteSpan data) {
  if (sender) {
    bench->OnAck(*pair, data);
  } else {
    bench->OnData(*pair, data);
  }
}

void Endpoint::OnPeerGone(const derp::PublicKey&, derp::PeerGoneReason) {}

}  // namespace

int RunBench(uv_loop_t* loop, const BenchOptions& options, const ServerUrl& url,
             std::shared_ptr<const http::TlsContext> tls, const std::string& app_name,
             std::FILE* human) {
  Bench bench(loop, options, human);
  return bench.Run(url, std::move(tls), app_name);
}

}  // namespace meshvpn::tools
