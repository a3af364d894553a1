#include "meshvpn/udp/uv_udp_socket.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "meshvpn/base/uv_loop.h"
#include "test_util.h"

namespace meshvpn::udp {
namespace {

using testing::BindTo;
using testing::Recorder;
using testing::RunUntil;

std::unique_ptr<UdpSocket> MustOpen(uv_loop_t* loop, PacketPool* pool, UdpSocketOptions options) {
  absl::StatusOr<std::unique_ptr<UdpSocket>> s = UdpSocket::Open(loop, pool, std::move(options));
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(*s);
}

// Sends "ping" from a to b and "pong" back, checking addresses both ways.
void PingPong(const char* a_bind, const char* b_bind, const char* b_target_host) {
  UvLoop loop;
  PacketPool pool(64, 2048);
  {
    auto a = MustOpen(loop.get(), &pool, BindTo(a_bind));
    auto b = MustOpen(loop.get(), &pool, BindTo(b_bind));
    Recorder at_a;
    Recorder at_b;
    REQUIRE(a->Start(&at_a).ok());
    REQUIRE(b->Start(&at_b).ok());
    CHECK(a->local_endpoint().port() != 0);

    const Endpoint b_addr = Endpoint::Parse(b_target_host)->WithPort(b->local_endpoint().port());
    REQUIRE(a->SendTo(AsBytes("ping"), b_addr));
    REQUIRE(RunUntil(loop.get(), [&] { return at_b.entries.size() == 1; }));
    CHECK(at_b.entries[0].payload == "ping");
    CHECK(at_b.entries[0].headroom == PacketBuffer::kDefaultHeadroom);
    const Endpoint a_seen = at_b.entries[0].from;
    CHECK(a_seen.port() == a->local_endpoint().port());

    REQUIRE(b->SendTo(AsBytes("pong"), a_seen));
    REQUIRE(RunUntil(loop.get(), [&] { return at_a.entries.size() == 1; }));
    CHECK(at_a.entries[0].payload == "pong");
    CHECK(at_a.entries[0].from.port() == b->local_endpoint().port());

    CHECK(a->stats().packets_sent == 1);
    CHECK(a->stats().bytes_sent == 4);
    CHECK(b->stats().packets_received == 1);
    CHECK(b->stats().bytes_received == 4);
    CHECK(a->stats().total_drops() == 0);
    CHECK(b->stats().total_drops() == 0);
  }
  CHECK(pool.available() == pool.capacity());
  CHECK(loop.Close() == 0);
}

TEST_CASE("send and receive over IPv4 loopback") {
  PingPong("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:1");
}

TEST_CASE("send and receive over IPv6 loopback") { PingPong("[::1]:0", "[::1]:0", "[::1]:1"); }

TEST_CASE("a dual-stack socket serves IPv4 peers and sees them as IPv4 endpoints") {
  UvLoop loop;
  PacketPool pool(64, 2048);
  {
    auto v4 = MustOpen(loop.get(), &pool, BindTo("127.0.0.1:0"));
    auto dual = MustOpen(loop.get(), &pool, BindTo(":0"));
    CHECK(dual->socket_family() == AddressFamily::kIpv6);
    CHECK(dual->dual_stack());
    Recorder at_v4;
    Recorder at_dual;
    REQUIRE(v4->Start(&at_v4).ok());
    REQUIRE(dual->Start(&at_dual).ok());

    REQUIRE(v4->SendTo(AsBytes("over v4"),
                       Endpoint::Loopback(AddressFamily::kIpv4, dual->local_endpoint().port())));
    REQUIRE(RunUntil(loop.get(), [&] { return at_dual.entries.size() == 1; }));
    // Not ::ffff:127.0.0.1: the mapped address is unwrapped.
    CHECK(at_dual.entries[0].from == v4->local_endpoint());
    CHECK(at_dual.entries[0].from.is_v4());

    // Replying to an IPv4 endpoint from the IPv6 socket goes out v4-mapped.
    REQUIRE(dual->SendTo(AsBytes("reply"), at_dual.entries[0].from));
    REQUIRE(RunUntil(loop.get(), [&] { return at_v4.entries.size() == 1; }));
    CHECK(at_v4.entries[0].payload == "reply");
    CHECK(at_v4.entries[0].from ==
          Endpoint::Loopback(AddressFamily::kIpv4, dual->local_endpoint().port()));

    // An IPv4-only socket cannot reach an IPv6 endpoint: a counted drop, not a crash.
    CHECK_FALSE(v4->SendTo(AsBytes("x"), Endpoint::Loopback(AddressFamily::kIpv6, 9)));
    CHECK(v4->stats().drops_for(DropReason::kUnsupportedAddress) == 1);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("a batch of 100 datagrams goes out in one sendmmsg and arrives in order, batched") {
  const size_t batch_size = GENERATE(size_t{128}, size_t{1});
  INFO("batch_size " << batch_size);
  UvLoop loop;
  PacketPool pool(256, 2048);
  {
    UdpSocketOptions opts = BindTo("127.0.0.1:0");
    opts.batch_size = batch_size;
    opts.receive_buffer_bytes = 1 << 20;
    auto a = MustOpen(loop.get(), &pool, opts);
    auto b = MustOpen(loop.get(), &pool, opts);
    Recorder at_b;
    REQUIRE(b->Start(&at_b).ok());

    std::vector<std::string> payloads;
    for (int i = 0; i < 100; ++i) payloads.push_back(absl::StrFormat("datagram %03d", i));
    std::vector<SendItem> items;
    for (const std::string& p : payloads) items.push_back({AsBytes(p), b->local_endpoint()});
    CHECK(a->SendBatch(items) == 100);
    REQUIRE(RunUntil(loop.get(), [&] { return at_b.entries.size() == 100; }));
    for (size_t i = 0; i < 100; ++i) {
      CHECK(at_b.entries[i].payload == payloads[i]);
      CHECK(at_b.entries[i].from == a->local_endpoint());
    }
    CHECK(a->stats().packets_sent == 100);
    CHECK(b->stats().packets_received == 100);
    if (batch_size == 128) {
      CHECK(a->stats().send_calls == 1);
      CHECK(a->stats().largest_send_batch == 100);
      // All the same size to one destination: UDP_SEGMENT groups of up to 64 in that one call.
      CHECK(a->stats().gso_segments_sent == 100);
      // All 100 were sent before the loop ran, so reads return several at once (usually all
      // 100 in one call; a loaded machine's softirq may deliver them in a few steps).
      CHECK(b->stats().receive_calls < 100);
      CHECK(b->stats().largest_receive_batch > 1);
      CHECK(at_b.batch_sizes.size() == b->stats().receive_calls);
    } else {
      CHECK(a->stats().send_calls == 100);
      CHECK(a->stats().gso_segments_sent == 0);
      CHECK(b->stats().receive_calls == 100);
      CHECK(b->stats().largest_receive_batch == 1);
    }
  }
  CHECK(pool.available() == pool.capacity());
  CHECK(loop.Close() == 0);
}

TEST_CASE("Send() takes pool buffers, sends them with their headroom intact and returns them") {
  UvLoop loop;
  PacketPool pool(64, 2048);
  PacketPool send_pool(16, 2048);
  {
    auto a = MustOpen(loop.get(), &send_pool, BindTo("[::1]:0"));
    auto b = MustOpen(loop.get(), &pool, BindTo("[::1]:0"));
    Recorder at_b;
    REQUIRE(b->Start(&at_b).ok());
    std::vector<OutgoingPacket> out;
    for (int i = 0; i < 10; ++i) {
      PacketBuffer* buf = send_pool.Acquire();
      REQUIRE(buf != nullptr);
      const std::string body = absl::StrFormat("body %d", i);
      MutableByteSpan room = buf->Append(body.size());
      std::copy(body.begin(), body.end(), room.begin());
      // A header prepended in place, as a tunnel would.
      MutableByteSpan header = buf->Prepend(4);
      std::copy_n("HDR:", 4, header.begin());
      out.push_back({buf, b->local_endpoint()});
    }
    CHECK(a->Send(out) == 10);
    CHECK(a->send_queue_size() == 0);
    REQUIRE(RunUntil(loop.get(), [&] { return at_b.entries.size() == 10; }));
    CHECK(at_b.entries[3].payload == "HDR:body 3");
    CHECK(send_pool.available() == send_pool.capacity());  // the sent buffers went back
  }
  CHECK(pool.available() == pool.capacity());
  CHECK(loop.Close() == 0);
}

TEST_CASE("a receiver may keep buffers, and an empty pool drops datagrams with a reason") {
  UvLoop loop;
  PacketPool pool(4, 2048);
  PacketPool sender_pool(1, 64);
  {
    auto a = MustOpen(loop.get(), &sender_pool, BindTo("127.0.0.1:0"));
    auto b = MustOpen(loop.get(), &pool, BindTo("127.0.0.1:0"));
    struct Keeper final : DatagramReceiver {
      void OnDatagrams(std::span<Datagram> batch) override {
        for (Datagram& d : batch) {
          kept.push_back(d.buffer);
          d.buffer = nullptr;  // ours now
        }
      }
      std::vector<PacketBuffer*> kept;
    } keeper;
    REQUIRE(b->Start(&keeper).ok());
    std::vector<SendItem> items(10, SendItem{AsBytes("x"), b->local_endpoint()});
    REQUIRE(a->SendBatch(items) == 10);
    REQUIRE(RunUntil(loop.get(), [&] {
      return b->stats().packets_received + b->stats().drops_for(DropReason::kNoBuffer) == 10;
    }));
    CHECK(keeper.kept.size() == 4);
    CHECK(b->stats().packets_received == 4);
    CHECK(b->stats().drops_for(DropReason::kNoBuffer) == 6);
    CHECK(pool.available() == 0);

    // Once the receiver gives the buffers back, datagrams flow again.
    for (PacketBuffer* buf : keeper.kept) pool.Release(buf);
    keeper.kept.clear();
    REQUIRE(a->SendBatch(std::span(items).first(2)) == 2);
    REQUIRE(RunUntil(loop.get(), [&] { return keeper.kept.size() == 2; }));
    for (PacketBuffer* buf : keeper.kept) pool.Release(buf);
  }
  CHECK(pool.available() == pool.capacity());
  CHECK(loop.Close() == 0);
}

TEST_CASE("oversized datagrams are dropped as truncated on receive and refused on send") {
  UvLoop loop;
  PacketPool pool(8, 256);  // 160 writable bytes behind the default headroom
  {
    auto a = MustOpen(loop.get(), &pool, BindTo("127.0.0.1:0"));
    auto b = MustOpen(loop.get(), &pool, BindTo("127.0.0.1:0"));
    Recorder at_b;
    REQUIRE(b->Start(&at_b).ok());
    const std::string big(500, 'B');
    const std::string fits(160, 'f');
    std::vector<SendItem> items = {{AsBytes(big), b->local_endpoint()},
                                   {AsBytes(fits), b->local_endpoint()}};
    REQUIRE(a->SendBatch(items) == 2);
    REQUIRE(RunUntil(loop.get(), [&] { return at_b.entries.size() == 1; }));
    CHECK(at_b.entries[0].payload == fits);
    CHECK(b->stats().drops_for(DropReason::kTruncated) == 1);

    // Beyond the IPv4 maximum the kernel refuses (EMSGSIZE): counted, and the next one still goes.
    const std::string too_big(kMaxUdpPayloadV4 + 1, 'T');
    items = {{AsBytes(too_big), b->local_endpoint()}, {AsBytes("after"), b->local_endpoint()}};
    CHECK(a->SendBatch(items) == 1);
    CHECK(a->stats().drops_for(DropReason::kSendError) == 1);
    REQUIRE(RunUntil(loop.get(), [&] { return at_b.entries.size() == 2; }));
    CHECK(at_b.entries[1].payload == "after");
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("binding a port twice fails with AlreadyExists and names the address") {
  UvLoop loop;
  PacketPool pool(4, 2048);
  {
    auto first = MustOpen(loop.get(), &pool, BindTo("127.0.0.1:0"));
    const uint16_t port = first->local_endpoint().port();
    absl::StatusOr<std::unique_ptr<UdpSocket>> second =
        UdpSocket::Open(loop.get(), &pool, BindTo(absl::StrFormat("127.0.0.1:%d", port).c_str()));
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == absl::StatusCode::kAlreadyExists);
    CHECK(second.status().message() ==
          absl::StrFormat("bind 127.0.0.1:%d: address already in use (EADDRINUSE)", port));

    // A dual-stack wildcard on that port collides with the IPv4 socket too.
    absl::StatusOr<std::unique_ptr<UdpSocket>> dual =
        UdpSocket::Open(loop.get(), &pool, BindTo(absl::StrFormat(":%d", port).c_str()));
    REQUIRE_FALSE(dual.ok());
    CHECK(dual.status().message() ==
          absl::StrFormat("bind [::]:%d: address already in use (EADDRINUSE)", port));
    // IPv6-only does not.
    UdpSocketOptions v6only = BindTo(absl::StrFormat(":%d", port).c_str());
    v6only.dual_stack = false;
    auto ok = MustOpen(loop.get(), &pool, v6only);
    CHECK(ok->local_endpoint().port() == port);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("binding an address this host does not have is InvalidArgument, naming it") {
  UvLoop loop;
  PacketPool pool(4, 2048);
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
  absl::StatusOr<std::unique_ptr<UdpSocket>> s =
      UdpSocket::Open(loop.get(), &pool, BindTo("192.0.2.1:4000"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.status().message() == "bind 192.0.2.1:4000: address not available (EADDRNOTAVAIL)");
  CHECK(loop.Close() == 0);
}

// Drops CAP_NET_BIND_SERVICE from this thread only (capabilities are per thread on Linux).
bool DropBindCapabilityInThisThread() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  data[CAP_NET_BIND_SERVICE / 32].effective &= ~(1u << (CAP_NET_BIND_SERVICE % 32));
  return syscall(SYS_capset, &header, data) == 0;
}

TEST_CASE("binding a privileged port without the capability is PermissionDenied") {
  int unprivileged_start = 1024;
  std::ifstream("/proc/sys/net/ipv4/ip_unprivileged_port_start") >> unprivileged_start;
  if (unprivileged_start <= 1) {
    WARN("every port is unprivileged on this host; nothing to test");
    return;
  }
  const int port = unprivileged_start - 1;
  absl::Status status;
  // In a thread of its own, so the rest of the tests keep their capabilities.
  std::thread t([&] {
    if (!DropBindCapabilityInThisThread()) {
      status = absl::InternalError("capset failed");
      return;
    }
    UvLoop loop;
    PacketPool pool(1, 256);
    status =
        UdpSocket::Open(loop.get(), &pool, BindTo(absl::StrFormat("127.0.0.1:%d", port).c_str()))
            .status();
    if (loop.Close() != 0) status = absl::InternalError("loop did not close");
  });
  t.join();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(status.message()) ==
        absl::StrFormat("bind 127.0.0.1:%d: permission denied (EACCES)", port));
}

TEST_CASE("socket buffer sizes report what the kernel granted") {
  UvLoop loop;
  PacketPool pool(4, 2048);
  {
    UdpSocketOptions opts = BindTo("127.0.0.1:0");
    auto defaults = MustOpen(loop.get(), &pool, opts);
    CHECK(defaults->buffer_sizes().receive_requested == 0);
    CHECK(defaults->buffer_sizes().receive_granted > 0);
    CHECK(defaults->buffer_sizes().send_granted > 0);

    int rmem_max = 0;
    std::ifstream("/proc/sys/net/core/rmem_max") >> rmem_max;
    REQUIRE(rmem_max > 0);
    // Twice the cap: only SO_RCVBUFFORCE (CAP_NET_ADMIN) gets it all.
    opts.receive_buffer_bytes = std::min(rmem_max * 2, 64 << 20);
    opts.send_buffer_bytes = 64 << 10;
    auto sized = MustOpen(loop.get(), &pool, opts);
    const SocketBufferSizes& got = sized->buffer_sizes();
    CHECK(got.receive_requested == opts.receive_buffer_bytes);
    CHECK(got.send_granted >= 2 * (64 << 10));
    if (got.receive_forced) {
      CHECK(got.receive_granted >= 2 * opts.receive_buffer_bytes);
    } else {
      CHECK(got.receive_granted == 2 * rmem_max);  // capped, and the report says so
    }
    if (geteuid() == 0) CHECK(got.receive_forced);
    CHECK(ToString(got).find("receive buffer") == 0);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("Stop() inside the callback stops reading and Start() resumes") {
  UvLoop loop;
  PacketPool pool(16, 2048);
  {
    UdpSocketOptions opts = BindTo("127.0.0.1:0");
    opts.batch_size = 1;
    auto a = MustOpen(loop.get(), &pool, BindTo("127.0.0.1:0"));
    auto b = MustOpen(loop.get(), &pool, opts);
    struct StopAfterOne final : DatagramReceiver {
      void OnDatagrams(std::span<Datagram> batch) override {
        seen += batch.size();
        socket->Stop();
      }
      UdpSocket* socket = nullptr;
      size_t seen = 0;
    } receiver;
    receiver.socket = b.get();
    REQUIRE(b->Start(&receiver).ok());
    std::vector<SendItem> items(3, SendItem{AsBytes("x"), b->local_endpoint()});
    REQUIRE(a->SendBatch(items) == 3);
    REQUIRE(RunUntil(loop.get(), [&] { return receiver.seen == 1; }));
    for (int i = 0; i < 20; ++i) uv_run(loop.get(), UV_RUN_NOWAIT);
    CHECK(receiver.seen == 1);
    CHECK_FALSE(b->receiving());
    REQUIRE(b->Start(&receiver).ok());
    REQUIRE(RunUntil(loop.get(), [&] { return receiver.seen == 2; }));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("drop reasons have stable names") {
  CHECK(ToString(DropReason::kNoBuffer) == "no_buffer");
  CHECK(ToString(DropReason::kTruncated) == "truncated");
  CHECK(ToString(DropReason::kSendQueueFull) == "send_queue_full");
  CHECK(ToString(DropReason::kSocketClosed) == "socket_closed");
}

}  // namespace
}  // namespace meshvpn::udp

namespace meshvpn::udp {
namespace {

TEST_CASE(
    "UDP_SEGMENT groups same-size runs to one destination, UDP_GRO splits them back in order") {
  const bool gso = GENERATE(true, false);
  INFO("gso " << gso);
  UvLoop loop;
  PacketPool pool(512, 2048);
  {
    UdpSocketOptions opts = BindTo("127.0.0.1:0");
    opts.gso = gso;
    opts.receive_buffer_bytes = 4 << 20;
    auto a = MustOpen(loop.get(), &pool, opts);
    auto b = MustOpen(loop.get(), &pool, opts);
    auto c = MustOpen(loop.get(), &pool, opts);
    Recorder at_b, at_c;
    REQUIRE(b->Start(&at_b).ok());
    REQUIRE(c->Start(&at_c).ok());
    // 70 of 1400 bytes to b (two groups: 64 + 6), a short one that ends the second group, 5 to c,
    // then 3 of mixed sizes to b (1400, 700: a shorter last segment; 1400 starts a new group).
    std::vector<std::string> payloads;
    std::vector<SendItem> items;
    auto add = [&](size_t size, const UdpSocket& to) {
      std::string p(size, static_cast<char>('A' + payloads.size() % 26));
      p.replace(0, 4, absl::StrFormat("%04d", payloads.size()));
      payloads.push_back(std::move(p));
      items.push_back({AsBytes(payloads.back()), to.local_endpoint()});
    };
    payloads.reserve(100);
    for (int i = 0; i < 70; ++i) add(1400, *b);
    add(100, *b);
    for (int i = 0; i < 5; ++i) add(1400, *c);
    add(1400, *b);
    add(700, *b);
    add(1400, *b);
    CHECK(a->SendBatch(items) == items.size());
    REQUIRE(RunUntil(loop.get(),
                     [&] { return at_b.entries.size() == 74 && at_c.entries.size() == 5; }));
    size_t at_b_index = 0, at_c_index = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      const bool to_c = items[i].to == c->local_endpoint();
      const auto& entry = to_c ? at_c.entries[at_c_index++] : at_b.entries[at_b_index++];
      CHECK(entry.payload == payloads[i]);
    }
    CHECK(a->stats().packets_sent == 79);
    // Groups: 64, 6+1 (the 100-byte one ends it), 5 to c, 1400+700, 1400 alone.
    CHECK(a->stats().gso_segments_sent == (gso ? 64 + 7 + 5 + 2 : 0));
    // The receivers have UDP_GRO on: a super-datagram from the sender arrives as one read and is
    // split back into its datagrams (checked above, in order and intact).
    if (gso) CHECK(b->stats().gro_segments_received > 0);
    CHECK(b->stats().packets_received == 74);
    CHECK(c->stats().packets_received == 5);
  }
  CHECK(pool.available() == pool.capacity());
  CHECK(loop.Close() == 0);
}

// Records, at each batch, how full the socket said its receive queue still was.
class QueueWatcher final : public DatagramReceiver {
 public:
  explicit QueueWatcher(PacketPool* pool) : pool_(pool) {}
  void OnDatagrams(std::span<Datagram> batch) override {
    seen.push_back(socket->receive_queue());
    received += batch.size();
    for (Datagram& d : batch) {
      pool_->Release(d.buffer);
      d.buffer = nullptr;
    }
  }
  const UdpSocket* socket = nullptr;
  std::vector<ReceiveQueue> seen;
  size_t received = 0;

 private:
  PacketPool* pool_;
};

TEST_CASE("measure_receive_queue reports the backlog after each read and the kernel's drops") {
  UvLoop loop;
  PacketPool pool(256, 2048);
  {
    UdpSocketOptions send_options = BindTo("127.0.0.1:0");
    send_options.gso = false;  // one skb per datagram: the kernel drops whole datagrams
    auto a = MustOpen(loop.get(), &pool, send_options);
    UdpSocketOptions receive_options = BindTo("127.0.0.1:0");
    receive_options.gro = false;
    receive_options.receive_buffer_bytes = 64 << 10;
    receive_options.measure_receive_queue = true;
    auto b = MustOpen(loop.get(), &pool, receive_options);
    // 2000 datagrams before anyone reads: far more than 128 KiB of kernel memory holds.
    const std::string payload(100, 'x');
    std::vector<SendItem> items(100, SendItem{AsBytes(payload), b->local_endpoint()});
    size_t sent = 0;
    for (int i = 0; i < 20; ++i) sent += a->SendBatch(items);
    REQUIRE(sent == 2000);
    QueueWatcher watcher(&pool);
    watcher.socket = b.get();
    REQUIRE(b->Start(&watcher).ok());
    REQUIRE(RunUntil(loop.get(), [&] {
      return !watcher.seen.empty() && watcher.seen.back().queued_bytes == 0;
    }));
    // The first read left a backlog behind it, the last one an empty queue.
    REQUIRE(watcher.seen.size() >= 2);
    CHECK(watcher.seen.front().queued_bytes > 0);
    CHECK(watcher.seen.front().capacity_bytes == uint32_t(b->buffer_sizes().receive_granted));
    CHECK(watcher.seen.front().FullerThan(8));
    CHECK_FALSE(watcher.seen.back().FullerThan(8));
    // What did not fit was dropped by the kernel, and counted: nothing is unaccounted for.
    CHECK(b->stats().kernel_receive_drops > 0);
    CHECK(watcher.received + b->stats().kernel_receive_drops == 2000);
    CHECK(b->stats().largest_receive_queue_bytes >= watcher.seen.front().queued_bytes);
  }
  CHECK(pool.available() == pool.capacity());
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::udp
