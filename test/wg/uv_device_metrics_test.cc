// DeviceMetrics: a real UvDevice (no TUN: a PacketSink) on loopback, registered in a metrics
// Registry; its exposition names every family once, and a datagram the device drops shows up
// in the drop and UDP counters of the next scrape.
#include "meshvpn/wg/uv_device_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "meshvpn/base/uv_loop.h"
#include "meshvpn/metrics/exposition.h"
#include "meshvpn/metrics/registry.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::wg {
namespace {

class NullSink final : public PacketSink {
 public:
  void OnPacket(ByteSpan) override {}
};

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST_CASE("DeviceMetrics exposes the device, its peers and its socket, and follows drops") {
  UvLoop loop;
  NullSink sink;
  {
    UvDeviceOptions options;
    options.packet_sink = &sink;
    auto device = UvDevice::Create(loop.get(), options);
    REQUIRE(device.ok());
    // A fixed private key, so the test can look for its text in the exposition.
    const std::string private_text = "YHbMu9FXzC6Bs1zXWQyazLsSp4cH6Ykc5fAnCWT0Ymk=";
    auto private_key = x25519::PrivateKey::FromBase64(private_text);
    REQUIRE(private_key.ok());
    auto peer = x25519::GenerateKeyPair();
    REQUIRE(peer.ok());
    DeviceConfigUpdate update;
    update.private_key = *private_key;
    update.listen_port = 0;
    update.peers.emplace_back().public_key = peer->public_key;
    REQUIRE((*device)->Apply(update).ok());
    REQUIRE((*device)->Start().ok());

    DeviceMetrics collector(device->get(), "wg0");
    metrics::Registry registry;
    REQUIRE(registry.AddCollector(&collector).ok());

    // Every family has its own name.
    std::set<std::string> names;
    for (const metrics::FamilyDesc& f : collector.Describe()) CHECK(names.insert(f.name).second);

    std::string text = metrics::Expose(registry.Collect(), metrics::Format::kPrometheusText);
    const std::string peer_label = "peer=\"" + peer->public_key.ToBase64() + "\"";
    CHECK(Contains(text, "meshvpn_wg_peers{interface=\"wg0\"} 1\n"));
    CHECK(Contains(text, "meshvpn_wg_rx_bytes_total{interface=\"wg0\"," + peer_label + "} 0\n"));
    CHECK(
        Contains(text, "meshvpn_wg_drops_total{interface=\"wg0\",reason=\"handshake-shed\"} 0\n"));
    CHECK(Contains(text, "meshvpn_udp_packets_received_total{interface=\"wg0\"} 0\n"));
    CHECK_FALSE(Contains(text, "meshvpn_wg_handshake_age_seconds"));  // no handshake yet
    CHECK_FALSE(Contains(text, "meshvpn_tun_"));                      // no TUN side
    // Nothing secret in it.
    CHECK_FALSE(Contains(text, private_text));

    // A datagram that is no WireGuard message: dropped, and counted on the next scrape.
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons((*device)->bound_port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char junk[] = "not wireguard";
    REQUIRE(sendto(fd, junk, sizeof junk, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) > 0);
    close(fd);
    for (int i = 0; i < 200 && (*device)->device().stats().datagrams_received == 0; ++i) {
      uv_run(loop.get(), UV_RUN_NOWAIT);
      usleep(1000);
    }
    REQUIRE((*device)->device().stats().datagrams_received == 1);
    text = metrics::Expose(registry.Collect(), metrics::Format::kOpenMetrics);
    CHECK(Contains(text,
                   "meshvpn_wg_drops_total{interface=\"wg0\",reason=\"malformed-message\"} 1\n"));
    CHECK(Contains(text, "meshvpn_udp_packets_received_total{interface=\"wg0\"} 1\n"));
    CHECK(Contains(text, "meshvpn_wg_datagrams_received_total{interface=\"wg0\"} 1\n"));
    CHECK(Contains(text, "# EOF\n"));
    (*device)->Stop();
  }
  uv_run(loop.get(), UV_RUN_NOWAIT);
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::wg
