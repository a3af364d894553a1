// Proves the per-packet paths allocate nothing: operator new is counted for the whole binary
// (common/alloc_counter.h) while packets are parsed, planned and moved through the driver.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <vector>

#include "common/alloc_counter.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/tun/ip_packet.h"
#include "meshvpn/tun/tcp_coalesce.h"
#include "meshvpn/tun/uv_tun.h"
#include "testdata.h"
#include "uv_test_util.h"

namespace meshvpn::tun {
namespace {

TEST_CASE("parsing a packet allocates nothing") {
  std::vector<Bytes> packets;
  for (const char* name :
       {"v4_icmp_echo", "v6_icmp_echo", "v4_tcp_syn", "v6_udp_dns", "v6_udp_ext_headers",
        "v6_udp_routing_header", "v4_icmp_fragment_first", "v6_icmp_fragment_last"}) {
    packets.push_back(test::LoadPacket(name));
    REQUIRE(!packets.back().empty());
  }
  size_t ok = 0;
  const uint64_t before = meshvpn::test::ProcessNewCount();
  for (int round = 0; round < 100; ++round) {
    for (const Bytes& p : packets) ok += ParseIpPacket(p).ok() ? 1 : 0;
  }
  const uint64_t allocations = meshvpn::test::ProcessNewCount() - before;
  CHECK(ok == 100 * packets.size());
  CHECK(allocations == 0);
}

// Counts packets and bytes without allocating.
class Counter final : public TunPacketHandler {
 public:
  void OnTunPackets(std::span<PacketBuffer*> batch) override {
    for (PacketBuffer* b : batch) {
      ++packets;
      bytes += b->size();
      if (ParseIpPacket(b->span()).ok()) ++parsed;
    }
  }
  size_t packets = 0;
  size_t bytes = 0;
  size_t parsed = 0;
};

TEST_CASE("reading and writing through the driver allocates nothing per packet") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
  const Bytes packet = test::LoadPacket("v4_udp_dns");
  REQUIRE(!packet.empty());
  UvLoop loop;
  {
    PacketPool pool(128, PacketBuffer::kDefaultHeadroom + 1500);
    Counter counter;
    auto driver = UvTunDriver::Create(loop.get(), fds[0], &pool, &counter);
    REQUIRE(driver.ok());
    REQUIRE((*driver)->Start().ok());
    // Warm up: the first iteration may set up libuv's internal structures (epoll registration).
    REQUIRE(::send(fds[1], packet.data(), packet.size(), 0) == ssize_t(packet.size()));
    while (counter.packets < 1) loop.Run(UV_RUN_ONCE);

    for (int i = 0; i < 200; ++i) {
      REQUIRE(::send(fds[1], packet.data(), packet.size(), 0) == ssize_t(packet.size()));
    }
    const uint64_t before = meshvpn::test::ProcessNewCount();
    while (counter.packets < 201) loop.Run(UV_RUN_ONCE);
    for (int i = 0; i < 50; ++i) (void)(*driver)->Write(packet);
    const uint64_t allocations = meshvpn::test::ProcessNewCount() - before;
    CHECK(allocations == 0);
    CHECK(counter.parsed == 201);
    CHECK((*driver)->stats().packets_written == 50);
  }
  CHECK(loop.Close() == 0);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("coalescing TUN writes allocates nothing per batch") {
  const std::vector<Bytes> originals = test::TcpSegments(128);
  std::vector<Bytes> work = originals;
  std::vector<MutableByteSpan> spans;
  for (Bytes& p : work) spans.emplace_back(p);
  TcpCoalescer coalescer;
  size_t writes = 0;
  const uint64_t before = meshvpn::test::ProcessNewCount();
  for (int round = 0; round < 100; ++round) {
    for (size_t i = 0; i < work.size(); ++i) {
      std::copy(originals[i].begin(), originals[i].end(), work[i].begin());  // heads are rewritten
    }
    writes += coalescer.Plan(spans).size();
  }
  const uint64_t allocations = meshvpn::test::ProcessNewCount() - before;
  CHECK(writes == 100 * 3);  // 47 + 47 + 34 segments: 47 x 1368 + 40 fills 65535 bytes
  CHECK(allocations == 0);
}

}  // namespace
}  // namespace meshvpn::tun
