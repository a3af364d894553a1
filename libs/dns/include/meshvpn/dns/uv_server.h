// UvDnsServer: the MagicDNS server on libuv. UDP (recvmmsg/sendmmsg batches) and TCP (RFC 7766:
// a two-byte length before each message, several queries per connection, pipelined, an idle
// timeout) on one address and port; forwarded queries go to the upstreams over UDP, and over
// TCP when an answer comes back truncated.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/dns/forwarder.h"
#include "meshvpn/dns/server_core.h"
#include "meshvpn/udp/uv_udp_socket.h"

namespace meshvpn::dns {

struct UvDnsServerConfig {
  udp::Endpoint listen = udp::Endpoint::Any(udp::AddressFamily::kIpv6, 53);
  // Upstream i is what ServerCoreConfig's upstream numbers (split routes, default) name.
  std::vector<udp::Endpoint> upstreams;
  ServerCoreConfig core;
  ForwarderConfig forwarder;
  std::chrono::milliseconds tcp_idle_timeout{10000};  // a connection with no complete query
  size_t max_tcp_connections = 1024;                  // beyond, new ones are closed at once
  size_t max_tcp_queries_in_flight = 64;              // forwarded, per connection
  size_t max_tcp_write_queue = 1 << 20;               // bytes; a client that does not read
  size_t max_upstream_tcp = 256;                      // TCP retries at once
};

// Told about every query, for a tool's per-query lines. Runs on the loop thread; may allocate.
class QueryObserver {
 public:
  virtual ~QueryObserver() = default;
  // Answered here (or refused, or dropped: then `response` is empty).
  virtual void OnAnswered(const Query& q, const udp::Endpoint& from, const Decision& d,
                          ByteSpan response) = 0;
  virtual void OnForwarded(const Query& q, const udp::Endpoint& from, int upstream) = 0;
  // An upstream's answer (or our SERVFAIL) on its way to the client.
  virtual void OnUpstreamAnswer(const ClientDelivery& d, ByteSpan response) = 0;
};

struct UvDnsServerStats {
  uint64_t tcp_accepted = 0;
  uint64_t tcp_refused = 0;      // over max_tcp_connections
  uint64_t tcp_idle_closed = 0;  // idle timeout (slow or silent clients)
  uint64_t tcp_overloaded = 0;   // closed: too many queries in flight or an unread queue
  uint64_t udp_send_failures = 0;
  uint64_t upstream_wrong_source = 0;  // a datagram on an upstream socket from someone else
  uint64_t upstream_send_failures = 0;
};

class UvDnsServer {
 public:
  // Binds UDP and TCP on config.listen (the same port: when it is 0 TCP takes the port UDP got)
  // and starts answering.
  static absl::StatusOr<std::unique_ptr<UvDnsServer>> Start(
      uv_loop_t* loop, UvDnsServerConfig config, std::shared_ptr<const RecordTable> records,
      Logger logger = {}, QueryObserver* observer = nullptr);
  ~UvDnsServer();
  UvDnsServer(const UvDnsServer&) = delete;
  UvDnsServer& operator=(const UvDnsServer&) = delete;

  // Swaps in new records between two queries (queries in flight are not affected).
  void SetRecords(std::shared_ptr<const RecordTable> records) {
    core_.SetRecords(std::move(records));
  }

  udp::Endpoint local_endpoint() const { return udp_->local_endpoint(); }
  const ServerCore& core() const { return core_; }
  const Forwarder& forwarder() const { return forwarder_; }
  const UvDnsServerStats& stats() const { return stats_; }
  size_t tcp_connections() const { return connections_.size(); }
  const udp::UdpStats& udp_stats() const { return udp_->stats(); }

 private:
  struct TcpConnection;
  struct UpstreamTcp;
  struct UdpReceiver final : public udp::DatagramReceiver {
    UvDnsServer* owner = nullptr;
    int upstream = -1;  // -1: the listening socket
    void OnDatagrams(std::span<udp::Datagram> batch) override;
  };

  UvDnsServer(uv_loop_t* loop, UvDnsServerConfig config, std::shared_ptr<const RecordTable> records,
              Logger logger, QueryObserver* observer);
  absl::Status Open();
  void HandleClientDatagrams(std::span<udp::Datagram> batch);
  void HandleUpstreamDatagrams(int upstream, std::span<udp::Datagram> batch);
  // A query from a UDP or TCP client: answers go to `reply`, forwards to the forwarder (then it
  // returns true: the answer comes later, through Deliver).
  bool HandleQuery(ByteSpan message, const ClientRef& client, MutableByteSpan out,
                   size_t* reply_size);
  void SendUpstream(const UpstreamSend& s);
  void StartUpstreamTcp(const UpstreamSend& s);
  void Deliver(const ClientDelivery& d, ByteSpan response);
  void ArmForwarderTimer();
  void RunForwarderTimer();

  static void OnTcpConnection(uv_stream_t* server, int status);
  void Accept();
  void CloseConnection(uint64_t id);
  void OnTcpRead(TcpConnection* c, ssize_t n, const uv_buf_t* buf);
  void WriteTcp(TcpConnection* c, ByteSpan message);
  void CloseUpstreamTcp(uint64_t serial, bool failed);

  uv_loop_t* loop_;
  UvDnsServerConfig config_;
  Logger logger_;
  QueryObserver* observer_;
  ServerCore core_;
  Forwarder forwarder_;
  PacketPool pool_;                      // client datagrams (queries are small)
  PacketPool upstream_pool_;             // upstream answers, up to 64 KiB
  std::shared_ptr<UvDnsServer*> alive_;  // dropped first in the destructor (ConnectRequest)
  std::unique_ptr<udp::UdpSocket> udp_;
  UdpReceiver udp_receiver_;
  std::vector<std::unique_ptr<udp::UdpSocket>> upstream_udp_;
  std::vector<std::unique_ptr<UdpReceiver>> upstream_receivers_;
  UvTcp listener_;
  UvTimer forwarder_timer_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<TcpConnection>> connections_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<UpstreamTcp>> upstream_tcp_;  // by serial
  uint64_t next_connection_ = 1;
  Query query_;                       // scratch, reused per query
  std::vector<uint8_t> udp_replies_;  // one slot per datagram of a batch
  std::vector<udp::SendItem> udp_sends_;
  std::vector<uint8_t> out_;          // forwarder and TCP answers (2-byte prefix room)
  std::vector<uint8_t> read_buffer_;  // TCP reads
  UvDnsServerStats stats_;
};

}  // namespace meshvpn::dns
