// The driver's coalesced TUN writes over a socket pair standing in for the TUN descriptor: what
// one WriteBatch puts on the descriptor (one virtio-net header + one super-packet), and the
// fallback when the "kernel" refuses TSO writes (a fake writev), which must write the original
// segments one by one and stop coalescing.
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "meshvpn/base/uv_loop.h"
#include "meshvpn/tun/tcp_coalesce.h"
#include "meshvpn/tun/uv_tun.h"
#include "meshvpn/tun/virtio_net.h"
#include "testdata.h"
#include "tun/tcp_packet_checks.h"

namespace meshvpn::tun {
namespace {

class NoReads final : public TunPacketHandler {
 public:
  void OnTunPackets(std::span<PacketBuffer*>) override {}
};

// Every message the driver wrote: virtio-net header and packet.
std::vector<Bytes> Drain(int fd) {
  std::vector<Bytes> messages;
  std::vector<uint8_t> buffer(70000);
  for (;;) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    messages.emplace_back(buffer.begin(), buffer.begin() + n);
  }
  return messages;
}

// Writes `segments` through the driver's WriteBatch from pool buffers.
size_t WriteAll(UvTunDriver& driver, PacketPool& pool, const std::vector<Bytes>& segments) {
  std::vector<PacketBuffer*> buffers;
  for (const Bytes& s : segments) {
    PacketBuffer* b = pool.Acquire();
    REQUIRE(b != nullptr);
    b->Reset();
    REQUIRE(b->SetSize(s.size()));
    std::memcpy(b->data(), s.data(), s.size());
    buffers.push_back(b);
  }
  const size_t written = driver.WriteBatch(buffers);
  for (PacketBuffer* b : buffers) pool.Release(b);
  return written;
}

// Plays a kernel without TSO on writes: a write whose virtio-net header asks for GSO is EINVAL.
int g_refused = 0;
ssize_t RefuseGso(int fd, const iovec* parts, int count) {
  if (count > 0 && parts[0].iov_len == VirtioNetHeader::kSize &&
      static_cast<const uint8_t*>(parts[0].iov_base)[1] != VirtioNetHeader::kGsoNone) {
    ++g_refused;
    errno = EINVAL;
    return -1;
  }
  return ::writev(fd, parts, count);
}

struct Fixture {
  Fixture() {
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
    int size = 1 << 20;
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  ~Fixture() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int fds[2];
  UvLoop loop;
  PacketPool pool{64, 2048};
  NoReads handler;
};

TEST_CASE("WriteBatch puts one flow's segments on the descriptor as one TSO super-packet") {
  Fixture f;
  const std::vector<Bytes> segments = test::TcpSegments(10);
  {
    UvTunOptions options;
    options.vnet_header = true;
    auto driver = UvTunDriver::Create(f.loop.get(), f.fds[0], &f.pool, &f.handler, options);
    REQUIRE(driver.ok());
    CHECK(WriteAll(**driver, f.pool, segments) == 10);
    const std::vector<Bytes> messages = Drain(f.fds[1]);
    REQUIRE(messages.size() == 1);
    const Bytes& m = messages[0];
    REQUIRE(m.size() == VirtioNetHeader::kSize + 40 + 10 * 1368);
    const VirtioNetHeader h = VirtioNetHeader::Parse(
        std::span<const uint8_t, VirtioNetHeader::kSize>(m.data(), VirtioNetHeader::kSize));
    CHECK(h.gso_type == VirtioNetHeader::kGsoTcpV4);
    CHECK(h.flags == VirtioNetHeader::kFlagNeedsCsum);
    CHECK(h.gso_size == 1368);
    CHECK(h.hdr_len == 40);
    CHECK(h.csum_start == 20);
    CHECK(h.csum_offset == 16);
    CHECK(test::GetBe16(Bytes(m.begin() + VirtioNetHeader::kSize, m.end()), 2) == 40 + 10 * 1368);
    // The payload is the ten segments' payloads back to back.
    for (size_t i = 0; i < 10; ++i) {
      CHECK(std::equal(segments[i].begin() + 40, segments[i].end(),
                       m.begin() + VirtioNetHeader::kSize + 40 + i * 1368));
    }
    const TunStats& stats = (*driver)->stats();
    CHECK(stats.coalesced_writes == 1);
    CHECK(stats.coalesced_segments == 10);
    CHECK(stats.packets_written == 10);
    CHECK(stats.coalesce_fallbacks == 0);
  }
  CHECK(f.loop.Close() == 0);
}

TEST_CASE("A kernel that refuses TSO writes gets the original segments, and no more attempts") {
  Fixture f;
  g_refused = 0;
  const std::vector<Bytes> segments = test::TcpSegments(10);
  {
    UvTunOptions options;
    options.vnet_header = true;
    options.writev = &RefuseGso;
    auto driver = UvTunDriver::Create(f.loop.get(), f.fds[0], &f.pool, &f.handler, options);
    REQUIRE(driver.ok());
    CHECK(WriteAll(**driver, f.pool, segments) == 10);
    std::vector<Bytes> messages = Drain(f.fds[1]);
    REQUIRE(messages.size() == 10);
    for (size_t i = 0; i < 10; ++i) {
      const Bytes& m = messages[i];
      REQUIRE(m.size() == VirtioNetHeader::kSize + segments[i].size());
      CHECK(std::all_of(m.begin(), m.begin() + VirtioNetHeader::kSize,
                        [](uint8_t b) { return b == 0; }));
      Bytes packet(m.begin() + VirtioNetHeader::kSize, m.end());
      // SplitTso wrote full checksums and counted the IPv4 ID up from the first segment's (these
      // carry DF, where the ID means nothing: RFC 6864); everything else is the original segment.
      Bytes expected = segments[i];
      CHECK(test::GetBe16(packet, 4) == static_cast<uint16_t>(test::GetBe16(segments[0], 4) + i));
      std::copy(packet.begin() + 4, packet.begin() + 6, expected.begin() + 4);
      std::copy(packet.begin() + 10, packet.begin() + 12, expected.begin() + 10);
      std::copy(packet.begin() + 36, packet.begin() + 38, expected.begin() + 36);
      CHECK(packet == expected);
      CHECK(test::ChecksumsValid(packet));
    }
    CHECK(g_refused == 1);
    CHECK((*driver)->stats().coalesce_fallbacks == 1);
    CHECK((*driver)->stats().coalesced_writes == 0);
    CHECK((*driver)->stats().packets_written == 10);

    // Coalescing stays off: the next batch goes out packet by packet, without asking again.
    CHECK(WriteAll(**driver, f.pool, test::TcpSegments(10)) == 10);
    CHECK(Drain(f.fds[1]).size() == 10);
    CHECK(g_refused == 1);
    CHECK((*driver)->stats().total_dropped() == 0);
  }
  CHECK(f.loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::tun
