// Proves the per-packet paths allocate nothing: this binary replaces the global operator new and
// counts calls while packets are parsed and moved through the driver.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <vector>

#include "meshvpn/base/uv_loop.h"
#include "meshvpn/tun/ip_packet.h"
#include "meshvpn/tun/tcp_coalesce.h"
#include "meshvpn/tun/uv_tun.h"
#include "testdata.h"
#include "uv_test_util.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// Every non-aligned form is replaced, so that nothing allocated by one allocator is freed by
// another (AddressSanitizer reports that as alloc-dealloc-mismatch). Aligned forms are left alone:
// they come and go in pairs from the runtime.
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

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
  const uint64_t before = g_allocations.load();
  for (int round = 0; round < 100; ++round) {
    for (const Bytes& p : packets) ok += ParseIpPacket(p).ok() ? 1 : 0;
  }
  const uint64_t allocations = g_allocations.load() - before;
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
    const uint64_t before = g_allocations.load();
    while (counter.packets < 201) loop.Run(UV_RUN_ONCE);
    for (int i = 0; i < 50; ++i) (void)(*driver)->Write(packet);
    const uint64_t allocations = g_allocations.load() - before;
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
  const uint64_t before = g_allocations.load();
  for (int round = 0; round < 100; ++round) {
    for (size_t i = 0; i < work.size(); ++i) {
      std::copy(originals[i].begin(), originals[i].end(), work[i].begin());  // heads are rewritten
    }
    writes += coalescer.Plan(spans).size();
  }
  const uint64_t allocations = g_allocations.load() - before;
  CHECK(writes == 100 * 3);  // 47 + 47 + 34 segments: 47 x 1368 + 40 fills 65535 bytes
  CHECK(allocations == 0);
}

}  // namespace
}  // namespace meshvpn::tun
