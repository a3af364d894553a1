// TcpCoalescer (receive-side TCP coalescing for TUN writes): the exact plans for in-order streams,
// the limits of a super-packet, what ends or refuses a group, interleaved flows and other traffic
// in between. Every plan is also put through the round trip: each write, assembled as the driver
// does and cut again by SplitTso as the kernel's GSO would, gives back the original segments.
#include "meshvpn/tun/tcp_coalesce.h"

#include <catch2/catch.hpp>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "meshvpn/tun/checksum.h"
#include "meshvpn/tun/virtio_net.h"
#include "tun/tcp_packet_checks.h"

namespace meshvpn::tun {
namespace {

using test::ChecksumsValid;
using test::FirstDifference;
using test::FixChecksums;
using test::Get16;
using test::IpLen;
using test::IsV6;
using test::kSame;
using test::Put16;
using test::Put32;
using test::VectorSink;

constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kAck = 0x10;
constexpr uint8_t kUrg = 0x20;
constexpr uint8_t kEce = 0x40;
constexpr uint8_t kCwr = 0x80;
constexpr size_t kTcpLen = 32;  // 20 bytes and the timestamps option (NOP NOP TS)

// An IP header (no options) from 10.0.0.<host> / fd00::<host> to 10.9.9.9 / fd00::99 carrying
// `protocol`, followed by `rest` zero bytes; lengths set, checksums not.
Bytes IpPacket(bool v6, uint8_t host, uint8_t protocol, size_t rest) {
  const size_t ip_len = v6 ? 40 : 20;
  Bytes p(ip_len + rest);
  if (v6) {
    p[0] = 0x60;
    Put16(&p[4], static_cast<uint16_t>(rest));
    p[6] = protocol;
    p[7] = 64;
    p[8] = 0xfd;
    p[23] = host;
    p[24] = 0xfd;
    p[39] = 0x99;
  } else {
    p[0] = 0x45;
    Put16(&p[2], static_cast<uint16_t>(p.size()));
    p[6] = 0x40;
    p[8] = 64;
    p[9] = protocol;
    p[12] = 10, p[15] = host;
    p[16] = 10, p[17] = 9, p[18] = 9, p[19] = 9;
  }
  return p;
}

// One direction of a TCP connection; Next() makes its next segment.
struct Flow {
  bool v6 = false;
  uint8_t host = 1;  // the last byte of the source address
  uint16_t sport = 40000;
  uint16_t dport = 5201;
  uint32_t seq = 0x10000000;
  uint32_t ack = 0x20000000;
  uint16_t id = 100;  // IPv4 identification, +1 per packet
  bool df = true;
  uint8_t ttl = 64;
  uint8_t tos = 0;  // IPv4 TOS or IPv6 traffic class
  uint32_t flow_label = 0x12345;
  uint16_t window = 501;
  uint32_t tsval = 1000;
  uint32_t tsecr = 2000;

  // `payload` bytes at seq (a pattern of the sequence numbers, so a misplaced byte shows), with
  // the timestamps option and correct checksums. seq moves on (SYN and FIN count one), id by one.
  Bytes Next(size_t payload, uint8_t flags = kAck) {
    Bytes p = IpPacket(v6, host, 6, kTcpLen + payload);
    const size_t ip_len = v6 ? 40 : 20;
    if (v6) {
      p[0] = static_cast<uint8_t>(0x60 | (tos >> 4));
      p[1] = static_cast<uint8_t>((tos << 4) | ((flow_label >> 16) & 0x0f));
      Put16(&p[2], static_cast<uint16_t>(flow_label));
      p[7] = ttl;
    } else {
      p[1] = tos;
      Put16(&p[4], id);
      p[6] = df ? 0x40 : 0;
      p[8] = ttl;
    }
    uint8_t* tcp = p.data() + ip_len;
    Put16(tcp, sport);
    Put16(tcp + 2, dport);
    Put32(tcp + 4, seq);
    Put32(tcp + 8, ack);
    tcp[12] = static_cast<uint8_t>((kTcpLen / 4) << 4);
    tcp[13] = flags;
    Put16(tcp + 14, window);
    tcp[20] = 1;  // NOP
    tcp[21] = 1;  // NOP
    tcp[22] = 8;  // timestamps
    tcp[23] = 10;
    Put32(tcp + 24, tsval);
    Put32(tcp + 28, tsecr);
    for (size_t i = 0; i < payload; ++i) {
      const uint32_t at = seq + static_cast<uint32_t>(i);
      tcp[kTcpLen + i] = static_cast<uint8_t>(at ^ (at >> 8) ^ host);
    }
    FixChecksums(p);
    seq += static_cast<uint32_t>(payload) + ((flags & (kSyn | kFin)) != 0 ? 1 : 0);
    ++id;
    return p;
  }
};

Bytes Udp(bool v6, uint8_t host, size_t payload) {
  Bytes p = IpPacket(v6, host, 17, 8 + payload);
  const size_t ip_len = v6 ? 40 : 20;
  Put16(&p[ip_len], 53);
  Put16(&p[ip_len + 2], 40000);
  Put16(&p[ip_len + 4], static_cast<uint16_t>(8 + payload));
  FixChecksums(p);
  return p;
}

Bytes Icmp(bool v6, uint8_t host) {
  Bytes p = IpPacket(v6, host, v6 ? 58 : 1, 64);
  p[v6 ? 40 : 20] = v6 ? 128 : 8;  // echo request
  FixChecksums(p);
  return p;
}

// The same TCP segment with the More Fragments bit set (the first fragment of a larger one).
Bytes Ipv4FirstFragment(Bytes p) {
  p[6] |= 0x20;
  FixChecksums(p);
  return p;
}

// The same IPv4 TCP segment with four bytes of IP options (NOPs).
Bytes WithIpv4Options(const Bytes& p) {
  Bytes q(p.begin(), p.begin() + 20);
  q.insert(q.end(), {1, 1, 1, 1});
  q.insert(q.end(), p.begin() + 20, p.end());
  q[0] = 0x46;
  Put16(&q[2], static_cast<uint16_t>(q.size()));
  FixChecksums(q);
  return q;
}

// The same IPv6 TCP segment behind a fragment header (an atomic fragment).
Bytes WithIpv6FragmentHeader(const Bytes& p) {
  Bytes q(p.begin(), p.begin() + 40);
  q.insert(q.end(), {6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78});
  q.insert(q.end(), p.begin() + 40, p.end());
  q[6] = 44;
  Put16(&q[4], static_cast<uint16_t>(q.size() - 40));
  return q;
}

// Addresses and ports of a TCP packet (the flow), or nothing for other packets.
std::optional<Bytes> FlowKey(ByteSpan p) {
  if (p.size() < 20) return std::nullopt;
  if (IsV6(p)) {
    if (p.size() < 44 || p[6] != 6) return std::nullopt;
    Bytes key(p.begin() + 8, p.begin() + 40);
    key.insert(key.end(), p.begin() + 40, p.begin() + 44);
    return key;
  }
  const size_t ip_len = IpLen(p);
  if ((p[0] >> 4) != 4 || p[9] != 6 || p.size() < ip_len + 4) return std::nullopt;
  Bytes key(p.begin() + 12, p.begin() + 20);
  key.insert(key.end(), p.begin() + ip_len, p.begin() + ip_len + 4);
  return key;
}

// The packets of each write, by their index in the batch, in write and next() order.
using PlanIndices = std::vector<std::vector<size_t>>;

struct Outcome {
  PlanIndices plan;
  std::vector<CoalescedWrite> writes;
  std::vector<Bytes> packets;  // after Plan(): heads with followers rewritten
};

// Plans a copy of `originals` and checks everything a plan promises: each packet in exactly one
// write, each flow's packets in input order, single writes untouched and without offload, and
// the round trip of every super-packet (completing its checksum makes a valid packet; SplitTso
// gives back the originals with valid checksums).
Outcome PlanAndCheck(TcpCoalescer& coalescer, const std::vector<Bytes>& originals) {
  Outcome out;
  out.packets = originals;
  const std::vector<MutableByteSpan> spans(out.packets.begin(), out.packets.end());
  const std::span<const CoalescedWrite> planned = coalescer.Plan(spans);
  out.writes.assign(planned.begin(), planned.end());
  const size_t n = originals.size();
  std::vector<int> seen(n, 0);
  std::map<Bytes, size_t> last_of_flow;  // flow -> the index of its packet planned last
  for (size_t w = 0; w < out.writes.size(); ++w) {
    const CoalescedWrite& write = out.writes[w];
    INFO("write " << w << ": head " << write.head << ", count " << write.count);
    REQUIRE(write.head < n);
    REQUIRE(write.count >= 1);
    REQUIRE(write.count <= TcpCoalescer::kMaxSegments);
    CHECK(write.bytes <= 65535);
    std::vector<size_t> chain;
    for (uint16_t i = write.head; i != TcpCoalescer::kEnd; i = coalescer.next(i)) {
      REQUIRE(i < n);
      REQUIRE(chain.size() < write.count);
      REQUIRE(seen[i] == 0);
      seen[i] = 1;
      chain.push_back(i);
      if (const std::optional<Bytes> key = FlowKey(originals[i])) {
        const auto [it, first] = last_of_flow.try_emplace(*key, i);
        INFO("packet " << i << " after " << it->second << " of its flow");
        CHECK((first || it->second < i));
        it->second = i;
      }
    }
    REQUIRE(chain.size() == write.count);
    out.plan.push_back(chain);

    const Bytes& head = out.packets[write.head];
    if (write.count == 1) {
      CHECK(write.header.flags == 0);
      CHECK(write.header.gso_type == VirtioNetHeader::kGsoNone);
      CHECK(write.header.hdr_len == 0);
      CHECK(write.header.gso_size == 0);
      CHECK(write.header.csum_start == 0);
      CHECK(write.header.csum_offset == 0);
      CHECK(write.bytes == head.size());
      CHECK(head == originals[write.head]);
      continue;
    }
    const bool v6 = IsV6(head);
    const size_t ip_len = v6 ? 40 : 20;
    const size_t headers = ip_len + (head[ip_len + 12] >> 4) * 4u;
    CHECK(write.header.flags == VirtioNetHeader::kFlagNeedsCsum);
    CHECK(write.header.gso_type == (v6 ? VirtioNetHeader::kGsoTcpV6 : VirtioNetHeader::kGsoTcpV4));
    CHECK(write.header.hdr_len == headers);
    CHECK(write.header.gso_size == originals[write.head].size() - headers);
    CHECK(write.header.csum_start == ip_len);
    CHECK(write.header.csum_offset == 16);

    Bytes assembled = head;
    for (size_t k = 1; k < chain.size(); ++k) {
      const Bytes& follower = out.packets[chain[k]];
      const size_t skip = coalescer.follower_skip(static_cast<uint16_t>(chain[k]));
      CHECK(skip == headers);
      REQUIRE(skip <= follower.size());
      CHECK(follower == originals[chain[k]]);  // followers are read, not written
      assembled.insert(assembled.end(), follower.begin() + static_cast<ptrdiff_t>(skip),
                       follower.end());
    }
    CHECK(assembled.size() == write.bytes);

    // What the kernel's stack takes in: the partial checksum completed makes a valid packet.
    Bytes completed = assembled;
    REQUIRE(CompleteChecksum(write.header, completed) == OffloadError::kOk);
    CHECK(ChecksumsValid(completed));

    // What GSO makes of it again: the original segments.
    VectorSink sink;
    size_t count = 0;
    REQUIRE(SplitTso(write.header, assembled, sink, &count) == OffloadError::kOk);
    REQUIRE(count == write.count);
    for (size_t k = 0; k < count; ++k) {
      INFO("segment " << k << " (packet " << chain[k] << ")");
      CHECK(ChecksumsValid(sink.segments[k]));
      CHECK(FirstDifference(sink.segments[k], originals[chain[k]]) == kSame);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    INFO("packet " << i);
    CHECK(seen[i] == 1);
  }
  return out;
}

std::vector<size_t> Range(size_t first, size_t end, size_t step = 1) {
  std::vector<size_t> r;
  for (size_t i = first; i < end; i += step) r.push_back(i);
  return r;
}

TEST_CASE("In-order full segments of one flow become one super-packet", "[tun][coalesce]") {
  for (const bool v6 : {false, true}) {
    INFO((v6 ? "IPv6" : "IPv4"));
    Flow flow;
    flow.v6 = v6;
    std::vector<Bytes> batch;
    for (int i = 0; i < 40; ++i) batch.push_back(flow.Next(1368));
    TcpCoalescer coalescer;
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{Range(0, 40)});
    const CoalescedWrite& write = out.writes[0];
    const size_t ip_len = v6 ? 40 : 20;
    CHECK(write.header.flags == VirtioNetHeader::kFlagNeedsCsum);
    CHECK(write.header.gso_type == (v6 ? VirtioNetHeader::kGsoTcpV6 : VirtioNetHeader::kGsoTcpV4));
    CHECK(write.header.gso_size == 1368);
    CHECK(write.header.hdr_len == ip_len + kTcpLen);
    CHECK(write.header.csum_start == ip_len);
    CHECK(write.header.csum_offset == 16);
    CHECK(write.bytes == ip_len + kTcpLen + 40 * 1368);
    // The head now describes the whole super-packet.
    const Bytes& head = out.packets[0];
    if (v6) {
      CHECK(Get16(&head[4]) == write.bytes - 40);
    } else {
      CHECK(Get16(&head[2]) == write.bytes);
      CHECK(InternetChecksum(ByteSpan(head).first(20)) == 0);
    }
    CHECK(head[ip_len + 13] == kAck);
  }
}

TEST_CASE("A super-packet stays within 65535 bytes and 64 segments", "[tun][coalesce]") {
  TcpCoalescer coalescer;
  const bool v6 = GENERATE(false, true);
  INFO((v6 ? "IPv6" : "IPv4"));
  Flow flow;
  flow.v6 = v6;
  SECTION("60 segments of 1368 bytes") {
    std::vector<Bytes> batch;
    for (int i = 0; i < 60; ++i) batch.push_back(flow.Next(1368));
    const Outcome out = PlanAndCheck(coalescer, batch);
    // IPv6: 72 + 47 * 1368 = 64368 bytes; one more segment would make 65736.
    REQUIRE(out.plan == PlanIndices{Range(0, 47), Range(47, 60)});
    CHECK(out.writes[0].bytes == (v6 ? 40 : 20) + kTcpLen + 47 * 1368);
  }
  SECTION("100 segments of 100 bytes") {
    std::vector<Bytes> batch;
    for (int i = 0; i < 100; ++i) batch.push_back(flow.Next(100));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{Range(0, 64), Range(64, 100)});
  }
  SECTION("a head as large as the limit takes no follower") {
    const size_t payload = 65535 - (v6 ? 40 : 20) - kTcpLen;
    std::vector<Bytes> batch = {flow.Next(payload), flow.Next(1)};
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{{0}, {1}});
  }
  SECTION("a follower that fills the limit exactly joins, one byte more does not") {
    const size_t headers = (v6 ? 40 : 20) + kTcpLen;
    const size_t payload = (65535 - headers - 1) / 2;  // headers + 2 * payload + 1 = 65535
    std::vector<Bytes> batch = {flow.Next(payload + 1), flow.Next(payload), flow.Next(1)};
    batch.push_back(flow.Next(payload + 1));
    batch.push_back(flow.Next(payload + 1));
    const Outcome out = PlanAndCheck(coalescer, batch);
    // 1 is shorter and ends its group; 3 and 4 together would make 65536 bytes.
    REQUIRE(out.plan == PlanIndices{{0, 1}, {2}, {3}, {4}});
    CHECK(out.writes[0].bytes == 65535);
  }
}

TEST_CASE("A PSH or a shorter segment ends a group", "[tun][coalesce]") {
  TcpCoalescer coalescer;
  const bool v6 = GENERATE(false, true);
  INFO((v6 ? "IPv6" : "IPv4"));
  const size_t ip_len = v6 ? 40 : 20;
  Flow flow;
  flow.v6 = v6;
  std::vector<Bytes> batch;
  SECTION("PSH joins and ends the group, and the head carries it") {
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368, kAck | kPsh));
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{{0, 1, 2}, {3, 4}});
    CHECK(out.packets[0][ip_len + 13] == (kAck | kPsh));
    CHECK(out.packets[3][ip_len + 13] == kAck);
  }
  SECTION("a short PSH segment, as ends a write(2) on the sender") {
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(17, kAck | kPsh));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{{0, 1, 2}});
    CHECK(out.writes[0].bytes == ip_len + kTcpLen + 2 * 1368 + 17);
  }
  SECTION("a PSH segment starts no group") {
    batch.push_back(flow.Next(1368, kAck | kPsh));
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{{0}, {1, 2}});
  }
  SECTION("a shorter segment joins and ends the group") {
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(500));
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{{0, 1, 2}, {3, 4}});
    CHECK(out.writes[0].header.gso_size == 1368);
  }
  SECTION("a longer segment than the head's does not join") {
    batch.push_back(flow.Next(500));
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{{0}, {1, 2}});
  }
}

TEST_CASE("A segment that does not continue the group exactly is not joined", "[tun][coalesce]") {
  TcpCoalescer coalescer;
  const bool v6 = GENERATE(false, true);
  INFO((v6 ? "IPv6" : "IPv4"));
  Flow flow;
  flow.v6 = v6;
  std::vector<Bytes> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(flow.Next(1368));
  // Packet 3 differs; where the change lasts, 3, 4 and 5 make a group of their own.
  const PlanIndices lasting = {{0, 1, 2}, {3, 4, 5}};
  const PlanIndices once = {{0, 1, 2}, {3}, {4, 5}};
  PlanIndices expected;
  SECTION("a sequence gap") {
    flow.seq += 1368;
    expected = lasting;
  }
  SECTION("a sequence number going back (a retransmission)") {
    flow.seq -= 1368;
    expected = lasting;
  }
  SECTION("another ACK number") {
    flow.ack += 1;
    expected = lasting;
  }
  SECTION("other timestamps") {
    flow.tsval += 1;
    expected = lasting;
  }
  SECTION("another window") {
    flow.window += 1;
    expected = lasting;
  }
  SECTION("another TTL or hop limit") {
    batch.push_back(Flow(flow).Next(1368));
    batch.back()[v6 ? 7 : 8] = 63;
    FixChecksums(batch.back());
    flow.Next(1368);
    expected = once;
  }
  SECTION("another TOS or traffic class") {
    flow.tos = 0x10;
    expected = lasting;
  }
  if (v6) {
    SECTION("another flow label") {
      flow.flow_label = 0x54321;
      expected = lasting;
    }
  } else {
    SECTION("DF cleared") {
      flow.df = false;
      expected = lasting;
    }
  }
  for (const uint8_t flags : {uint8_t{kSyn | kAck}, uint8_t{kFin | kAck}, uint8_t{kRst | kAck},
                              uint8_t{kUrg | kAck}, uint8_t{kEce | kAck}, uint8_t{kCwr | kAck},
                              uint8_t{kAck | kPsh | kFin}, uint8_t{kPsh}, uint8_t{0}}) {
    DYNAMIC_SECTION("flags " << int{flags}) {
      batch.push_back(flow.Next(1368, flags));
      expected = once;
    }
  }
  SECTION("a pure ACK (no payload)") {
    batch.push_back(flow.Next(0));
    expected = once;
  }
  SECTION("a pure ACK that acknowledges more") {
    flow.ack += 5000;
    batch.push_back(flow.Next(0));
    expected = once;
  }
  SECTION("other options") {
    batch.push_back(flow.Next(1368));
    uint8_t* options = batch.back().data() + (v6 ? 40 : 20) + 20;
    options[0] = 8, options[1] = 10, options[10] = 1, options[11] = 1;  // TS NOP NOP
    FixChecksums(batch.back());
    expected = once;
  }
  SECTION("a longer TCP header") {
    Bytes p = Flow(flow).Next(1368);
    flow.Next(1368);
    const size_t at = (v6 ? 40 : 20) + kTcpLen;
    p.insert(p.begin() + static_cast<ptrdiff_t>(at), {1, 1, 1, 1});
    p[at - kTcpLen + 12] = static_cast<uint8_t>(((kTcpLen + 4) / 4) << 4);
    if (v6) {
      Put16(&p[4], static_cast<uint16_t>(p.size() - 40));
    } else {
      Put16(&p[2], static_cast<uint16_t>(p.size()));
    }
    FixChecksums(p);
    batch.push_back(p);
    expected = once;
  }
  while (batch.size() < 6) batch.push_back(flow.Next(1368));
  REQUIRE(batch.size() == 6);
  const Outcome out = PlanAndCheck(coalescer, batch);
  CHECK(out.plan == expected);
}

// A segment whose headers differ from the head's only here must stay out: the kernel's GSO would
// give it the head's bytes. The kernel's GRO does not merge the first two either (tcp_gro_receive
// compares the whole word of data offset, reserved bits, flags and window; inet_gro_receive
// flushes on any fragment bit but DF).
TEST_CASE("Header bits other segments would not get back keep a segment out", "[tun][coalesce]") {
  const bool v6 = GENERATE(false, true);
  const size_t ip_len = v6 ? 40 : 20;
  Flow flow;
  flow.v6 = v6;
  std::vector<Bytes> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(flow.Next(1368));
  Bytes& odd = batch[2];
  SECTION("the TCP reserved bits (AE, the AccECN flag)") { odd[ip_len + 12] |= 0x01; }
  SECTION("an urgent pointer without URG") { odd[ip_len + 19] = 5; }
  if (!v6) {
    SECTION("the IPv4 reserved flag") { odd[6] |= 0x80; }
  }
  FixChecksums(odd);
  TcpCoalescer coalescer;
  const Outcome out = PlanAndCheck(coalescer, batch);
  CHECK(out.plan == PlanIndices{{0, 1}, {2}, {3}});
}

TEST_CASE("Interleaved flows become one super-packet each", "[tun][coalesce]") {
  Flow a;
  Flow b;
  b.v6 = true;
  Flow c;
  c.sport = 40001;  // same addresses as a, another port
  std::vector<Bytes> batch;
  for (int i = 0; i < 10; ++i) {
    batch.push_back(a.Next(1368));
    batch.push_back(b.Next(1208));
    batch.push_back(c.Next(1368));
  }
  TcpCoalescer coalescer;
  const Outcome out = PlanAndCheck(coalescer, batch);
  REQUIRE(out.plan == PlanIndices{Range(0, 30, 3), Range(1, 30, 3), Range(2, 30, 3)});
  CHECK(out.writes[1].header.gso_type == VirtioNetHeader::kGsoTcpV6);
  CHECK(out.writes[1].header.gso_size == 1208);
}

TEST_CASE("Other traffic in between is written alone, TCP groups go on", "[tun][coalesce]") {
  Flow a;
  Flow b;
  b.v6 = true;
  b.host = 2;
  std::vector<Bytes> batch;
  batch.push_back(a.Next(1368));  // 0
  batch.push_back(b.Next(1368));  // 1
  batch.push_back(Udp(false, 1, 100));
  batch.push_back(a.Next(1368));  // 3
  batch.push_back(Icmp(true, 2));
  batch.push_back(b.Next(1368));  // 5
  batch.push_back(Icmp(false, 1));
  batch.push_back(Udp(true, 2, 1000));
  batch.push_back(a.Next(1368));       // 8
  batch.push_back(b.Next(1368));       // 9
  batch.push_back(Bytes{0x45, 0, 0});  // a runt
  batch.push_back(Bytes{});
  batch.push_back(a.Next(1368));  // 12
  TcpCoalescer coalescer;
  const Outcome out = PlanAndCheck(coalescer, batch);
  REQUIRE(out.plan == PlanIndices{{0, 3, 8, 12}, {1, 5, 9}, {2}, {4}, {6}, {7}, {10}, {11}});
}

TEST_CASE("TCP the coalescer cannot place in a flow closes every group", "[tun][coalesce]") {
  Flow a;
  Flow b;
  b.v6 = true;
  Flow c;
  c.host = 3;
  Flow d;
  d.v6 = true;
  d.host = 4;
  std::vector<Bytes> batch;
  batch.push_back(a.Next(1368));
  batch.push_back(b.Next(1368));
  batch.push_back(a.Next(1368));
  batch.push_back(b.Next(1368));
  PlanIndices expected = {{0, 2}, {1, 3}, {4}, {5, 7}, {6, 8}};
  SECTION("an IPv4 fragment of TCP (MF set)") { batch.push_back(Ipv4FirstFragment(c.Next(1368))); }
  SECTION("an IPv4 fragment of TCP of a coalesced flow") {
    batch.push_back(Ipv4FirstFragment(a.Next(1368)));
  }
  SECTION("a later IPv4 fragment of TCP (offset set)") {
    Bytes p = IpPacket(false, 3, 6, 100);
    p[6] = 0x01;  // fragment offset 256 * 8
    FixChecksums(p);
    batch.push_back(p);
  }
  SECTION("IPv4 TCP with IP options") { batch.push_back(WithIpv4Options(c.Next(1368))); }
  SECTION("IPv6 TCP behind a fragment header") {
    batch.push_back(WithIpv6FragmentHeader(d.Next(1368)));
  }
  SECTION("IPv4 TCP whose total length disagrees with the packet") {
    Bytes p = c.Next(1368);
    p.resize(p.size() - 100);
    batch.push_back(p);
  }
  SECTION("a UDP fragment closes nothing") {
    Bytes p = Udp(false, 3, 1000);
    p[6] |= 0x20;
    FixChecksums(p);
    batch.push_back(p);
    expected = {{0, 2, 5, 7}, {1, 3, 6, 8}, {4}};
  }
  batch.push_back(a.Next(1368));
  batch.push_back(b.Next(1368));
  batch.push_back(a.Next(1368));
  batch.push_back(b.Next(1368));
  TcpCoalescer coalescer;
  const Outcome out = PlanAndCheck(coalescer, batch);
  CHECK(out.plan == expected);
}

TEST_CASE("IPv4 IDs must count up unless DF is set", "[tun][coalesce]") {
  TcpCoalescer coalescer;
  Flow flow;
  std::vector<Bytes> batch;
  SECTION("without DF, a jump in the IDs ends the group") {
    flow.df = false;
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368));
    flow.id = 7;
    batch.push_back(flow.Next(1368));
    batch.push_back(flow.Next(1368));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{{0, 1}, {2, 3}});
  }
  SECTION("without DF, IDs counting up through 0xffff join") {
    flow.df = false;
    flow.id = 0xfffd;
    for (int i = 0; i < 6; ++i) batch.push_back(flow.Next(1368));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{Range(0, 6)});
  }
  SECTION("with DF, any IDs join") {
    std::mt19937 random(7);
    for (int i = 0; i < 6; ++i) {
      flow.id = static_cast<uint16_t>(random());
      batch.push_back(flow.Next(1368));
    }
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{Range(0, 6)});
  }
  SECTION("sequence numbers through 2^32 join") {
    flow.seq = 0xffffffff - 3000;
    for (int i = 0; i < 6; ++i) batch.push_back(flow.Next(1368));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan == PlanIndices{Range(0, 6)});
  }
}

TEST_CASE("More flows than the coalescer keeps open", "[tun][coalesce]") {
  TcpCoalescer coalescer;
  std::vector<Flow> flows(10);
  for (size_t f = 0; f < flows.size(); ++f) {
    flows[f].v6 = f % 2 == 1;
    flows[f].host = static_cast<uint8_t>(10 + f);
  }
  std::vector<Bytes> batch;
  SECTION("nine flows: the oldest group is closed") {
    for (size_t f = 0; f < 9; ++f) batch.push_back(flows[f].Next(1000));
    for (size_t f = 9; f-- > 0;) batch.push_back(flows[f].Next(1000));
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan ==
            PlanIndices{
                {0}, {1, 16}, {2, 15}, {3, 14}, {4, 13}, {5, 12}, {6, 11}, {7, 10}, {8, 9}, {17}});
  }
  SECTION("ten flows in turn: each group is closed before its flow comes back") {
    for (int round = 0; round < 3; ++round) {
      for (Flow& flow : flows) batch.push_back(flow.Next(1000));
    }
    const Outcome out = PlanAndCheck(coalescer, batch);
    PlanIndices expected;
    for (size_t i = 0; i < 30; ++i) expected.push_back({i});
    REQUIRE(out.plan == expected);
  }
  SECTION("eight flows in turn all coalesce") {
    for (int round = 0; round < 5; ++round) {
      for (size_t f = 0; f < 8; ++f) batch.push_back(flows[f].Next(1000));
    }
    const Outcome out = PlanAndCheck(coalescer, batch);
    PlanIndices expected;
    for (size_t f = 0; f < 8; ++f) expected.push_back(Range(f, 40, 8));
    REQUIRE(out.plan == expected);
  }
}

TEST_CASE("Empty and full batches", "[tun][coalesce]") {
  TcpCoalescer coalescer;
  SECTION("empty") {
    CHECK(coalescer.Plan({}).empty());
    const Outcome out = PlanAndCheck(coalescer, {});
    CHECK(out.writes.empty());
  }
  SECTION("256 packets of four flows") {
    std::vector<Flow> flows(4);
    for (size_t f = 0; f < flows.size(); ++f) {
      flows[f].v6 = f >= 2;
      flows[f].host = static_cast<uint8_t>(f + 1);
    }
    std::vector<Bytes> batch;
    for (int i = 0; i < 64; ++i) {
      for (Flow& flow : flows) batch.push_back(flow.Next(1000));
    }
    REQUIRE(batch.size() == TcpCoalescer::kMaxPackets);
    const Outcome out = PlanAndCheck(coalescer, batch);
    REQUIRE(out.plan ==
            PlanIndices{Range(0, 256, 4), Range(1, 256, 4), Range(2, 256, 4), Range(3, 256, 4)});
  }
  SECTION("256 packets of mixed traffic") {
    std::mt19937 random(12345);
    std::vector<Flow> flows(11);
    for (size_t f = 0; f < flows.size(); ++f) {
      flows[f].v6 = f % 3 == 0;
      flows[f].host = static_cast<uint8_t>(f + 1);
      flows[f].df = f != 4;
    }
    size_t coalesced = 0;
    for (int batch_number = 0; batch_number < 20; ++batch_number) {
      INFO("batch " << batch_number);
      std::vector<Bytes> batch;
      while (batch.size() < TcpCoalescer::kMaxPackets) {
        // Mostly bursts of one flow, as a TUN read batch of a bulk transfer looks.
        const size_t choices = random() % 4 == 0 ? flows.size() : 3;
        Flow& flow = flows[random() % choices];
        const uint32_t event = random() % 100;
        if (event < 70) {
          for (uint32_t k = random() % 8; k-- > 0 && batch.size() < 256;) {
            batch.push_back(flow.Next(1368));
          }
        } else if (event < 78) {
          const size_t payload = 1 + random() % 1368;
          const uint8_t flags = random() % 2 == 0 ? kAck : kAck | kPsh;
          batch.push_back(flow.Next(payload, flags));
        } else if (event < 84) {
          const bool v6 = random() % 2 == 0;
          batch.push_back(Udp(v6, flow.host, random() % 1400));
        } else if (event < 88) {
          flow.ack += random() % 3000;
          batch.push_back(flow.Next(0));
        } else if (event < 92) {
          flow.seq += 1368;  // a lost segment
        } else if (event < 94) {
          flow.tsval += 1;
        } else if (event < 96 && !flow.v6) {
          batch.push_back(Ipv4FirstFragment(flow.Next(1368)));
        } else {
          batch.push_back(flow.Next(1368, kAck | kPsh));
        }
      }
      const Outcome out = PlanAndCheck(coalescer, batch);
      coalesced += batch.size() - out.writes.size();
    }
    CHECK(coalesced > 3000);
  }
}

TEST_CASE("Planning keeps using the memory reserved at construction", "[tun][coalesce]") {
  // no_alloc_test.cc's allocation counter is private to that file; what Plan() could allocate is
  // the list of writes, so its storage must stay put from the smallest plan to the largest.
  TcpCoalescer coalescer;
  Flow flow;
  std::vector<Bytes> singles;
  for (size_t i = 0; i < TcpCoalescer::kMaxPackets; ++i) singles.push_back(Udp(false, 1, 10));
  std::vector<Bytes> stream;
  for (size_t i = 0; i < TcpCoalescer::kMaxPackets; ++i) stream.push_back(flow.Next(200));
  std::vector<MutableByteSpan> single_spans(singles.begin(), singles.end());
  const CoalescedWrite* storage = coalescer.Plan(std::span(single_spans).first(1)).data();
  for (int round = 0; round < 3; ++round) {
    const std::span<const CoalescedWrite> all = coalescer.Plan(single_spans);
    CHECK(all.size() == TcpCoalescer::kMaxPackets);
    CHECK(all.data() == storage);
    std::vector<Bytes> packets = stream;  // Plan() rewrites the heads
    std::vector<MutableByteSpan> stream_spans(packets.begin(), packets.end());
    const std::span<const CoalescedWrite> few = coalescer.Plan(stream_spans);
    CHECK(few.size() == 4);
    CHECK(few.data() == storage);
  }
}

}  // namespace
}  // namespace meshvpn::tun
