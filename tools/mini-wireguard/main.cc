// mini-wireguard (deep dive project 7): a userspace WireGuard that behaves like
// wireguard-go - a TUN interface and a UAPI socket that the standard `wg` tool drives - or reads
// a wg-quick file and brings the whole interface up.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/tool_init.h"
#include "common/tool_metrics.h"
#include "meshvpn/base/uv_loop.h"
#include "wg_app.h"

ABSL_FLAG(bool, f, false, "stay in the foreground (as wireguard-go -f)");
ABSL_FLAG(bool, foreground, false, "same as -f");
ABSL_FLAG(std::string, config, "",
          "a wg-quick file (wg0.conf): create the interface named after it, set its addresses "
          "and MTU, apply the keys and peers, bring it up; stays in the foreground");
ABSL_FLAG(std::string, interface, "", "with -config: the interface name (default: file name)");
ABSL_FLAG(int, mtu, 1420, "the interface MTU (a config file's MTU wins)");
ABSL_FLAG(int, stats_interval, 0, "print the statistics every N seconds (0: only at exit)");
ABSL_FLAG(bool, verbose, false, "log handshake details (debug level)");
ABSL_FLAG(bool, udp_offload, true,
          "UDP segmentation offload (GSO) on send and receive coalescing (GRO); "
          "--udp-offload=false sends and reads one datagram per slot");
ABSL_FLAG(bool, offload, true,
          "TUN offloads: the kernel hands over 64 KiB TCP super-packets (TSO) that are cut into "
          "MTU-sized packets here, and received TCP segments go back as super-packets (see "
          "--tun-coalesce), so bulk TCP needs far fewer system calls; --offload=false: one "
          "packet per read and write");
ABSL_FLAG(bool, tun_coalesce, true,
          "with --offload: write each flow's consecutive TCP segments to the TUN as one "
          "super-packet (userspace GRO), so the kernel's stack takes one packet, not dozens");
ABSL_FLAG(bool, crypto_thread, false,
          "seal and open packets on a second thread, so a busy tunnel uses two cores (the "
          "main thread keeps the I/O and the protocol state; small batches stay on it)");
ABSL_FLAG(std::string, metrics_listen, "", meshvpn::tools::kMetricsListenHelp);
ABSL_FLAG(int, trace, -1,
          "print the first N packets as [Packet]/[Encrypt]/[Send] and [Receive]/[Decrypt] lines "
          "(default: 10 with -config, 0 otherwise)");

namespace {

constexpr char kUsage[] =
    R"(mini-wireguard: a userspace WireGuard (the whitepaper's protocol, interoperable with
wireguard-go and the Linux module), built on meshvpn's wg library.

Like wireguard-go:
  mini-wireguard [-f] IFACE
creates the TUN interface IFACE and the control socket /var/run/wireguard/IFACE.sock, then waits
to be configured by the standard tools:
  wg genkey > private.key
  wg set IFACE private-key private.key listen-port 51820 \
         peer <their public key> endpoint 192.0.2.2:51820 allowed-ips 10.0.0.2/32
  ip address add 10.0.0.1/24 dev IFACE && ip link set IFACE up
  wg show IFACE          (peers, latest handshake, transfer)
Without -f it goes to the background once the interface is ready.

With a wg-quick file (Interface: PrivateKey, Address, ListenPort, MTU; Peer: PublicKey,
PresharedKey, Endpoint, AllowedIPs, PersistentKeepalive):
  mini-wireguard -config wg0.conf
A bad file is refused with the line and the field that are wrong. Keys are never printed.

Ctrl-C (or SIGTERM) stops it and prints the statistics: handshakes, packets, bytes per peer and
every dropped packet by reason; SIGUSR1 prints them while running.
  mini-wireguard --metrics-listen 127.0.0.1:9586 -f IFACE
also serves them to Prometheus at http://127.0.0.1:9586/metrics (meshvpn_wg_rx_bytes_total...).)";

std::string InterfaceFromPath(const std::string& path) {
  std::string name = path.substr(path.rfind('/') + 1);
  if (const size_t dot = name.rfind(".conf"); dot != std::string::npos && dot > 0) {
    name.resize(dot);
  }
  return name;
}

// wireguard-go's daemon mode: the parent returns once the child reports the interface ready (0)
// or failed (1, with the child's message on stderr).
int Daemonize(int* ready_fd) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid > 0) {
    close(fds[1]);
    char status = 0;
    const ssize_t n = read(fds[0], &status, 1);
    return (n == 1 && status == 'R') ? 1 : 2;  // parent: exit 0 or 1
  }
  close(fds[0]);
  setsid();
  if (int null = open("/dev/null", O_RDWR); null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    if (null > STDERR_FILENO) close(null);
  }
  *ready_fd = fds[1];
  return 0;  // child: carry on
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args = meshvpn::tools::InitTool(argc, argv, kUsage);
  meshvpn::tools::WgAppConfig config;
  config.mtu = absl::GetFlag(FLAGS_mtu);
  config.stats_interval_seconds = absl::GetFlag(FLAGS_stats_interval);
  if (absl::GetFlag(FLAGS_verbose)) config.log_level = meshvpn::LogLevel::kDebug;
  config.offload = absl::GetFlag(FLAGS_offload);
  config.udp_offload = absl::GetFlag(FLAGS_udp_offload);
  config.crypto_thread = absl::GetFlag(FLAGS_crypto_thread);
  config.tun_coalesce = absl::GetFlag(FLAGS_tun_coalesce);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  const std::string config_path = absl::GetFlag(FLAGS_config);
  const int trace = absl::GetFlag(FLAGS_trace);
  config.trace_packets = trace >= 0 ? static_cast<uint64_t>(trace) : (config_path.empty() ? 0 : 10);
  bool foreground = absl::GetFlag(FLAGS_f) || absl::GetFlag(FLAGS_foreground);
  if (!config_path.empty()) {
    auto file = meshvpn::wg::LoadWgQuickConfig(config_path);
    if (!file.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(file.status().message()).c_str());
      return 2;
    }
    config.file = *std::move(file);
    config.interface_name = absl::GetFlag(FLAGS_interface).empty() ? InterfaceFromPath(config_path)
                                                                   : absl::GetFlag(FLAGS_interface);
    foreground = true;
  } else {
    if (args.size() != 1) {
      std::fprintf(stderr,
                   "usage: mini-wireguard [-f] IFACE | mini-wireguard -config FILE "
                   "(see --help)\n");
      return 2;
    }
    config.interface_name = args[0];
  }
  if (config.interface_name.empty() || config.interface_name.size() > 15) {
    std::fprintf(stderr, "error: interface name '%s' must be 1..15 characters\n",
                 config.interface_name.c_str());
    return 2;
  }

  int ready_fd = -1;
  if (!foreground) {
    const int role = Daemonize(&ready_fd);
    if (role < 0) {
      std::perror("mini-wireguard: fork");
      return 1;
    }
    if (role > 0) return role == 1 ? 0 : 1;
  }
  config.on_ready = [&ready_fd] {
    if (ready_fd >= 0) {
      const char ready = 'R';
      (void)!write(ready_fd, &ready, 1);
      close(ready_fd);
      ready_fd = -1;
      // Start-up errors went to the caller's terminal; from now on a daemon is quiet, as
      // wireguard-go's (run with -f to see the log).
      if (int null = open("/dev/null", O_WRONLY); null >= 0) {
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) close(null);
      }
    }
  };

  meshvpn::UvLoop loop;
  meshvpn::tools::WgApp app(loop.get());
  absl::Status status = app.Run(config);
  app.Shutdown();
  app.Destroy();
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return loop.Close() == 0 ? 0 : 1;
}
