// The command-line front end shared by udp_tunnel and psk_tunnel: flags, signals, statistics.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "packet_protector.h"
#include "uv_point_to_point.h"

namespace meshvpn::tunnel {

struct TunnelToolSpec {
  std::string_view usage;  // the --help text
  int default_mtu;         // what leaves room for the encapsulation on a 1500-byte path
  // Builds the protector once the flags are parsed (reads the tool's own flags).
  std::function<absl::StatusOr<std::unique_ptr<PacketProtector>>(TunnelConfig::Mode)>
      make_protector;
  // Optional: runs right after flag parsing; a value means "exit now with this code" (--genkey).
  std::function<std::optional<int>()> before_start;
};

// Parses the common flags (--mode, --listen, --peer, --tun, --address, --address6, --mtu,
// --keepalive, --stats-interval), runs the tunnel until SIGINT/SIGTERM and prints the statistics
// block on exit and on SIGUSR1. Returns the process exit code.
int RunTunnelTool(int argc, char** argv, const TunnelToolSpec& spec);

}  // namespace meshvpn::tunnel
