#include "meshvpn/wg/uv_device_metrics.h"

#include <array>
#include <chrono>
#include <cstddef>
#include <string_view>

#include "meshvpn/udp/stats.h"

namespace meshvpn::wg {
namespace {

using metrics::CollectOutput;
using metrics::FamilyDesc;
using metrics::MetricType;

template <typename Stats>
struct CounterField {
  const char* name;
  const char* help;
  uint64_t Stats::*field;
};

constexpr std::array<CounterField<DeviceStats>, 13> kDeviceCounters = {{
    {"meshvpn_wg_datagrams_received_total", "UDP payloads handed to the device",
     &DeviceStats::datagrams_received},
    {"meshvpn_wg_handshake_initiations_sent_total", "Handshake initiations sent",
     &DeviceStats::initiations_sent},
    {"meshvpn_wg_handshake_initiations_received_total",
     "Valid handshake initiations received from peers", &DeviceStats::initiations_received},
    {"meshvpn_wg_handshake_responses_sent_total", "Handshake responses sent",
     &DeviceStats::responses_sent},
    {"meshvpn_wg_handshake_responses_received_total", "Valid handshake responses received",
     &DeviceStats::responses_received},
    {"meshvpn_wg_cookie_replies_sent_total", "Cookie replies sent (under load)",
     &DeviceStats::cookie_replies_sent},
    {"meshvpn_wg_cookie_replies_received_total", "Cookie replies accepted",
     &DeviceStats::cookie_replies_received},
    {"meshvpn_wg_handshakes_completed_total", "Handshakes completed (sessions established)",
     &DeviceStats::handshakes_completed},
    {"meshvpn_wg_keepalives_sent_total", "Keepalives sent", &DeviceStats::keepalives_sent},
    {"meshvpn_wg_keepalives_received_total", "Keepalives received",
     &DeviceStats::keepalives_received},
    {"meshvpn_wg_packets_sent_total", "Data packets sealed and sent", &DeviceStats::packets_sent},
    {"meshvpn_wg_packets_received_total", "Data packets decrypted and delivered",
     &DeviceStats::packets_received},
    {"meshvpn_wg_endpoint_changes_total", "Peer endpoints learned or changed (roaming)",
     &DeviceStats::endpoint_changes},
}};

constexpr std::array<CounterField<udp::UdpStats>, 9> kUdpCounters = {{
    {"meshvpn_udp_packets_received_total", "Datagrams received", &udp::UdpStats::packets_received},
    {"meshvpn_udp_received_bytes_total", "Datagram payload bytes received",
     &udp::UdpStats::bytes_received},
    {"meshvpn_udp_packets_sent_total", "Datagrams sent", &udp::UdpStats::packets_sent},
    {"meshvpn_udp_sent_bytes_total", "Datagram payload bytes sent", &udp::UdpStats::bytes_sent},
    {"meshvpn_udp_receive_calls_total", "recvmmsg/recvmsg calls that moved datagrams",
     &udp::UdpStats::receive_calls},
    {"meshvpn_udp_send_calls_total", "sendmmsg/sendmsg calls that moved datagrams",
     &udp::UdpStats::send_calls},
    {"meshvpn_udp_gso_segments_sent_total", "Datagrams sent inside UDP_SEGMENT super-datagrams",
     &udp::UdpStats::gso_segments_sent},
    {"meshvpn_udp_gro_segments_received_total", "Datagrams received coalesced by UDP_GRO",
     &udp::UdpStats::gro_segments_received},
    {"meshvpn_udp_kernel_receive_drops_total",
     "Datagrams the kernel dropped because the receive buffer was full",
     &udp::UdpStats::kernel_receive_drops},
}};

constexpr std::array<CounterField<tun::TunStats>, 10> kTunCounters = {{
    {"meshvpn_tun_packets_read_total", "Packets read from the TUN device",
     &tun::TunStats::packets_read},
    {"meshvpn_tun_read_bytes_total", "Bytes read from the TUN device", &tun::TunStats::bytes_read},
    {"meshvpn_tun_packets_written_total", "Packets written to the TUN device",
     &tun::TunStats::packets_written},
    {"meshvpn_tun_written_bytes_total", "Bytes written to the TUN device",
     &tun::TunStats::bytes_written},
    {"meshvpn_tun_read_batches_total", "Batches of packets read", &tun::TunStats::read_batches},
    {"meshvpn_tun_tso_packets_total", "TSO super-packets read", &tun::TunStats::tso_packets},
    {"meshvpn_tun_tso_segments_total", "Packets the TSO super-packets were cut into",
     &tun::TunStats::tso_segments},
    {"meshvpn_tun_coalesced_writes_total", "TSO super-packets written (coalesced TCP segments)",
     &tun::TunStats::coalesced_writes},
    {"meshvpn_tun_coalesced_segments_total", "TCP segments carried by coalesced writes",
     &tun::TunStats::coalesced_segments},
    {"meshvpn_tun_coalesce_fallbacks_total",
     "Times the kernel refused a coalesced write and coalescing turned off",
     &tun::TunStats::coalesce_fallbacks},
}};

constexpr std::array<CounterField<CryptoWorkerStats>, 3> kCryptoCounters = {{
    {"meshvpn_wg_crypto_jobs_inline_total", "Seal/open jobs run on the loop thread",
     &CryptoWorkerStats::jobs_inline},
    {"meshvpn_wg_crypto_jobs_submitted_total", "Seal/open jobs run on the crypto thread",
     &CryptoWorkerStats::jobs_submitted},
    {"meshvpn_wg_crypto_wakeups_total", "Times the loop woke the sleeping crypto thread",
     &CryptoWorkerStats::wakeups},
}};

// The families after the four counter tables, in this order.
enum Extra : size_t {
  kWgDrops,
  kWgPeers,
  kWgUnderLoad,
  kWgBacklogged,
  kWgRxBytes,
  kWgTxBytes,
  kWgLastHandshake,
  kWgHandshakeAge,
  kUdpDrops,
  kUdpLargestQueue,
  kTunDrops,
  kExtraCount,
};

constexpr size_t kDeviceBase = 0;
constexpr size_t kUdpBase = kDeviceBase + kDeviceCounters.size();
constexpr size_t kTunBase = kUdpBase + kUdpCounters.size();
constexpr size_t kCryptoBase = kTunBase + kTunCounters.size();
constexpr size_t kExtraBase = kCryptoBase + kCryptoCounters.size();

template <typename Table>
void DescribeCounters(const Table& table, std::vector<FamilyDesc>* out) {
  for (const auto& c : table) {
    out->push_back({c.name, c.help, MetricType::kCounter, {"interface"}, {}});
  }
}

template <typename Table, typename Stats>
void CollectCounters(const Table& table, size_t base, const Stats& stats,
                     std::string_view interface, CollectOutput& out) {
  for (size_t i = 0; i < table.size(); ++i) out.Add(base + i, {interface}, stats.*table[i].field);
}

}  // namespace

DeviceMetrics::DeviceMetrics(const UvDevice* device, std::string interface_name, const Clock* clock)
    : device_(device), interface_(std::move(interface_name)), clock_(clock) {}

std::vector<FamilyDesc> DeviceMetrics::Describe() const {
  std::vector<FamilyDesc> f;
  DescribeCounters(kDeviceCounters, &f);
  DescribeCounters(kUdpCounters, &f);
  DescribeCounters(kTunCounters, &f);
  DescribeCounters(kCryptoCounters, &f);
  f.resize(kExtraBase + kExtraCount);
  f[kExtraBase + kWgDrops] = {"meshvpn_wg_drops_total",
                              "Packets the device dropped, by reason",
                              MetricType::kCounter,
                              {"interface", "reason"},
                              {}};
  f[kExtraBase + kWgPeers] = {
      "meshvpn_wg_peers", "Configured peers", MetricType::kGauge, {"interface"}, {}};
  f[kExtraBase + kWgUnderLoad] = {"meshvpn_wg_under_load",
                                  "1 while the device demands cookies for handshakes",
                                  MetricType::kGauge,
                                  {"interface"},
                                  {}};
  f[kExtraBase + kWgBacklogged] = {"meshvpn_wg_receive_backlogged",
                                   "1 while the UDP receive queue is more than 1/8 full",
                                   MetricType::kGauge,
                                   {"interface"},
                                   {}};
  f[kExtraBase + kWgRxBytes] = {"meshvpn_wg_rx_bytes_total",
                                "UDP payload bytes received from the peer (all messages)",
                                MetricType::kCounter,
                                {"interface", "peer"},
                                {}};
  f[kExtraBase + kWgTxBytes] = {"meshvpn_wg_tx_bytes_total",
                                "UDP payload bytes sent to the peer (all messages)",
                                MetricType::kCounter,
                                {"interface", "peer"},
                                {}};
  f[kExtraBase + kWgLastHandshake] = {"meshvpn_wg_last_handshake_timestamp_seconds",
                                      "Unix time of the peer's latest completed handshake",
                                      MetricType::kGauge,
                                      {"interface", "peer"},
                                      {}};
  f[kExtraBase + kWgHandshakeAge] = {"meshvpn_wg_handshake_age_seconds",
                                     "Seconds since the peer's latest completed handshake",
                                     MetricType::kGauge,
                                     {"interface", "peer"},
                                     {}};
  f[kExtraBase + kUdpDrops] = {"meshvpn_udp_drops_total",
                               "Datagrams the socket dropped, by reason",
                               MetricType::kCounter,
                               {"interface", "reason"},
                               {}};
  f[kExtraBase + kUdpLargestQueue] = {
      "meshvpn_udp_largest_receive_queue_bytes",
      "The most bytes seen waiting in the kernel's receive queue after a read",
      MetricType::kGauge,
      {"interface"},
      {}};
  f[kExtraBase + kTunDrops] = {"meshvpn_tun_drops_total",
                               "Packets the TUN side dropped, by reason",
                               MetricType::kCounter,
                               {"interface", "reason"},
                               {}};
  return f;
}

void DeviceMetrics::Collect(CollectOutput& out) {
  const Device& device = device_->device();
  const DeviceStats& stats = device.stats();
  const std::string_view iface = interface_;
  CollectCounters(kDeviceCounters, kDeviceBase, stats, iface, out);
  for (size_t r = 0; r < kDropReasonCount; ++r) {
    out.Add(kExtraBase + kWgDrops, {iface, ToString(static_cast<DropReason>(r))}, stats.drops[r]);
  }
  out.Add(kExtraBase + kWgPeers, {iface}, device.peer_count());
  out.Add(kExtraBase + kWgUnderLoad, {iface}, device.under_load() ? 1 : 0);
  out.Add(kExtraBase + kWgBacklogged, {iface}, device.receive_backlogged() ? 1 : 0);

  const WallTime now = clock_->WallNow();
  const DeviceStatus status = device.Status();
  for (const PeerStatus& peer : status.peers) {
    const std::string key = peer.public_key.ToBase64();
    out.Add(kExtraBase + kWgRxBytes, {iface, key}, peer.rx_bytes);
    out.Add(kExtraBase + kWgTxBytes, {iface, key}, peer.tx_bytes);
    if (peer.last_handshake) {
      const double unix_seconds =
          std::chrono::duration<double>(peer.last_handshake->time_since_epoch()).count();
      const double age = std::chrono::duration<double>(now - *peer.last_handshake).count();
      out.Add(kExtraBase + kWgLastHandshake, {iface, key}, unix_seconds);
      out.Add(kExtraBase + kWgHandshakeAge, {iface, key}, age > 0 ? age : 0.0);
    }
  }

  if (const udp::UdpStats* u = device_->udp_stats()) {
    CollectCounters(kUdpCounters, kUdpBase, *u, iface, out);
    for (size_t r = 0; r < udp::kDropReasonCount; ++r) {
      out.Add(kExtraBase + kUdpDrops, {iface, udp::ToString(static_cast<udp::DropReason>(r))},
              u->drops[r]);
    }
    out.Add(kExtraBase + kUdpLargestQueue, {iface}, u->largest_receive_queue_bytes);
  }
  if (const tun::TunStats* t = device_->tun_stats()) {
    CollectCounters(kTunCounters, kTunBase, *t, iface, out);
    for (size_t r = 0; r < tun::kTunDropReasonCount; ++r) {
      out.Add(kExtraBase + kTunDrops, {iface, tun::ToString(static_cast<tun::TunDropReason>(r))},
              t->drops[r]);
    }
  }
  if (const CryptoWorkerStats* c = device_->crypto_stats()) {
    CollectCounters(kCryptoCounters, kCryptoBase, *c, iface, out);
  }
}

}  // namespace meshvpn::wg
