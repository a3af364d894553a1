// A real TUN device, in a network namespace of its own: configured through TunDevice, read and
// written through UvTunDriver, packets checked with the parser. Needs root (CAP_NET_ADMIN and
// CAP_SYS_ADMIN for unshare); without it each case says SKIPPED and passes.
#include "meshvpn/tun/tun_device.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "meshvpn/base/uv_loop.h"
#include "meshvpn/tun/checksum.h"
#include "meshvpn/tun/ip_packet.h"
#include "meshvpn/tun/messages.h"
#include "meshvpn/tun/uv_tun.h"
#include "testdata.h"
#include "uv_test_util.h"

namespace meshvpn::tun {
namespace {

// Moves this thread into a fresh network namespace and back on destruction. The namespace has no
// name and no other user, so the kernel deletes it (and every device in it) once the last
// descriptor into it closes: nothing is left behind even if the test crashes.
class ScopedNetns {
 public:
  ScopedNetns() {
    original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    entered_ = original_ >= 0 && ::unshare(CLONE_NEWNET) == 0;
  }
  ~ScopedNetns() {
    if (entered_) REQUIRE(::setns(original_, CLONE_NEWNET) == 0);
    if (original_ >= 0) ::close(original_);
  }
  bool entered() const { return entered_; }

 private:
  int original_ = -1;
  bool entered_ = false;
};

#define SKIP_UNLESS_ROOT()                                                        \
  do {                                                                            \
    if (::geteuid() != 0) {                                                       \
      WARN("SKIPPED: needs root (creates a network namespace and a TUN device)"); \
      return;                                                                     \
    }                                                                             \
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) {                             \
      WARN("SKIPPED: /dev/net/tun is missing (modprobe tun)");                    \
      return;                                                                     \
    }                                                                             \
  } while (false)

// Keeps the parsed form of every packet the driver reads (the kernel sends some of its own, such
// as IPv6 router solicitations, so tests look for theirs).
class Collector final : public TunPacketHandler {
 public:
  struct Seen {
    ParseResult result;
    Bytes bytes;
  };
  void OnTunPackets(std::span<PacketBuffer*> batch) override {
    for (PacketBuffer* b : batch) {
      seen.push_back({ParseIpPacket(b->span()), Bytes(b->span().begin(), b->span().end())});
    }
  }
  void OnTunError(const absl::Status& error) override { errors.push_back(error); }
  // The first packet of `protocol` to `port` (0: any), or nullptr.
  const Seen* Find(uint8_t protocol, uint16_t port = 0) const {
    for (const Seen& s : seen) {
      const IpPacket& p = s.result.packet;
      if (s.result.ok() && p.protocol == protocol && (port == 0 || p.destination_port == port)) {
        return &s;
      }
    }
    return nullptr;
  }
  std::vector<Seen> seen;
  std::vector<absl::Status> errors;
};

TunConfig TestConfig() {
  TunConfig config;
  config.name = "mvpntest0";
  config.addresses = {*IpPrefix::Parse("10.99.0.1/24"), *IpPrefix::Parse("fd99::1/64")};
  config.mtu = 1400;
  return config;
}

int Mtu(const std::string& name) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq request{};
  std::memcpy(request.ifr_name, name.c_str(), name.size());
  const int rc = ::ioctl(fd, SIOCGIFMTU, &request);
  ::close(fd);
  return rc == 0 ? request.ifr_mtu : -1;
}

bool IsUp(const std::string& name) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq request{};
  std::memcpy(request.ifr_name, name.c_str(), name.size());
  const int rc = ::ioctl(fd, SIOCGIFFLAGS, &request);
  ::close(fd);
  return rc == 0 && (request.ifr_flags & IFF_UP) != 0;
}

// "10.99.0.1/24"-style strings for every address on `name`, as getifaddrs(3) reports them.
std::set<std::string> Addresses(const std::string& name) {
  std::set<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || name != a->ifa_name) continue;
    IpAddress address;
    IpAddress mask;
    if (a->ifa_addr->sa_family == AF_INET) {
      address = IpAddress::FromBytes(ByteSpan(
          reinterpret_cast<const uint8_t*>(&reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr),
          4));
      mask = IpAddress::FromBytes(
          ByteSpan(reinterpret_cast<const uint8_t*>(
                       &reinterpret_cast<sockaddr_in*>(a->ifa_netmask)->sin_addr),
                   4));
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      address = IpAddress::FromBytes(
          ByteSpan(reinterpret_cast<const uint8_t*>(
                       &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr),
                   16));
      mask = IpAddress::FromBytes(
          ByteSpan(reinterpret_cast<const uint8_t*>(
                       &reinterpret_cast<sockaddr_in6*>(a->ifa_netmask)->sin6_addr),
                   16));
    } else {
      continue;
    }
    int bits = 0;
    for (uint8_t byte : mask.bytes()) bits += __builtin_popcount(byte);
    out.insert(address.ToString() + "/" + std::to_string(bits));
  }
  ::freeifaddrs(list);
  return out;
}

// Sends one UDP datagram from a fresh socket; the kernel routes it into the TUN.
void SendUdp(const char* address, uint16_t port, const std::string& payload) {
  auto ip = IpAddress::Parse(address);
  REQUIRE(ip.ok());
  sockaddr_storage to{};
  socklen_t to_size;
  if (ip->is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&to);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, ip->bytes().data(), 4);
    to_size = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&to);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, ip->bytes().data(), 16);
    to_size = sizeof(sockaddr_in6);
  }
  const int fd = ::socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  const ssize_t n =
      ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), to_size);
  ::close(fd);
  REQUIRE(n == ssize_t(payload.size()));
}

TEST_CASE("a TUN device is created with its name, MTU, addresses and link up") {
  SKIP_UNLESS_ROOT();
  ScopedNetns netns;
  REQUIRE(netns.entered());
  MemoryLogSink log;
  {
    auto device = TunDevice::Create(TestConfig(), &log);
    REQUIRE(device.ok());
    CHECK(device->name() == "mvpntest0");
    CHECK(device->index() == static_cast<int>(::if_nametoindex("mvpntest0")));
    CHECK(device->fd() >= 0);
    CHECK((::fcntl(device->fd(), F_GETFL) & O_NONBLOCK) != 0);
    CHECK(Mtu("mvpntest0") == 1400);
    CHECK(IsUp("mvpntest0"));
    const std::set<std::string> addresses = Addresses("mvpntest0");
    CHECK(addresses.count("10.99.0.1/24") == 1);
    CHECK(addresses.count("fd99::1/64") == 1);
    CHECK(log.Contains("created mvpntest0"));

    CHECK(device->SetMtu(1280).ok());
    CHECK(Mtu("mvpntest0") == 1280);
    CHECK(device->SetUp(false).ok());
    CHECK_FALSE(IsUp("mvpntest0"));
  }
  // Closing the descriptor deleted the device.
  CHECK(::if_nametoindex("mvpntest0") == 0);
}

TEST_CASE("the kernel chooses a name when none is given") {
  SKIP_UNLESS_ROOT();
  ScopedNetns netns;
  REQUIRE(netns.entered());
  TunConfig config;
  config.up = false;
  auto device = TunDevice::Create(config);
  REQUIRE(device.ok());
  CHECK(device->name().rfind("tun", 0) == 0);
  TunConfig pattern;
  pattern.name = "mvpn%d";
  auto second = TunDevice::Create(pattern);
  REQUIRE(second.ok());
  CHECK(second->name() == "mvpn0");
}

TEST_CASE("setup errors name the step and the device, and leave no device behind") {
  SKIP_UNLESS_ROOT();
  ScopedNetns netns;
  REQUIRE(netns.entered());
  SECTION("an MTU below the IPv4 minimum") {
    TunConfig config = TestConfig();
    config.mtu = 60;
    auto device = TunDevice::Create(config);
    REQUIRE_FALSE(device.ok());
    CHECK(device.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(device.status().message() == "tun: set MTU 60 on mvpntest0: Invalid argument");
    CHECK(::if_nametoindex("mvpntest0") == 0);
  }
  SECTION("the same address twice") {
    TunConfig config = TestConfig();
    config.addresses.push_back(config.addresses[0]);
    auto device = TunDevice::Create(config);
    REQUIRE_FALSE(device.ok());
    CHECK(device.status().message() == "tun: add address 10.99.0.1/24 to mvpntest0: File exists");
    CHECK(::if_nametoindex("mvpntest0") == 0);
  }
  SECTION("a name that is too long") {
    TunConfig config;
    config.name = "a-very-long-tun-name";
    auto device = TunDevice::Create(config);
    REQUIRE_FALSE(device.ok());
    CHECK(device.status().message() ==
          "tun: device name \"a-very-long-tun-name\" is longer than 15 characters");
  }
  SECTION("a name the kernel refuses") {
    TunConfig config;
    config.name = "bad/name";
    auto device = TunDevice::Create(config);
    REQUIRE_FALSE(device.ok());
    CHECK(device.status().message() == "tun: create bad/name (TUNSETIFF): Invalid argument");
  }
}

TEST_CASE("UDP sent to the TUN's subnet is read back through the driver and parsed") {
  SKIP_UNLESS_ROOT();
  ScopedNetns netns;
  REQUIRE(netns.entered());
  UvLoop loop;
  {
    auto device = TunDevice::Create(TestConfig());
    REQUIRE(device.ok());
    PacketPool pool(32, PacketBuffer::kDefaultHeadroom + 1500);
    Collector collector;
    auto driver = UvTunDriver::Create(loop.get(), device->fd(), &pool, &collector);
    REQUIRE(driver.ok());
    REQUIRE((*driver)->Start().ok());

    SendUdp("10.99.0.2", 5000, "hello over IPv4");
    SendUdp("fd99::2", 5001, "hello over IPv6");
    REQUIRE(test::RunUntil(loop, [&] {
      return collector.Find(kProtoUdp, 5000) != nullptr &&
             collector.Find(kProtoUdp, 5001) != nullptr;
    }));

    const IpPacket& v4 = collector.Find(kProtoUdp, 5000)->result.packet;
    CHECK(v4.version == 4);
    CHECK(v4.source.ToString() == "10.99.0.1");
    CHECK(v4.destination.ToString() == "10.99.0.2");
    CHECK(v4.ipv4_header_checksum == ChecksumStatus::kValid);
    CHECK(v4.transport_checksum == ChecksumStatus::kValid);  // no offload: the kernel filled it
    CHECK(v4.transport_length == 8 + 15);
    const Collector::Seen& v6_seen = *collector.Find(kProtoUdp, 5001);
    const IpPacket& v6 = v6_seen.result.packet;
    CHECK(v6.version == 6);
    CHECK(v6.source.ToString() == "fd99::1");
    CHECK(v6.destination.ToString() == "fd99::2");
    CHECK(v6.transport_checksum == ChecksumStatus::kValid);
    CHECK(meshvpn::ToString(ByteSpan(v6_seen.bytes).subspan(v6.transport_offset + 8)) ==
          "hello over IPv6");
    CHECK(collector.errors.empty());
    CHECK((*driver)->stats().packets_read == collector.seen.size());
    CHECK(pool.available() == pool.capacity());
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("an echo request written into the TUN is answered by the kernel through it") {
  SKIP_UNLESS_ROOT();
  ScopedNetns netns;
  REQUIRE(netns.entered());
  UvLoop loop;
  {
    auto device = TunDevice::Create(TestConfig());
    REQUIRE(device.ok());
    PacketPool pool(32, PacketBuffer::kDefaultHeadroom + 1500);
    Collector collector;
    auto driver = UvTunDriver::Create(loop.get(), device->fd(), &pool, &collector);
    REQUIRE(driver.ok());
    REQUIRE((*driver)->Start().ok());

    // A captured echo request, readdressed from the peer 10.99.0.2 to the TUN's 10.99.0.1.
    Bytes request = test::LoadPacket("v4_icmp_echo");
    REQUIRE(request.size() == 84);
    const uint8_t from[4] = {10, 99, 0, 2};
    const uint8_t to[4] = {10, 99, 0, 1};
    std::copy(std::begin(from), std::end(from), request.begin() + 12);
    std::copy(std::begin(to), std::end(to), request.begin() + 16);
    test::FixIpv4HeaderChecksum(request);
    REQUIRE(ParseIpPacket(request).ok());
    REQUIRE((*driver)->Write(request));

    REQUIRE(test::RunUntil(loop, [&] { return collector.Find(kProtoIcmp) != nullptr; }));
    const IpPacket& reply = collector.Find(kProtoIcmp)->result.packet;
    CHECK(reply.icmp_type == icmp::kEchoReply);
    CHECK(reply.source.ToString() == "10.99.0.1");
    CHECK(reply.destination.ToString() == "10.99.0.2");
    CHECK(reply.icmp_id == 7621);
    CHECK(reply.icmp_sequence == 1);
    CHECK(reply.transport_checksum == ChecksumStatus::kValid);
    CHECK((*driver)->stats().packets_written == 1);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("a UDP datagram written into the TUN reaches a local socket") {
  SKIP_UNLESS_ROOT();
  ScopedNetns netns;
  REQUIRE(netns.entered());
  UvLoop loop;
  {
    auto device = TunDevice::Create(TestConfig());
    REQUIRE(device.ok());
    PacketPool pool(8, PacketBuffer::kDefaultHeadroom + 1500);
    Collector collector;
    auto driver = UvTunDriver::Create(loop.get(), device->fd(), &pool, &collector);
    REQUIRE(driver.ok());

    const int sock = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(sock >= 0);
    sockaddr_in6 local{};
    local.sin6_family = AF_INET6;
    local.sin6_port = htons(53);
    REQUIRE(::inet_pton(AF_INET6, "fd99::1", &local.sin6_addr) == 1);
    REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0);

    // The captured DNS query, readdressed fd99::2 -> fd99::1; the UDP checksum covers the
    // addresses, so it is updated incrementally.
    Bytes query = test::LoadPacket("v6_udp_dns");
    REQUIRE(query.size() == 77);
    uint8_t from[16], to[16];
    REQUIRE(::inet_pton(AF_INET6, "fd99::2", from) == 1);
    REQUIRE(::inet_pton(AF_INET6, "fd99::1", to) == 1);
    uint16_t checksum = test::GetBe16(query, 46);
    checksum = ChecksumUpdate(checksum, ByteSpan(query).subspan(8, 16), from);
    checksum = ChecksumUpdate(checksum, ByteSpan(query).subspan(24, 16), to);
    std::copy(std::begin(from), std::end(from), query.begin() + 8);
    std::copy(std::begin(to), std::end(to), query.begin() + 24);
    test::PutBe16(query, 46, checksum);
    REQUIRE(ParseIpPacket(query).packet.transport_checksum == ChecksumStatus::kValid);
    REQUIRE((*driver)->Write(query));

    const timeval timeout{5, 0};
    ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    uint8_t buf[512];
    const ssize_t n = ::recv(sock, buf, sizeof(buf), 0);
    ::close(sock);
    REQUIRE(n == 29);
    CHECK(Bytes(buf, buf + n) == Bytes(query.begin() + 48, query.end()));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("a packet larger than the pool's buffers is dropped as too big") {
  SKIP_UNLESS_ROOT();
  ScopedNetns netns;
  REQUIRE(netns.entered());
  UvLoop loop;
  {
    auto device = TunDevice::Create(TestConfig());
    REQUIRE(device.ok());
    // 200 bytes of packet space: a 1000-byte datagram does not fit, a small one does.
    PacketPool pool(8, PacketBuffer::kDefaultHeadroom + 200);
    Collector collector;
    auto driver = UvTunDriver::Create(loop.get(), device->fd(), &pool, &collector);
    REQUIRE(driver.ok());
    REQUIRE((*driver)->Start().ok());
    SendUdp("10.99.0.2", 6000, std::string(1000, 'x'));
    SendUdp("10.99.0.2", 6001, "small");
    REQUIRE(test::RunUntil(loop, [&] { return collector.Find(kProtoUdp, 6001) != nullptr; }));
    CHECK((*driver)->stats().dropped(TunDropReason::kTooBig) == 1);
    CHECK(collector.Find(kProtoUdp, 6000) == nullptr);
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::tun
