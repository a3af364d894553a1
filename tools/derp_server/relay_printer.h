// RelayPrinter: derp_server's console output, the seed's [Connect] / [Relay] lines from the core's
// observer calls (the first few packets of each pair, unless verbose), and the statistics block.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "meshvpn/derp/server_core.h"

namespace meshvpn::tools {

class RelayPrinter final : public derp::ServerObserver {
 public:
  enum class Verbosity { kQuiet, kNormal, kVerbose };
  // `relay_lines_per_pair`: how many [Relay] lines each direction of a pair gets (kNormal).
  RelayPrinter(Verbosity verbosity, int relay_lines_per_pair)
      : verbosity_(verbosity), relay_lines_per_pair_(relay_lines_per_pair) {}

  void OnClientConnected(derp::ConnId, const derp::PublicKey& key, const derp::PeerEndpoint& from,
                         const derp::ClientInfo& info, bool can_mesh) override;
  void OnClientDisconnected(derp::ConnId, const derp::PublicKey& key,
                            std::string_view why) override;
  void OnConnectionRejected(derp::ConnId, const derp::PeerEndpoint& from, derp::CloseReason reason,
                            std::string_view detail) override;
  void OnPacketRelayed(const derp::PublicKey& src, const derp::PublicKey& dst, size_t bytes,
                       bool forwarded) override;

  // The seed's "Statistics:" block.
  static void PrintStatistics(const derp::ServerStats& s, std::FILE* out);

 private:
  Verbosity verbosity_;
  int relay_lines_per_pair_;
  absl::flat_hash_map<std::pair<derp::PublicKey, derp::PublicKey>, int> relay_lines_;
};

// 1247 -> "1,247".
std::string WithThousands(uint64_t n);

}  // namespace meshvpn::tools
