// udp_tunnel (C project 2): a plain TUN <-> UDP point-to-point tunnel. A VPN minus the security.
#include "tunnel_main.h"

namespace {

constexpr char kUsage[] =
    R"(udp_tunnel: a point-to-point tunnel that carries IP packets inside UDP, unencrypted.

Packets the kernel routes into the TUN device are sent, as they are, in UDP datagrams to the peer,
which writes them into its own TUN device. This is the exact packet path of WireGuard,
  app -> TUN -> UDP -> network -> UDP -> TUN -> app
without the cryptography: anyone on the path can read the packets (try tcpdump) and anyone who
can reach the port can inject them. psk_tunnel adds the encryption.

The MTU is 1452 by default: a 1500-byte path minus 40 bytes of outer IPv6 header and 8 of UDP, so
a full-size tunnel packet never has to be fragmented.

Machine A (server):  udp_tunnel --mode server --listen :5000 --address 10.0.0.1/24
Machine B (client):  udp_tunnel --mode client --peer A:5000 --address 10.0.0.2/24
Then on B:           ping 10.0.0.1

Ctrl-C stops and prints the statistics; `kill -USR1 <pid>` prints them while running.)";

}  // namespace

int main(int argc, char** argv) {
  meshvpn::tunnel::TunnelToolSpec spec;
  spec.usage = kUsage;
  spec.default_mtu = 1500 - 40 - 8;
  spec.make_protector = [](meshvpn::tunnel::TunnelConfig::Mode)
      -> absl::StatusOr<std::unique_ptr<meshvpn::tunnel::PacketProtector>> {
    return std::make_unique<meshvpn::tunnel::PlainProtector>();
  };
  return meshvpn::tunnel::RunTunnelTool(argc, argv, spec);
}
