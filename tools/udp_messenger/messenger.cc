#include "udp_messenger/messenger.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_format.h"
#include "meshvpn/base/status.h"
#include "meshvpn/udp/resolve.h"

namespace meshvpn::tools {
namespace {

uint64_t ToMillis(Duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// "30s", "1.5s", "250ms": for humans.
std::string Human(Duration d) {
  const double s = std::chrono::duration<double>(d).count();
  if (s < 1) return absl::StrFormat("%dms", static_cast<int>(s * 1000 + 0.5));
  if (s == static_cast<int64_t>(s)) return absl::StrFormat("%ds", static_cast<int64_t>(s));
  return absl::StrFormat("%.1fs", s);
}

// Messages are text; anything unprintable is shown as '?' so a stray byte cannot mess up the
// terminal. A trailing newline (from `nc -u`, say) is dropped.
std::string Printable(ByteSpan bytes) {
  std::string s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  for (char& c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) c = '?';
  }
  return s;
}

}  // namespace

std::string WithCommas(uint64_t n) {
  std::string digits = absl::StrFormat("%d", n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

Messenger::Messenger(uv_loop_t* loop, MessengerConfig config, LogSink* log, std::FILE* out)
    : loop_(loop),
      config_(std::move(config)),
      log_sink_(log),
      out_(out),
      clock_(RealClock::Instance()),
      // Room for kMaxMessage behind the headroom, and for anything up to a 1500-byte frame.
      pool_(512, PacketBuffer::kDefaultHeadroom + 1952),
      peers_({.idle_timeout = config_.peer_timeout, .max_peers = config_.max_peers}) {}

absl::Status Messenger::Start() {
  udp::UdpSocketOptions options;
  if (!config_.listen.empty()) {
    MESHVPN_ASSIGN_OR_RETURN(options.bind, udp::Endpoint::Parse(config_.listen));
  }
  options.receive_buffer_bytes = config_.receive_buffer_bytes;
  options.send_buffer_bytes = config_.send_buffer_bytes;
  options.logger = Logger(log_sink_, "udp", LogLevel::kInfo);
  // Resolve first: a typo in -peer should fail before anything is bound.
  std::vector<udp::Endpoint> configured;
  for (const std::string& peer : config_.peers) {
    const std::optional<udp::AddressFamily> prefer =
        options.bind.is_v4() ? std::optional(udp::AddressFamily::kIpv4) : std::nullopt;
    MESHVPN_ASSIGN_OR_RETURN(udp::Endpoint e, udp::Resolve(peer, prefer));
    configured.push_back(e);
  }

  MESHVPN_ASSIGN_OR_RETURN(socket_, udp::UdpSocket::Open(loop_, &pool_, options));
  MESHVPN_ASSIGN_OR_RETURN(expiry_, udp::UvPeerExpiry::Create(loop_, &peers_, &clock_, this));
  socket_->TrackPeers(&peers_, expiry_.get());
  MESHVPN_RETURN_IF_ERROR(socket_->Start(this));

  Print(absl::StrFormat("Listening on %s...", config_.listen.empty()
                                                  ? socket_->local_endpoint().ToString()
                                                  : config_.listen));
  for (const udp::Endpoint& e : configured) {
    if (peers_.Add(e, clock_.Now(), /*pinned=*/true) == udp::PeerTable::Observed::kTableFull) {
      return absl::ResourceExhaustedError("more -peer entries than -max_peers allows");
    }
    Print(absl::StrFormat("[Peer %s] Added (from -peer; never times out)", e.ToString()));
  }

  if (config_.keepalive > Duration::zero()) {
    MESHVPN_ASSIGN_OR_RETURN(keepalive_timer_, UvTimer::Create(loop_, uv_timer_init));
    keepalive_timer_.set_owner(this);
    const uint64_t ms = std::max<uint64_t>(ToMillis(config_.keepalive), 1);
    uv_timer_start(keepalive_timer_.get(), &Messenger::OnKeepaliveTimer, ms, ms);
  }
  if (config_.stats_interval > Duration::zero()) {
    MESHVPN_ASSIGN_OR_RETURN(stats_timer_, UvTimer::Create(loop_, uv_timer_init));
    stats_timer_.set_owner(this);
    const uint64_t ms = std::max<uint64_t>(ToMillis(config_.stats_interval), 1);
    uv_timer_start(stats_timer_.get(), &Messenger::OnStatsTimer, ms, ms);
  }
  return absl::OkStatus();
}

void Messenger::Print(const std::string& line) {
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

void Messenger::OnDatagrams(std::span<udp::Datagram> batch) {
  for (const udp::Datagram& d : batch) {
    const std::string who = d.from.ToString();
    if (d.new_peer) Print(absl::StrFormat("[Peer %s] Connected", who));
    if (d.buffer->empty()) {
      ++keepalives_received_;  // an empty datagram only says "still here"
      continue;
    }
    ++messages_received_;
    Print(absl::StrFormat("[Peer %s] Message: %s", who, Printable(d.buffer->span())));
  }
}

void Messenger::OnPeerExpired(const udp::PeerInfo& peer) {
  Print(absl::StrFormat("[Peer %s] Timed out (nothing heard for %s)", peer.endpoint.ToString(),
                        Human(config_.peer_timeout)));
}

bool Messenger::HandleLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.empty()) return true;
  if (line == "/quit") return false;
  if (line == "/stats") {
    PrintStatistics();
  } else if (line == "/peers") {
    PrintPeers();
  } else if (line == "/help") {
    Print("Type a line to send it to every peer. Commands: /stats /peers /quit /help");
  } else if (line.front() == '/' && line.size() > 1 && line[1] != '/') {
    Print(
        absl::StrFormat("Unknown command \"%s\" (try /help; start a message with // to "
                        "send a line that begins with /)",
                        std::string(line)));
  } else {
    if (line.substr(0, 2) == "//") line.remove_prefix(1);
    Broadcast(line);
  }
  return true;
}

void Messenger::Broadcast(std::string_view message) {
  if (message.size() > kMaxMessage) {
    Print(absl::StrFormat(
        "Not sent: %d bytes is more than %d, the most this tool puts in one datagram (a bigger "
        "one would be fragmented by IP, or not fit the receiver's buffers)",
        message.size(), kMaxMessage));
    return;
  }
  Print(absl::StrFormat("Sending to all peers: \"%s\"", std::string(message)));
  if (peers_.empty()) {
    Print("No peers yet: nobody has sent us a packet and no -peer was given");
    return;
  }
  std::vector<udp::Endpoint> targets;
  peers_.ForEach([&](const udp::PeerInfo& p) { targets.push_back(p.endpoint); });
  for (const udp::Endpoint& to : targets) {
    const udp::UdpStats before = socket_->stats();
    if (socket_->SendTo(AsBytes(message), to)) {
      ++messages_sent_;
      Print(absl::StrFormat("[Sent to %s]", to.ToString()));
    } else {
      std::string why = "dropped";
      for (size_t r = 0; r < udp::kDropReasonCount; ++r) {
        if (socket_->stats().drops[r] != before.drops[r]) {
          why = std::string(udp::ToString(static_cast<udp::DropReason>(r)));
        }
      }
      Print(absl::StrFormat("[Not sent to %s: %s]", to.ToString(), why));
    }
  }
}

void Messenger::SendKeepalives() {
  std::vector<udp::SendItem> items;
  peers_.ForEach([&](const udp::PeerInfo& p) { items.push_back({ByteSpan(), p.endpoint}); });
  socket_->SendBatch(items);
}

void Messenger::OnKeepaliveTimer(uv_timer_t* timer) {
  static_cast<Messenger*>(timer->data)->SendKeepalives();
}

void Messenger::OnStatsTimer(uv_timer_t* timer) {
  static_cast<Messenger*>(timer->data)->PrintStatistics();
}

void Messenger::PrintStatistics() {
  const udp::UdpStats& s = socket_->stats();
  std::string drops;
  for (size_t r = 0; r < udp::kDropReasonCount; ++r) {
    if (s.drops[r] == 0) continue;
    drops += absl::StrFormat("%s%s=%d", drops.empty() ? "" : ", ",
                             udp::ToString(static_cast<udp::DropReason>(r)), s.drops[r]);
  }
  const double avg_batch = s.receive_calls == 0 ? 0.0
                                                : static_cast<double>(s.packets_received) /
                                                      static_cast<double>(s.receive_calls);
  Print("Statistics:");
  Print(absl::StrFormat("Packets received: %s", WithCommas(s.packets_received)));
  Print(absl::StrFormat("Packets sent: %s", WithCommas(s.packets_sent)));
  Print(absl::StrFormat("Active peers: %d", peers_.size()));
  Print(absl::StrFormat("Bytes transferred: %s", WithCommas(s.bytes_received + s.bytes_sent)));
  Print(absl::StrFormat("  messages received %s, keepalives received %s, messages sent %s",
                        WithCommas(messages_received_), WithCommas(keepalives_received_),
                        WithCommas(messages_sent_)));
  Print(absl::StrFormat("  bytes received %s, bytes sent %s, average receive batch %.1f",
                        WithCommas(s.bytes_received), WithCommas(s.bytes_sent), avg_batch));
  Print(absl::StrFormat("  peers seen %d, timed out %d; drops: %s", peers_.learned(),
                        peers_.expired(), drops.empty() ? "none" : drops));
}

void Messenger::PrintPeers() {
  const MonoTime now = clock_.Now();
  Print(absl::StrFormat("Peers (%d):", peers_.size()));
  peers_.ForEach([&](const udp::PeerInfo& p) {
    Print(absl::StrFormat(
        "  %s  in %d pkts / %d B, out %d pkts / %d B, first seen %s ago, last heard %s ago%s",
        p.endpoint.ToString(), p.packets_in, p.bytes_in, p.packets_out, p.bytes_out,
        Human(now - p.first_seen), Human(now - p.last_seen), p.pinned ? " (pinned)" : ""));
  });
}

}  // namespace meshvpn::tools
