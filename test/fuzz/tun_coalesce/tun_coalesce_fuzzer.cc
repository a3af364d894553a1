// Fuzzes TcpCoalescer (tcp_coalesce.h) with batches of packets, and checks every plan: each packet
// in exactly one write; each TCP flow's packets in input order; TCP that cannot be placed in a
// flow (fragments, options) never overtaken nor overtaking; single writes untouched and without
// offload; at most 64 segments and 65535 bytes a write; and the round trip: each super-packet,
// assembled as the driver does and cut again by SplitTso, gives back its original segments byte for
// byte (but for the checksums, and the IPv4 ID when DF is set) with valid checksums, and its
// partial checksum completed gives a valid packet.
//
// Input: the first byte picks the mode.
//   < 0x40: raw. A packet count byte, then per packet a big-endian 16-bit length and the bytes.
//   else: streams. A flow count byte and 6 bytes per flow (version, DF, TCP options length,
//     MSS, first sequence number), then one byte per event: the high nibble what happens (full
//     segments, bursts, PSH, short or long segments, other flags, a changed ACK number, sequence
//     gap, TTL..., other traffic, fragments, a poked byte, a retransmission), the low nibble
//     which flow; some events read more bytes. Random bytes make coalescing streams this way.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <span>
#include <vector>

#include "meshvpn/tun/checksum.h"
#include "meshvpn/tun/tcp_coalesce.h"
#include "meshvpn/tun/virtio_net.h"
#include "tun/tcp_packet_checks.h"

namespace {

using meshvpn::Bytes;
using meshvpn::ByteSpan;
using meshvpn::MutableByteSpan;
using meshvpn::tun::ChecksumAccumulator;
using meshvpn::tun::CoalescedWrite;
using meshvpn::tun::OffloadError;
using meshvpn::tun::TcpCoalescer;
using meshvpn::tun::VirtioNetHeader;
using meshvpn::tun::test::ChecksumsValid;
using meshvpn::tun::test::FirstDifference;
using meshvpn::tun::test::FixChecksums;
using meshvpn::tun::test::IsV6;
using meshvpn::tun::test::kSame;
using meshvpn::tun::test::Put16;
using meshvpn::tun::test::Put32;
using meshvpn::tun::test::VectorSink;

constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kAck = 0x10;

[[noreturn]] void Fail(const char* what, size_t a, size_t b) {
  std::fprintf(stderr, "tun_coalesce: %s (%zu, %zu)\n", what, a, b);
  std::abort();
}
void Check(bool ok, const char* what, size_t a = 0, size_t b = 0) {
  if (!ok) Fail(what, a, b);
}

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t remaining() const { return size_ - pos_; }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>((U8() << 8) | U8()); }
  uint32_t U32() { return (uint32_t{U16()} << 16) | U16(); }
  ByteSpan Take(size_t n) {
    n = std::min(n, remaining());
    const ByteSpan out(data_ + pos_, n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// ---- The checks ----

// Version, addresses and ports of a TCP packet; false for anything else.
using FlowKey = std::array<uint8_t, 37>;
bool GetFlowKey(ByteSpan p, FlowKey* key) {
  key->fill(0);
  if (p.size() < 20) return false;
  if ((p[0] >> 4) == 6) {
    if (p.size() < 44 || p[6] != 6) return false;
    (*key)[0] = 6;
    std::memcpy(key->data() + 1, p.data() + 8, 32);
    std::memcpy(key->data() + 33, p.data() + 40, 4);
    return true;
  }
  const size_t ip_len = static_cast<size_t>(p[0] & 0x0f) * 4;
  if ((p[0] >> 4) != 4 || p[9] != 6 || p.size() < ip_len + 4) return false;
  (*key)[0] = 4;
  std::memcpy(key->data() + 1, p.data() + 12, 8);
  std::memcpy(key->data() + 33, p.data() + ip_len, 4);
  return true;
}

// TCP (maybe) that the coalescer cannot place in a flow: an IPv4 fragment or IPv4 with options,
// IPv6 with extension headers. No TCP packet of any flow may pass it, either way.
bool IsUnplaceableTcp(ByteSpan p) {
  if (p.size() >= 20 && (p[0] >> 4) == 4) {
    return p[9] == 6 && ((p[0] & 0x0f) != 5 || (p[6] & 0x3f) != 0 || p[7] != 0);
  }
  if (p.size() < 40 || (p[0] >> 4) != 6) return false;
  return p[6] == 0 || p[6] == 43 || p[6] == 44 || p[6] == 60;
}

TcpCoalescer& Coalescer() {
  static TcpCoalescer coalescer;  // one for all inputs, as the driver keeps one
  return coalescer;
}

void PlanAndCheck(const std::vector<Bytes>& originals) {
  TcpCoalescer& coalescer = Coalescer();
  std::vector<Bytes> packets = originals;  // Plan() rewrites heads in place
  const std::vector<MutableByteSpan> spans(packets.begin(), packets.end());
  const std::span<const CoalescedWrite> writes = coalescer.Plan(spans);
  const size_t n = originals.size();
  std::vector<uint8_t> seen(n, 0);
  std::vector<uint16_t> chain;
  std::map<FlowKey, size_t> last_of_flow;  // the index of each flow's packet planned last
  size_t position = 0;                     // of the next packet in plan order
  Check(writes.size() <= n, "more writes than packets", writes.size(), n);
  for (size_t w = 0; w < writes.size(); ++w) {
    const CoalescedWrite& write = writes[w];
    Check(write.head < n, "head out of range", w, write.head);
    Check(write.count >= 1 && write.count <= TcpCoalescer::kMaxSegments, "count", w, write.count);
    Check(write.bytes <= 65535, "bytes over 65535", w, write.bytes);
    chain.clear();
    for (uint16_t i = write.head; i != TcpCoalescer::kEnd; i = coalescer.next(i)) {
      Check(i < n, "next() out of range", w, i);
      Check(chain.size() < write.count, "chain longer than count", w, write.count);
      Check(seen[i] == 0, "packet in two writes", w, i);
      seen[i] = 1;
      chain.push_back(i);
      FlowKey key;
      if (GetFlowKey(originals[i], &key)) {
        const auto [it, first] = last_of_flow.try_emplace(key, i);
        Check(first || it->second < i, "flow reordered", it->second, i);
        it->second = i;
      }
      if (IsUnplaceableTcp(originals[i]))
        Check(position == i, "unplaceable TCP moved", i, position);
      ++position;
    }
    Check(chain.size() == write.count, "chain shorter than count", w, write.count);

    const Bytes& head = packets[write.head];
    if (write.count == 1) {
      const VirtioNetHeader& h = write.header;
      Check(h.flags == 0 && h.gso_type == 0 && h.hdr_len == 0 && h.gso_size == 0 &&
                h.csum_start == 0 && h.csum_offset == 0,
            "single write with a header", w);
      Check(write.bytes == head.size(), "single write bytes", write.bytes, head.size());
      Check(head == originals[write.head], "single write changed", w, write.head);
      continue;
    }
    Check(head.size() >= 40 && (head[0] >> 4) == (IsV6(head) ? 6 : 4), "head not IP", w);
    const bool v6 = IsV6(head);
    const size_t ip_len = v6 ? 40 : 20;
    const size_t headers = ip_len + (head[ip_len + 12] >> 4) * 4u;
    const VirtioNetHeader& h = write.header;
    Check(h.flags == VirtioNetHeader::kFlagNeedsCsum, "flags", w, h.flags);
    Check(h.gso_type == (v6 ? VirtioNetHeader::kGsoTcpV6 : VirtioNetHeader::kGsoTcpV4), "gso type",
          w, h.gso_type);
    Check(h.hdr_len == headers, "hdr_len", h.hdr_len, headers);
    Check(h.gso_size + headers == head.size(), "gso_size", h.gso_size, head.size());
    Check(h.csum_start == ip_len && h.csum_offset == 16, "checksum place", h.csum_start,
          h.csum_offset);

    Bytes assembled = head;
    for (size_t k = 1; k < chain.size(); ++k) {
      const Bytes& follower = packets[chain[k]];
      const size_t skip = coalescer.follower_skip(chain[k]);
      Check(skip == headers, "follower_skip", chain[k], skip);
      Check(skip <= follower.size(), "follower_skip past the end", chain[k], skip);
      Check(follower == originals[chain[k]], "follower changed", chain[k]);
      assembled.insert(assembled.end(), follower.begin() + static_cast<ptrdiff_t>(skip),
                       follower.end());
    }
    Check(assembled.size() == write.bytes, "assembled size", assembled.size(), write.bytes);

    Bytes completed = assembled;
    Check(meshvpn::tun::CompleteChecksum(h, completed) == OffloadError::kOk, "CompleteChecksum", w);
    Check(ChecksumsValid(completed), "super-packet checksums", w, write.head);

    VectorSink sink(TcpCoalescer::kMaxSegments);
    size_t count = 0;
    const OffloadError error = meshvpn::tun::SplitTso(h, assembled, sink, &count);
    Check(error == OffloadError::kOk, "SplitTso", w, static_cast<size_t>(error));
    Check(count == write.count, "segment count", count, write.count);
    for (size_t k = 0; k < count; ++k) {
      Check(ChecksumsValid(sink.segments[k]), "segment checksums", w, k);
      const size_t at = FirstDifference(sink.segments[k], originals[chain[k]]);
      if (at != kSame) Fail("segment differs from the original (packet, offset)", chain[k], at);
    }
  }
  for (size_t i = 0; i < n; ++i) Check(seen[i] == 1, "packet in no write", i);
}

// ---- The batch from the input ----

// The IPv4 header checksum and, for TCP, the TCP checksum.
struct Flow {
  bool v6 = false;
  uint8_t host = 1;
  uint16_t sport = 40000;
  uint32_t seq = 0;
  uint32_t ack = 0x20000000;
  uint16_t id = 1;
  bool df = true;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint32_t label = 0;
  uint16_t window = 500;
  uint32_t tsval = 1000;
  size_t options = 12;  // TCP option bytes, a multiple of 4 up to 40
  uint16_t mss = 1368;

  // An IP header (no options) of this flow's addresses for `protocol` and `rest` zero bytes.
  Bytes Ip(uint8_t protocol, size_t rest) const {
    const size_t ip_len = v6 ? 40 : 20;
    Bytes p(ip_len + rest);
    if (v6) {
      p[0] = static_cast<uint8_t>(0x60 | (tos >> 4));
      p[1] = static_cast<uint8_t>((tos << 4) | ((label >> 16) & 0x0f));
      Put16(&p[2], static_cast<uint16_t>(label));
      Put16(&p[4], static_cast<uint16_t>(rest));
      p[6] = protocol;
      p[7] = ttl;
      p[8] = 0xfd;
      p[23] = host;
      p[24] = 0xfd;
      p[39] = 0x99;
    } else {
      p[0] = 0x45;
      p[1] = tos;
      Put16(&p[2], static_cast<uint16_t>(p.size()));
      Put16(&p[4], id);
      p[6] = df ? 0x40 : 0;
      p[8] = ttl;
      p[9] = protocol;
      p[12] = 10, p[15] = host;
      p[16] = 10, p[17] = 9, p[18] = 9, p[19] = 9;
    }
    return p;
  }

  Bytes Next(size_t payload, uint8_t flags = kAck) {
    payload = std::min<size_t>(payload, 65535 - 60 - options);
    const size_t ip_len = v6 ? 40 : 20;
    const size_t tcp_len = 20 + options;
    Bytes p = Ip(6, tcp_len + payload);
    uint8_t* tcp = p.data() + ip_len;
    Put16(tcp, sport);
    Put16(tcp + 2, 443);
    Put32(tcp + 4, seq);
    Put32(tcp + 8, ack);
    tcp[12] = static_cast<uint8_t>((tcp_len / 4) << 4);
    tcp[13] = flags;
    Put16(tcp + 14, window);
    std::memset(tcp + 20, 1, options);  // NOPs
    if (options >= 12) {
      tcp[22] = 8;
      tcp[23] = 10;
      Put32(tcp + 24, tsval);
      Put32(tcp + 28, tsval ^ 0x5a5a5a5a);
    }
    for (size_t i = 0; i < payload; ++i) {
      const uint32_t at = seq + static_cast<uint32_t>(i);
      tcp[tcp_len + i] = static_cast<uint8_t>(at ^ (at >> 8) ^ host);
    }
    FixChecksums(p);
    seq += static_cast<uint32_t>(payload) + ((flags & (kSyn | kFin)) != 0 ? 1 : 0);
    ++id;
    return p;
  }
};

void RawBatch(Input& in, std::vector<Bytes>& batch) {
  const size_t count = in.U8() + 1u;
  while (batch.size() < count && in.remaining() > 0) {
    const ByteSpan bytes = in.Take(in.U16());
    batch.emplace_back(bytes.begin(), bytes.end());
  }
}

void StreamBatch(Input& in, std::vector<Bytes>& batch) {
  std::array<Flow, 16> flows;
  const size_t flow_count = 1 + in.U8() % flows.size();
  for (size_t f = 0; f < flow_count; ++f) {
    Flow& flow = flows[f];
    const uint8_t shape = in.U8();
    flow.v6 = (shape & 1) != 0;
    flow.df = (shape & 2) == 0;
    flow.options = (shape >> 2) % 11 * 4u;
    flow.host = static_cast<uint8_t>(1 + (shape >> 6));  // flows may share addresses
    flow.sport = static_cast<uint16_t>(40000 + f);
    const uint8_t mss = in.U8();
    flow.mss = static_cast<uint16_t>(mss < 128 ? 1 + mss % 64 : 256 + (mss - 128) * 10);
    flow.seq = in.U32();
  }
  auto add = [&batch](Bytes p) {
    if (batch.size() < TcpCoalescer::kMaxPackets) batch.push_back(std::move(p));
  };
  while (in.remaining() > 0 && batch.size() < TcpCoalescer::kMaxPackets) {
    const uint8_t event = in.U8();
    Flow& flow = flows[(event & 0x0f) % flow_count];
    switch (event >> 4) {
      case 0:
      case 1:
      case 2:
      case 3:
        add(flow.Next(flow.mss));
        break;
      case 4: {  // a burst of full segments
        for (size_t k = 1 + in.U8() % 64; k-- > 0;) add(flow.Next(flow.mss));
        break;
      }
      case 5:
        add(flow.Next(flow.mss, kAck | kPsh));
        break;
      case 6: {  // shorter (maybe empty), maybe PSH
        const uint8_t b = in.U8();
        add(flow.Next(b % flow.mss, (b & 0x80) != 0 ? kAck | kPsh : kAck));
        break;
      }
      case 7:
        add(flow.Next(flow.mss + 1u + in.U8()));
        break;
      case 8: {  // any flags, full or empty
        const uint8_t flags = in.U8();
        add(flow.Next((in.U8() & 1) != 0 ? flow.mss : 0, flags));
        break;
      }
      case 9: {  // the flow changes
        const uint8_t what = in.U8();
        switch (what % 11) {
          case 0:
            flow.seq += 1u + in.U8();
            break;
          case 1:
            flow.seq -= flow.mss;
            break;
          case 2:
            flow.ack += 1u + in.U8();
            break;
          case 3:
            ++flow.tsval;
            break;
          case 4:
            flow.ttl = in.U8();
            break;
          case 5:
            flow.tos = in.U8();
            break;
          case 6:
            flow.df = !flow.df;
            break;
          case 7:
            flow.id = static_cast<uint16_t>(flow.id + in.U8());
            break;
          case 8:
            flow.window = in.U16();
            break;
          case 9:
            flow.label = in.U32() & 0xfffff;
            break;
          default: {
            const uint8_t mss = in.U8();
            flow.mss = static_cast<uint16_t>(mss < 128 ? 1 + mss % 64 : 256 + (mss - 128) * 10);
            break;
          }
        }
        break;
      }
      case 10: {  // other traffic of the same hosts
        const uint8_t what = in.U8();
        Bytes p = flow.Ip((what & 1) != 0 ? 17 : (flow.v6 ? 58 : 1), 8u + what);
        if ((what & 2) != 0 && !flow.v6) p[6] |= 0x20;  // a fragment
        FixChecksums(p);
        add(std::move(p));
        break;
      }
      case 11: {  // TCP that cannot be placed in a flow
        Bytes p = flow.Next(flow.mss);
        const uint8_t what = in.U8();
        if (flow.v6) {
          if ((what & 1) != 0) {  // behind a fragment header
            p.insert(p.begin() + 40, {6, 0, 0, static_cast<uint8_t>(what >> 7), 1, 2, 3, 4});
            p[6] = 44;
          } else {  // behind a destination options header
            p.insert(p.begin() + 40, {6, 0, 1, 4, 0, 0, 0, 0});
            p[6] = 60;
          }
          Put16(&p[4], static_cast<uint16_t>(p.size() - 40));
        } else {
          switch (what % 4) {
            case 0:
              p[6] |= 0x20;  // more fragments
              break;
            case 1:
              p[7] = static_cast<uint8_t>(what | 1);  // a later fragment
              break;
            case 2:  // IP options
              p.insert(p.begin() + 20, {1, 1, 1, 0});
              p[0] = 0x46;
              Put16(&p[2], static_cast<uint16_t>(p.size()));
              break;
            default:  // truncated
              p.resize(p.size() - 1 - what % 16);
              break;
          }
          FixChecksums(p);
        }
        add(std::move(p));
        break;
      }
      case 12:
      case 13: {  // a full segment with one byte set or one bit flipped
        Bytes p = flow.Next(flow.mss);
        const size_t at = in.U16() % p.size();
        const uint8_t value = in.U8();
        if ((event >> 4) == 12) {
          p[at] = value;
        } else {
          p[at] ^= static_cast<uint8_t>(1u << (value & 7));
        }
        if ((value & 0x80) != 0) FixChecksums(p);
        add(std::move(p));
        break;
      }
      case 14:  // a copy of an earlier packet (a retransmission)
        if (!batch.empty()) add(Bytes(batch[in.U8() % batch.size()]));
        break;
      default: {  // raw bytes
        const ByteSpan bytes = in.Take(in.U8());
        add(Bytes(bytes.begin(), bytes.end()));
        break;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  std::vector<Bytes> batch;
  if (in.U8() < 0x40) {
    RawBatch(in, batch);
  } else {
    StreamBatch(in, batch);
  }
  PlanAndCheck(batch);
  return 0;
}
