// derp_client: a client of a DERP relay (Tailscale's protocol version 2). It connects, prints its
// public key and every packet it receives; --send-to sends stdin lines (or generated packets) to
// another client, --ping pings the server, --bench measures relayed throughput and latency.
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bench.h"
#include "client_setup.h"
#include "common/tool_init.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/derp/keys.h"
#include "meshvpn/derp/uv_client.h"
#include "output.h"

ABSL_FLAG(std::string, server, "https://127.0.0.1:3340",
          "the DERP server: https://HOST[:PORT][/PATH] (TLS) or http://... (plain); the path "
          "defaults to /derp");
ABSL_FLAG(bool, insecure, false,
          "accept any TLS certificate (labs only: anyone on the path could pose as the server)");
ABSL_FLAG(std::vector<std::string>, pin, {},
          "accept only a certificate with this SPKI pin, sha256//<base64>, as derp_server prints "
          "it at start-up (comma-separated for several)");
ABSL_FLAG(std::string, ca_file, "", "trust the CA certificates in this PEM file");
ABSL_FLAG(std::string, key_file, "",
          "the client's private key file (\"privkey:<hex>\"); created with mode 0600 if missing. "
          "Default: a fresh key each run");
ABSL_FLAG(std::string, app_name, "derp_client", "the AppName sent in the ClientInfo");
ABSL_FLAG(std::string, send_to, "",
          "send to this client's public key (nodekey:<hex>, 64 hex digits or base64): each stdin "
          "line as one packet, or --count generated packets");
ABSL_FLAG(bool, stay, false, "--send-to: keep running (and printing) after stdin ends");
ABSL_FLAG(int32_t, count, 0,
          "--send-to: send this many generated packets instead of stdin lines; --ping: pings "
          "(default 5)");
ABSL_FLAG(int32_t, size, 0,
          "payload bytes of each generated packet (--send-to --count: default 64; --bench: "
          "default 1400)");
ABSL_FLAG(int32_t, interval, 1000,
          "milliseconds between generated packets or pings (0: --send-to sends as fast as it can)");
ABSL_FLAG(bool, ping, false, "ping the DERP server (--count times) and print the round trips");
ABSL_FLAG(bool, bench, false,
          "measure relayed throughput and latency between --pairs pairs of clients in this "
          "process");
ABSL_FLAG(int32_t, pairs, 1, "--bench: pairs of clients (each pair: A sends to B)");
ABSL_FLAG(double, duration, 5, "--bench: seconds to measure");
ABSL_FLAG(int32_t, window, 32,
          "--bench: packets each sender keeps in flight at most (the relay queues 32 per client "
          "and drops beyond that)");
ABSL_FLAG(int32_t, rtt_every, 64,
          "--bench: every n-th packet carries a timestamp the receiver echoes back (RTT samples)");
ABSL_FLAG(std::string, o, "text", "output: text, or json (--ping and --bench: one JSON object)");
ABSL_FLAG(double, timeout, 10, "seconds to wait for the first connection before giving up");
ABSL_FLAG(bool, quiet, false, "receive mode: do not print each packet, only the statistics");
ABSL_FLAG(bool, verbose, false, "print every [Send] line (normally the first 10)");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage =
    R"(a client of a DERP relay server: print your key, receive, send, ping, benchmark.

DERP (Tailscale's "Designated Encrypted Relay for Packets") relays packets between
clients that cannot reach each other directly. A client connects to the server over
HTTPS ("GET /derp", "Upgrade: DERP"), proves it holds the private half of its
Curve25519 public key, and from then on it is reachable by that key: anyone
connected to the same server can send it a packet addressed to the key, and the
server forwards it together with the sender's key. (Tailscale sends WireGuard
packets this way, which are end-to-end encrypted; derp_client sends plain bytes.)

Start a server first (derp_server) and note the pin it prints; then, in two terminals:

  A$ derp_client --pin sha256//...            prints "Public key: nodekey:1a2b..." and
                                              then every packet it receives
  B$ derp_client --pin sha256//... --send-to nodekey:1a2b...
     hello A                                  each line you type is one packet; A prints
                                              "[Recv] from nodekey:<B's key>: hello A"

More:
  derp_client --insecure                      accept any certificate (labs)
  derp_client --server http://127.0.0.1:3340  a server without TLS
  derp_client --key-file ~/.derp.key          keep the same key across runs
  derp_client --send-to KEY --count 100 --size 1200 --interval 10
  derp_client --ping --count 10               round trips to the server itself
  derp_client --bench --pairs 8 --size 1400 --duration 5 -o json
                                              throughput and latency through the relay

Exit status: 0 ok, 1 no connection within --timeout (or no pong, nothing relayed),
2 bad flags. Private keys are never printed.

Flags:)";

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
// [Send] lines printed before going quiet (unless --verbose).
constexpr uint64_t kSendLinesShown = 10;
// Received text longer than this is cut in the [Recv] line.
constexpr size_t kRecvTextShown = 200;
constexpr size_t kRecvHexShown = 16;
// After the last send, how long to wait before exiting (the bytes leave the socket).
constexpr uint64_t kLingerMs = 500;
constexpr size_t kDefaultSendSize = 64;

enum class Mode { kReceive, kSend, kPing };

struct SessionOptions {
  Mode mode = Mode::kReceive;
  derp::PublicKey send_to;
  int count = 0;  // kSend: generated packets (0: stdin lines); kPing: pings
  size_t size = kDefaultSendSize;
  uint64_t interval_ms = 1000;
  bool stay = false;
  bool quiet = false;
  bool verbose = false;
  bool json = false;
  bool hint_tls = false;  // https with no --pin/--insecure/--ca-file: hint on certificate errors
  Duration timeout = std::chrono::seconds(10);
  std::string server_text;
};

uint64_t Millis(Duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

double MillisF(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string_view PeerGoneText(derp::PeerGoneReason reason) {
  switch (reason) {
    case derp::PeerGoneReason::kDisconnected:
      return "disconnected";
    case derp::PeerGoneReason::kNotHere:
      return "not here";
    case derp::PeerGoneReason::kMeshConnBroke:
      return "mesh connection broke";
  }
  return "unknown reason";
}

// Printable ASCII, tabs and well-formed UTF-8 (no control characters but a final newline).
bool IsText(ByteSpan data) {
  size_t i = 0;
  while (i < data.size()) {
    const uint8_t c = data[i];
    if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
      ++i;
      continue;
    }
    size_t extra = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
    } else {
      return false;
    }
    if (i + extra >= data.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((data[i + k] & 0xc0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

// What a [Recv] line shows of a packet.
std::string DescribePacket(ByteSpan data) {
  ByteSpan text = data;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text = text.first(text.size() - 1);
  }
  if (IsText(text) && !data.empty()) {
    if (text.size() <= kRecvTextShown) return ToString(text);
    size_t cut = kRecvTextShown;
    while (cut > 0 && (text[cut] & 0xc0) == 0x80) --cut;  // not inside a UTF-8 sequence
    return absl::StrCat(ToString(text.first(cut)), "... (", data.size(), " bytes)");
  }
  std::string out = absl::StrCat("<", data.size(), " bytes>");
  const size_t shown = std::min(data.size(), kRecvHexShown);
  for (size_t i = 0; i < shown; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, " %02x", data[i]);
    out += hex;
  }
  if (data.size() > shown) out += " ...";
  return out;
}

// The one-connection modes: receive (print), send (stdin lines or generated packets), ping.
class Session final : public derp::UvClientEvents {
 public:
  Session(uv_loop_t* loop, SessionOptions options, std::FILE* human)
      : loop_(loop), options_(std::move(options)), human_(human) {}

  absl::Status Start(derp::PrivateKey key, derp::UvClientOptions client_options) {
    auto client = derp::UvClient::Create(loop_, std::move(key), std::move(client_options), this);
    if (!client.ok()) return client.status();
    client_ = *std::move(client);
    for (UvTimer* t : {&timeout_timer_, &tick_timer_, &linger_timer_}) {
      auto timer = UvTimer::Create(loop_, uv_timer_init);
      if (!timer.ok()) return timer.status();
      *t = *std::move(timer);
      t->set_owner(this);
    }
    for (auto [signal, number] : {std::pair{&sigint_, SIGINT}, std::pair{&sigterm_, SIGTERM}}) {
      auto handle = UvSignal::Create(loop_, uv_signal_init);
      if (!handle.ok()) return handle.status();
      *signal = *std::move(handle);
      signal->set_owner(this);
      uv_signal_start(signal->get(), &Session::OnSignal, number);
    }
    if (options_.mode == Mode::kSend && options_.count == 0) {
      if (absl::Status s = StartStdin(); !s.ok()) return s;
    }
    if (options_.mode == Mode::kSend && options_.count > 0) {
      packet_.assign(options_.size, '.');
    }
    uv_timer_start(timeout_timer_.get(), &Session::OnTimeout, Millis(options_.timeout), 0);
    client_->Start();
    return absl::OkStatus();
  }

  const derp::PublicKey& public_key() const { return client_->public_key(); }

  // Runs until done; prints the summary. Returns the exit code.
  int Run() {
    uv_run(loop_, UV_RUN_DEFAULT);
    if (options_.mode == Mode::kPing) {
      PrintPingSummary();
    } else {
      PrintStatistics();
    }
    client_->Close();
    stdin_tty_.Reset();
    stdin_pipe_.Reset();
    uv_tty_reset_mode();
    return exit_code_;
  }

  // ---- UvClientEvents ---------------------------------------------------------------------------
  void OnReady(const derp::PublicKey& server_key, const derp::ServerInfo&) override {
    ever_connected_ = true;
    uv_timer_stop(timeout_timer_.get());
    Say(human_, "[Connected] server %s\n", derp::FormatNodeKey(server_key).c_str());
    switch (options_.mode) {
      case Mode::kReceive:
        break;
      case Mode::kSend:
        if (options_.count == 0) {
          DrainLines();
        } else if (!ticking_) {
          ticking_ = true;
          uv_timer_start(tick_timer_.get(), &Session::OnTick, 0, options_.interval_ms);
        }
        break;
      case Mode::kPing:
        if (!ticking_) {
          ticking_ = true;
          uv_timer_start(tick_timer_.get(), &Session::OnTick, 0, options_.interval_ms);
        }
        break;
    }
  }

  void OnDisconnected(const absl::Status& why, Duration retry_in) override {
    last_error_ = std::string(why.message());
    Say(human_, "[Disconnected] %s; retrying in %llums\n", last_error_.c_str(),
        static_cast<unsigned long long>(Millis(retry_in)));
    if (options_.hint_tls && !hinted_ && LooksLikeCertificateError(last_error_)) {
      hinted_ = true;
      Say(human_,
          "  hint: the server's certificate is not trusted. derp_server prints its pin at "
          "start-up: pass --pin sha256//... (or --insecure in a lab)\n");
    }
  }

  void OnPacket(const derp::PublicKey& source, ByteSpan data) override {
    if (options_.quiet) return;
    Say(human_, "[Recv] from %s: %s\n", derp::FormatNodeKey(source).c_str(),
        DescribePacket(data).c_str());
  }

  void OnPeerGone(const derp::PublicKey& peer, derp::PeerGoneReason reason) override {
    const std::string_view why = PeerGoneText(reason);
    Say(human_, "[PeerGone] %s (%.*s)\n", derp::FormatNodeKey(peer).c_str(),
        static_cast<int>(why.size()), why.data());
  }

  void OnHealth(std::string_view problem) override {
    if (problem.empty()) {
      Say(human_, "[Health] ok (the server's earlier problem is over)\n");
    } else {
      Say(human_, "[Health] %.*s\n", static_cast<int>(problem.size()), problem.data());
    }
  }

  void OnRestarting(std::chrono::milliseconds reconnect_in,
                    std::chrono::milliseconds try_for) override {
    Say(human_, "[Restarting] server asks to reconnect in %lldms (and to keep trying for %llds)\n",
        static_cast<long long>(reconnect_in.count()),
        static_cast<long long>(try_for.count() / 1000));
  }

 private:
  // ---- stdin: one packet per line ---------------------------------------------------------------
  absl::Status StartStdin() {
    const uv_handle_type type = uv_guess_handle(0);
    uv_stream_t* stream = nullptr;
    if (type == UV_TTY) {
      auto tty = UvHandle<uv_tty_t>::Create(loop_, uv_tty_init, 0, 1);
      if (!tty.ok()) return tty.status();
      stdin_tty_ = *std::move(tty);
      stdin_tty_.set_owner(this);
      stream = reinterpret_cast<uv_stream_t*>(stdin_tty_.get());
    } else if (type == UV_NAMED_PIPE || type == UV_TCP) {
      auto pipe = UvPipe::Create(loop_, uv_pipe_init, 0);
      if (!pipe.ok()) return pipe.status();
      stdin_pipe_ = *std::move(pipe);
      stdin_pipe_.set_owner(this);
      if (int rc = uv_pipe_open(stdin_pipe_.get(), 0); rc < 0) {
        return absl::InternalError(absl::StrCat("stdin: ", uv_strerror(rc)));
      }
      stream = reinterpret_cast<uv_stream_t*>(stdin_pipe_.get());
    } else {
      // A file (or /dev/null): read it all now; reading a file does not block for long.
      char buf[64 << 10];
      for (;;) {
        const size_t n = std::fread(buf, 1, sizeof buf, stdin);
        if (n == 0) break;
        AddInput(std::string_view(buf, n));
      }
      EndInput();
      return absl::OkStatus();
    }
    uv_read_start(stream, &Session::OnStdinAlloc, &Session::OnStdinRead);
    return absl::OkStatus();
  }

  static void OnStdinAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto* self = static_cast<Session*>(handle->data);
    *buf = uv_buf_init(self->stdin_buf_, sizeof self->stdin_buf_);
  }

  static void OnStdinRead(uv_stream_t* stream, ssize_t n, const uv_buf_t*) {
    auto* self = static_cast<Session*>(stream->data);
    if (self == nullptr) return;
    if (n > 0) {
      self->AddInput(std::string_view(self->stdin_buf_, static_cast<size_t>(n)));
    } else if (n < 0) {
      uv_read_stop(stream);
      self->EndInput();
    }
  }

  void AddInput(std::string_view data) {
    for (;;) {
      const size_t newline = data.find('\n');
      if (newline == std::string_view::npos) break;
      partial_.append(data.substr(0, newline));
      if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
      lines_.push_back(std::move(partial_));
      partial_.clear();
      data.remove_prefix(newline + 1);
    }
    partial_.append(data);
    DrainLines();
  }

  void EndInput() {
    if (!partial_.empty()) lines_.push_back(std::move(partial_));
    partial_.clear();
    stdin_done_ = true;
    DrainLines();
  }

  // Sends the lines read so far, while connected (lines typed during a reconnect wait).
  void DrainLines() {
    while (!lines_.empty() && client_ != nullptr && client_->connected()) {
      SendOne(AsBytes(lines_.front()));
      lines_.pop_front();
    }
    if (lines_.empty() && stdin_done_ && client_ != nullptr && client_->connected()) {
      FinishSending();
    }
  }

  // ---- Sending
  // ------------------------------------------------------------------------------------
  void SendOne(ByteSpan packet) {
    const derp::ClientStats before = client_->stats().core;
    const uint64_t not_connected_before = client_->stats().dropped_not_connected;
    const bool sent = client_->Send(options_.send_to, packet);
    ++send_attempts_;
    const bool show = options_.verbose || send_attempts_ <= kSendLinesShown;
    if (sent) {
      if (show) {
        Say(human_, "[Send] to %s: %zu bytes\n", derp::ShortKey(options_.send_to).c_str(),
            packet.size());
      }
    } else {
      const derp::UvClientStats after = client_->stats();
      std::string why = "not sent";
      if (after.core.dropped_too_large > before.dropped_too_large) {
        why = absl::StrCat("too large: DERP's largest packet is ", derp::kMaxPacketSize, " bytes");
      } else if (after.core.dropped_rate_limited > before.dropped_rate_limited) {
        why = "the server's rate limit";
      } else if (after.core.dropped_output_full > before.dropped_output_full) {
        why = "output full: the connection is not keeping up";
      } else if (after.dropped_not_connected > not_connected_before ||
                 after.core.dropped_not_connected > before.dropped_not_connected) {
        why = "not connected";
      }
      if (show) {
        Say(human_, "[Drop] to %s: %zu bytes (%s)\n", derp::ShortKey(options_.send_to).c_str(),
            packet.size(), why.c_str());
      }
    }
    if (send_attempts_ == kSendLinesShown && !options_.verbose) {
      Say(human_,
          "[Send] ... (further sends not printed: see the statistics; --verbose prints all)\n");
    }
  }

  // The generated packet number `n` (1-based): "packet n/N from [abcde]" padded with dots.
  void SendGenerated() {
    const std::string label = absl::StrCat("packet ", generated_ + 1, "/", options_.count, " from ",
                                           derp::ShortKey(client_->public_key()), " ");
    std::copy_n(label.begin(), std::min(label.size(), packet_.size()), packet_.begin());
    SendOne(AsBytes(packet_));
    ++generated_;
  }

  void FinishSending() {
    if (finishing_ || options_.stay) return;
    finishing_ = true;
    uv_timer_start(linger_timer_.get(), &Session::OnLinger, kLingerMs, 0);
  }

  static void OnLinger(uv_timer_t* timer) {
    auto* self = static_cast<Session*>(timer->data);
    if (self != nullptr) self->Stop(kExitOk);
  }

  // ---- Timers
  // -------------------------------------------------------------------------------------
  static void OnTick(uv_timer_t* timer) {
    auto* self = static_cast<Session*>(timer->data);
    if (self == nullptr) return;
    if (self->options_.mode == Mode::kPing) {
      self->SendPing();
      return;
    }
    if (!self->client_->connected()) return;  // resumes on the next tick once reconnected
    // --interval 0: bursts of packets per loop turn; otherwise one a tick.
    const int burst = self->options_.interval_ms == 0 ? 32 : 1;
    for (int i = 0; i < burst && self->generated_ < self->options_.count; ++i) {
      self->SendGenerated();
    }
    if (self->generated_ >= self->options_.count) {
      uv_timer_stop(timer);
      self->FinishSending();
    } else if (self->options_.interval_ms == 0) {
      uv_timer_start(timer, &Session::OnTick, 0, 0);
    }
  }

  static void OnTimeout(uv_timer_t* timer) {
    auto* self = static_cast<Session*>(timer->data);
    if (self == nullptr || self->ever_connected_) return;
    std::fprintf(stderr, "derp_client: not connected to %s within %.3gs%s%s\n",
                 self->options_.server_text.c_str(),
                 std::chrono::duration<double>(self->options_.timeout).count(),
                 self->last_error_.empty() ? "" : ": ", self->last_error_.c_str());
    self->Stop(kExitFailure);
  }

  static void OnSignal(uv_signal_t* handle, int) {
    auto* self = static_cast<Session*>(handle->data);
    if (self == nullptr) return;
    self->Stop(self->ever_connected_ ? kExitOk : kExitFailure);
  }

  void Stop(int code) {
    if (stopped_) return;
    stopped_ = true;
    exit_code_ = code;
    uv_stop(loop_);
  }

  // ---- Ping
  // ---------------------------------------------------------------------------------------
  void SendPing() {
    if (pings_sent_ >= options_.count) return;
    ++pings_sent_;
    if (pings_sent_ >= options_.count) uv_timer_stop(tick_timer_.get());
    client_->Ping([this](absl::StatusOr<Duration> rtt) { OnPingDone(rtt); });
  }

  void OnPingDone(const absl::StatusOr<Duration>& rtt) {
    ++pings_done_;
    const std::string server = "nodekey:" + derp::ShortKey(client_->server_key());
    if (rtt.ok()) {
      const double ms = MillisF(*rtt);
      rtts_ms_.push_back(ms);
      Say(human_, "pong from server %s time=%.2f ms\n", server.c_str(), ms);
    } else if (!stopped_) {
      Say(human_, "no pong from server %s: %s\n", server.c_str(),
          std::string(rtt.status().message()).c_str());
    }
    if (pings_done_ >= options_.count) Stop(rtts_ms_.empty() ? kExitFailure : kExitOk);
  }

  void PrintPingSummary() {
    double min = 0, max = 0, sum = 0;
    for (size_t i = 0; i < rtts_ms_.size(); ++i) {
      const double v = rtts_ms_[i];
      min = i == 0 ? v : std::min(min, v);
      max = i == 0 ? v : std::max(max, v);
      sum += v;
    }
    const double avg = rtts_ms_.empty() ? 0 : sum / static_cast<double>(rtts_ms_.size());
    if (exit_code_ == kExitOk && rtts_ms_.empty()) exit_code_ = kExitFailure;
    if (rtts_ms_.empty()) {
      Say(human_, "%d pings, 0 pongs\n", pings_sent_);
    } else {
      Say(human_, "%d pings, %zu pongs, min/avg/max = %.3f/%.3f/%.3f ms\n", pings_sent_,
          rtts_ms_.size(), min, avg, max);
    }
    if (options_.json) {
      const bool any = !rtts_ms_.empty();
      std::string rtts;
      for (double v : rtts_ms_) absl::StrAppend(&rtts, rtts.empty() ? "" : ",", JsonNumber(v, 3));
      Say(stdout,
          "{\"server\":%s,\"server_key\":%s,\"pings\":%d,\"pongs\":%zu,\"min_ms\":%s,"
          "\"avg_ms\":%s,\"max_ms\":%s,\"rtts_ms\":[%s]}\n",
          JsonString(options_.server_text).c_str(),
          ever_connected_ ? JsonString(derp::FormatNodeKey(client_->server_key())).c_str() : "null",
          pings_sent_, rtts_ms_.size(), any ? JsonNumber(min, 3).c_str() : "null",
          any ? JsonNumber(avg, 3).c_str() : "null", any ? JsonNumber(max, 3).c_str() : "null",
          rtts.c_str());
    }
  }

  void PrintStatistics() {
    const derp::UvClientStats s = client_->stats();
    const derp::ClientStats& c = s.core;
    const uint64_t dropped = s.dropped_not_connected + c.dropped_not_connected +
                             c.dropped_too_large + c.dropped_rate_limited + c.dropped_output_full;
    Say(human_, "Statistics:\n");
    Say(human_, "Packets sent: %s (%s bytes)\n", WithThousands(c.packets_sent).c_str(),
        WithThousands(c.packet_bytes_sent).c_str());
    Say(human_, "Packets received: %s (%s bytes)\n", WithThousands(c.packets_received).c_str(),
        WithThousands(c.packet_bytes_received).c_str());
    Say(human_,
        "Packets dropped: %s (not connected %s, too large %s, rate limited %s, output full %s)\n",
        WithThousands(dropped).c_str(),
        WithThousands(s.dropped_not_connected + c.dropped_not_connected).c_str(),
        WithThousands(c.dropped_too_large).c_str(), WithThousands(c.dropped_rate_limited).c_str(),
        WithThousands(c.dropped_output_full).c_str());
    if (!lines_.empty()) {
      Say(human_, "Lines not sent (never connected): %s\n", WithThousands(lines_.size()).c_str());
    }
    Say(human_, "Connections: %s ready, %s reconnects (%s attempts)\n",
        WithThousands(s.connections_ready).c_str(),
        WithThousands(s.connect_attempts > 0 ? s.connect_attempts - 1 : 0).c_str(),
        WithThousands(s.connect_attempts).c_str());
    Say(human_, "Server pings answered: %s; keepalives received: %s\n",
        WithThousands(c.pongs_sent).c_str(), WithThousands(c.keepalives_received).c_str());
  }

  uv_loop_t* loop_;
  SessionOptions options_;
  std::FILE* human_;
  std::unique_ptr<derp::UvClient> client_;
  UvTimer timeout_timer_;
  UvTimer tick_timer_;
  UvTimer linger_timer_;
  UvSignal sigint_;
  UvSignal sigterm_;
  UvHandle<uv_tty_t> stdin_tty_;
  UvPipe stdin_pipe_;
  char stdin_buf_[64 << 10];
  std::string partial_;
  std::deque<std::string> lines_;
  bool stdin_done_ = false;
  std::string packet_;  // the generated packet, rewritten in place
  int generated_ = 0;
  uint64_t send_attempts_ = 0;
  int pings_sent_ = 0;
  int pings_done_ = 0;
  std::vector<double> rtts_ms_;
  bool ticking_ = false;
  bool finishing_ = false;
  bool ever_connected_ = false;
  bool hinted_ = false;
  bool stopped_ = false;
  std::string last_error_;
  int exit_code_ = kExitOk;
};

int Usage(const std::string& message) {
  std::fprintf(stderr, "derp_client: %s (see --help)\n", message.c_str());
  return kExitUsage;
}

// abseil's parser exits with status 1 on a bad flag (and on --help). Our contract is 2 for bad
// flags and 0 for --help: while it parses, an exit handler replaces the status.
int g_exit_code_while_parsing = -1;
void ReplaceParserExitCode() {
  if (g_exit_code_while_parsing >= 0) std::_Exit(g_exit_code_while_parsing);
}

bool AsksForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    while (!arg.empty() && arg.front() == '-') arg.remove_prefix(1);
    if (arg.substr(0, 4) == "help" || arg == "version") return true;
  }
  return false;
}

int Main(int argc, char** argv) {
  g_exit_code_while_parsing = AsksForHelp(argc, argv) ? kExitOk : kExitUsage;
  std::atexit(&ReplaceParserExitCode);
  const std::vector<std::string> positional = InitTool(argc, argv, kUsage);
  g_exit_code_while_parsing = -1;
  if (!positional.empty()) return Usage("unexpected argument " + positional[0]);

  const std::string output = absl::GetFlag(FLAGS_o);
  if (output != "text" && output != "json") return Usage("-o takes text or json");
  const bool json = output == "json";
  const bool ping = absl::GetFlag(FLAGS_ping);
  const bool bench = absl::GetFlag(FLAGS_bench);
  const std::string send_to = absl::GetFlag(FLAGS_send_to);
  if (static_cast<int>(ping) + static_cast<int>(bench) + static_cast<int>(!send_to.empty()) > 1) {
    return Usage("--send-to, --ping and --bench are separate modes: pick one");
  }
  if (json && !ping && !bench) return Usage("-o json is for --ping and --bench");
  const int count = absl::GetFlag(FLAGS_count);
  const int size = absl::GetFlag(FLAGS_size);
  const int interval = absl::GetFlag(FLAGS_interval);
  const double timeout_s = absl::GetFlag(FLAGS_timeout);
  if (count < 0) return Usage("--count must be 0 or more");
  if (size < 0 || static_cast<size_t>(size) > derp::kMaxPacketSize) {
    return Usage(absl::StrCat("--size must be 0..", derp::kMaxPacketSize));
  }
  if (interval < 0) return Usage("--interval must be 0 or more (milliseconds)");
  if (!(timeout_s > 0)) return Usage("--timeout must be more than 0 seconds");
  if (ping && interval == 0) return Usage("--ping needs an --interval of 1 ms or more");
  if (absl::GetFlag(FLAGS_stay) && send_to.empty()) return Usage("--stay goes with --send-to");
  if (!ping && !bench && send_to.empty() && (count > 0 || size > 0)) {
    return Usage("--count and --size go with --send-to, --ping or --bench");
  }

  auto url = ParseServerUrl(absl::GetFlag(FLAGS_server));
  if (!url.ok()) return Usage(std::string(url.status().message()));
  TlsChoice tls_choice;
  tls_choice.insecure = absl::GetFlag(FLAGS_insecure);
  tls_choice.pins = absl::GetFlag(FLAGS_pin);
  tls_choice.ca_file = absl::GetFlag(FLAGS_ca_file);
  auto tls = MakeClientTls(*url, tls_choice);
  if (!tls.ok()) return Usage(std::string(tls.status().message()));
  const std::string app_name = absl::GetFlag(FLAGS_app_name);
  const Duration timeout =
      std::chrono::duration_cast<Duration>(std::chrono::duration<double>(timeout_s));
  std::FILE* human = json ? stderr : stdout;
  std::signal(SIGPIPE, SIG_IGN);

  if (bench) {
    BenchOptions b;
    b.pairs = absl::GetFlag(FLAGS_pairs);
    b.size = size == 0 ? 1400 : static_cast<size_t>(size);
    b.duration_s = absl::GetFlag(FLAGS_duration);
    b.window = absl::GetFlag(FLAGS_window);
    b.rtt_every = absl::GetFlag(FLAGS_rtt_every);
    b.json = json;
    b.timeout = timeout;
    if (b.pairs < 1 || b.pairs > 10000) return Usage("--pairs must be 1..10000");
    if (b.size < kBenchHeaderLen) {
      return Usage(absl::StrCat("--bench needs --size of at least ", kBenchHeaderLen,
                                " (its header: sequence number and timestamp)"));
    }
    if (!(b.duration_s > 0) || b.duration_s > 3600) return Usage("--duration must be 0..3600 s");
    if (b.window < 1 || b.window > 4096) return Usage("--window must be 1..4096");
    if (b.rtt_every < 1) return Usage("--rtt-every must be 1 or more");
    if (!absl::GetFlag(FLAGS_key_file).empty()) {
      return Usage("--bench makes a fresh key per client: drop --key-file");
    }
    // The file limit: two sockets per pair.
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    Say(human, "DERP client starting...\n");
    Say(human, "Server: %s\n", url->text.c_str());
    Say(human, "TLS: %s\n", DescribeTls(*url, tls_choice).c_str());
    UvLoop loop;
    const int rc = RunBench(loop.get(), b, *url, *tls, app_name, human);
    loop.Close();
    return rc;
  }

  SessionOptions options;
  options.mode = ping ? Mode::kPing : !send_to.empty() ? Mode::kSend : Mode::kReceive;
  options.count = ping ? (count == 0 ? 5 : count) : count;
  options.size = size == 0 ? kDefaultSendSize : static_cast<size_t>(size);
  options.interval_ms = static_cast<uint64_t>(interval);
  options.stay = absl::GetFlag(FLAGS_stay);
  options.quiet = absl::GetFlag(FLAGS_quiet);
  options.verbose = absl::GetFlag(FLAGS_verbose);
  options.json = json;
  options.timeout = timeout;
  options.server_text = url->text;
  options.hint_tls =
      url->tls && !tls_choice.insecure && tls_choice.pins.empty() && tls_choice.ca_file.empty();
  if (options.mode == Mode::kSend) {
    auto key = derp::ParseNodeKey(send_to);
    if (!key.ok()) {
      return Usage(absl::StrCat("--send-to: ", key.status().message(),
                                " (expected nodekey:<64 hex digits>, as the receiver prints it)"));
    }
    options.send_to = *key;
  }

  derp::PrivateKey private_key;
  bool created = false;
  const std::string key_file = absl::GetFlag(FLAGS_key_file);
  if (!key_file.empty()) {
    auto loaded = LoadOrCreateClientKey(key_file, &created);
    if (!loaded.ok()) {
      std::fprintf(stderr, "derp_client: --key-file: %s\n",
                   std::string(loaded.status().message()).c_str());
      return absl::IsInvalidArgument(loaded.status()) || absl::IsPermissionDenied(loaded.status())
                 ? kExitUsage
                 : kExitFailure;
    }
    private_key = *std::move(loaded);
  } else {
    auto fresh = derp::PrivateKey::Generate();
    if (!fresh.ok()) {
      std::fprintf(stderr, "derp_client: %s\n", fresh.status().ToString().c_str());
      return kExitFailure;
    }
    private_key = *std::move(fresh);
  }

  UvLoop loop;
  int rc = kExitOk;
  {
    Session session(loop.get(), options, human);
    if (absl::Status s =
            session.Start(std::move(private_key), MakeUvClientOptions(*url, *tls, app_name));
        !s.ok()) {
      std::fprintf(stderr, "derp_client: %s\n", s.ToString().c_str());
      return kExitFailure;
    }
    Say(human, "DERP client starting...\n");
    Say(human, "Server: %s\n", url->text.c_str());
    Say(human, "TLS: %s\n", DescribeTls(*url, tls_choice).c_str());
    Say(human, "Public key: %s\n", derp::FormatNodeKey(session.public_key()).c_str());
    if (!key_file.empty())
      Say(human, "Key file: %s%s\n", key_file.c_str(), created ? " (created)" : "");
    switch (options.mode) {
      case Mode::kReceive:
        Say(human, "Receiving: packets sent to this key are printed; Ctrl-C to stop\n");
        break;
      case Mode::kSend:
        if (options.count == 0) {
          Say(human, "Sending to: %s (each stdin line is one packet)\n",
              derp::FormatNodeKey(options.send_to).c_str());
        } else {
          Say(human, "Sending to: %s (%d packets of %zu bytes, %llu ms apart)\n",
              derp::FormatNodeKey(options.send_to).c_str(), options.count, options.size,
              static_cast<unsigned long long>(options.interval_ms));
        }
        break;
      case Mode::kPing:
        Say(human, "Pinging the server: %d pings, %llu ms apart\n", options.count,
            static_cast<unsigned long long>(options.interval_ms));
        break;
    }
    rc = session.Run();
  }
  loop.Close();
  return rc;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
