// derp_server's [Connect], [Relay] and [Disconnect] lines and its statistics block.
#include "relay_printer.h"

#include "meshvpn/derp/keys.h"

namespace meshvpn::tools {

std::string WithThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

void RelayPrinter::OnClientConnected(derp::ConnId, const derp::PublicKey& key,
                                     const derp::PeerEndpoint& from, const derp::ClientInfo& info,
                                     bool can_mesh) {
  if (verbosity_ == Verbosity::kQuiet) return;
  std::printf("[Connect] %s %s from %s%s%s\n", can_mesh ? "Mesh peer" : "Client",
              derp::FormatNodeKey(key).c_str(), from.ToString().c_str(),
              info.app_name.empty() ? "" : " app=", info.app_name.c_str());
  std::fflush(stdout);
}

void RelayPrinter::OnClientDisconnected(derp::ConnId, const derp::PublicKey& key,
                                        std::string_view why) {
  if (verbosity_ == Verbosity::kQuiet) return;
  std::printf("[Disconnect] %s: %.*s\n", derp::ShortKey(key).c_str(), static_cast<int>(why.size()),
              why.data());
  std::fflush(stdout);
}

void RelayPrinter::OnConnectionRejected(derp::ConnId, const derp::PeerEndpoint& from,
                                        derp::CloseReason reason, std::string_view detail) {
  if (verbosity_ == Verbosity::kQuiet) return;
  const std::string_view name = derp::ToString(reason);
  std::printf("[Closed] %s: %.*s (%.*s)\n", from.ToString().c_str(), static_cast<int>(name.size()),
              name.data(), static_cast<int>(detail.size()), detail.data());
  std::fflush(stdout);
}

void RelayPrinter::OnPacketRelayed(const derp::PublicKey& src, const derp::PublicKey& dst,
                                   size_t bytes, bool forwarded) {
  if (verbosity_ == Verbosity::kQuiet) return;
  if (verbosity_ == Verbosity::kNormal) {
    int& shown = relay_lines_[{src, dst}];
    if (shown > relay_lines_per_pair_) return;
    if (shown++ == relay_lines_per_pair_) {
      std::printf("[Relay] %s → %s: ... (more packets not shown; --verbose shows each)\n",
                  derp::ShortKey(src).c_str(), derp::ShortKey(dst).c_str());
      std::fflush(stdout);
      return;
    }
  }
  std::printf("[Relay] %s → %s: %zu bytes%s\n", derp::ShortKey(src).c_str(),
              derp::ShortKey(dst).c_str(), bytes, forwarded ? " (via mesh peer)" : "");
  std::fflush(stdout);
}

void RelayPrinter::PrintStatistics(const derp::ServerStats& s, std::FILE* out) {
  std::fprintf(out, "Statistics:\n");
  std::fprintf(out, "Connected clients: %s\n", WithThousands(s.current_clients).c_str());
  std::fprintf(out, "Connections accepted: %s (%s completed the handshake)\n",
               WithThousands(s.accepts).c_str(), WithThousands(s.handshakes).c_str());
  std::fprintf(out, "Packets relayed: %s\n", WithThousands(s.packets_sent).c_str());
  std::fprintf(out, "Bytes relayed: %s\n", WithThousands(s.bytes_sent).c_str());
  if (s.queue_time_samples > 0) {
    std::fprintf(out, "Avg latency in the server: %.3f ms (time a packet waits to be written)\n",
                 static_cast<double>(s.queue_time_total_us) / 1000.0 /
                     static_cast<double>(s.queue_time_samples));
  }
  std::fprintf(out, "Forwarded through mesh peers: %s out, %s in\n",
               WithThousands(s.packets_forwarded_out).c_str(),
               WithThousands(s.packets_forwarded_in).c_str());
  std::fprintf(out, "Packets dropped: %s\n", WithThousands(s.dropped_total()).c_str());
  for (size_t r = 0; r < s.packets_dropped.size(); ++r) {
    const uint64_t n = s.packets_dropped[r][0] + s.packets_dropped[r][1];
    if (n == 0) continue;
    const std::string_view name = derp::ToString(static_cast<derp::DropReason>(r));
    std::fprintf(out, "  %.*s: %s\n", static_cast<int>(name.size()), name.data(),
                 WithThousands(n).c_str());
  }
  uint64_t closed = 0;
  for (uint64_t n : s.closed) closed += n;
  if (closed > 0) {
    std::fprintf(out, "Connections closed by the server: %s\n", WithThousands(closed).c_str());
    for (size_t r = 0; r < s.closed.size(); ++r) {
      if (s.closed[r] == 0) continue;
      const std::string_view name = derp::ToString(static_cast<derp::CloseReason>(r));
      std::fprintf(out, "  %.*s: %s\n", static_cast<int>(name.size()), name.data(),
                   WithThousands(s.closed[r]).c_str());
    }
  }
  std::fprintf(out, "PeerGone sent: %s disconnected, %s not here\n",
               WithThousands(s.peer_gone_disconnected_frames).c_str(),
               WithThousands(s.peer_gone_not_here_frames).c_str());
}

}  // namespace meshvpn::tools
