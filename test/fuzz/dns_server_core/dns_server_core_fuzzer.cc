// Fuzz target for the MagicDNS server core: records file parsing, ServerCore::Handle and the
// Forwarder on arbitrary bytes. Input: records text, a 0x00 byte, a control byte (source,
// transport, rate limiting), the query, and optionally 0x00 0x00 0xff then an upstream answer.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "meshvpn/dns/edns.h"
#include "meshvpn/dns/forwarder.h"
#include "meshvpn/dns/message.h"
#include "meshvpn/dns/records.h"
#include "meshvpn/dns/server_core.h"

namespace {

using namespace meshvpn::dns;
using meshvpn::ByteSpan;
using meshvpn::MonoTime;
using meshvpn::MutableByteSpan;

void Check(bool condition) {
  if (!condition) std::abort();
}

// A response must parse, have QR set and the query's ID.
void CheckResponse(ByteSpan wire, const Query& q, size_t limit) {
  Check(wire.size() <= limit);
  absl::StatusOr<Message> m = Message::Parse(wire);
  Check(m.ok());
  Check(m->flags.qr());
  Check(m->id == q.header.id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  if (split == std::string_view::npos || split + 2 > size) return 0;
  absl::StatusOr<std::vector<HostRecord>> hosts = ParseRecordsFile(input.substr(0, split));
  std::vector<HostRecord> records;
  if (hosts.ok()) records = *hosts;
  absl::StatusOr<std::shared_ptr<const RecordTable>> table =
      RecordTable::Build(*Name::Parse("example.com"), records);
  if (!table.ok()) table = RecordTable::Build(*Name::Parse("example.com"), {});
  Check(table.ok());

  const uint8_t control = data[split + 1];
  ByteSpan rest(data + split + 2, size - split - 2);
  ByteSpan query = rest;
  ByteSpan answer;
  for (size_t i = 0; i + 3 <= rest.size(); ++i) {
    if (rest[i] == 0 && rest[i + 1] == 0 && rest[i + 2] == 0xff) {
      query = rest.subspan(0, i);
      answer = rest.subspan(i + 3);
      break;
    }
  }

  ServerCoreConfig config;
  config.domain = *Name::Parse("example.com");
  config.split = {{*Name::Parse("corp.internal"), 1}};
  config.default_upstream = (control & 0x10) ? -1 : 0;
  config.rate.queries_per_second = (control & 0x20) ? 0 : 1;
  config.rate.burst = 1;
  ServerCore core(config, *table);
  ForwarderConfig fc;
  fc.max_in_flight = 2;
  Forwarder forwarder(fc);

  static const meshvpn::udp::Endpoint kSources[] = {
      *meshvpn::udp::Endpoint::Parse("127.0.0.1:5000"),
      *meshvpn::udp::Endpoint::Parse("100.64.0.9:5000"),
      *meshvpn::udp::Endpoint::Parse("[fd7a:115c:a1e0::9]:5000"),
      *meshvpn::udp::Endpoint::Parse("192.0.2.1:53")};
  const meshvpn::udp::Endpoint& from = kSources[control & 3];
  const Transport transport = (control & 4) ? Transport::kTcp : Transport::kUdp;
  MonoTime now{};
  std::vector<uint8_t> out(kMaxMessageSize);
  Query q;
  // Twice: the second may be rate limited.
  for (int round = 0; round < 2; ++round) {
    const Decision d = core.Handle(query, from, transport, now, &q, out);
    const size_t limit =
        transport == Transport::kTcp
            ? kMaxMessageSize
            : ResponseUdpSize(q.has_edns, q.edns.udp_payload_size, config.max_udp_size);
    if (d.size > 0) CheckResponse(ByteSpan(out.data(), d.size), q, limit);
    if (d.outcome != Outcome::kForward) continue;
    Check(d.upstream == 0 || d.upstream == 1);
    UpstreamSend send;
    size_t servfail = 0;
    const ClientRef client{transport, from, 7};
    if (!forwarder.Begin(q, query, client, d.upstream, now, &send, out, &servfail)) {
      if (servfail > 0) CheckResponse(ByteSpan(out.data(), servfail), q, limit);
      continue;
    }
    Check(forwarder.in_flight() <= fc.max_in_flight);
    // The upstream answers with the input's bytes under our ID (when there are enough).
    std::vector<uint8_t> reply(answer.begin(), answer.end());
    if (reply.size() >= 2) {
      reply[0] = send.message[0];
      reply[1] = send.message[1];
    }
    ClientDelivery delivery;
    UpstreamSend retry;
    const AnswerAction a =
        forwarder.OnAnswer(send.upstream, Transport::kUdp, reply, now, out, &delivery, &retry);
    if (a == AnswerAction::kDeliver) {
      Check(delivery.size <= limit);
      Check(delivery.size >= 2 && (out[0] << 8 | out[1]) == q.header.id);
    } else if (a == AnswerAction::kRetryTcp) {
      forwarder.OnAnswer(send.upstream, Transport::kTcp, reply, now, out, &delivery, &retry);
    }
    now += std::chrono::seconds(10);
    forwarder.Expire(
        now, out, [](const UpstreamSend&) {},
        [&](const ClientDelivery& dl, ByteSpan wire) {
          Check(dl.servfail);
          CheckResponse(wire, q, limit);
        });
    now += std::chrono::seconds(10);
    forwarder.Expire(
        now, out, [](const UpstreamSend&) {},
        [&](const ClientDelivery&, ByteSpan wire) { CheckResponse(wire, q, limit); });
    Check(forwarder.in_flight() == 0);
  }
  return 0;
}
