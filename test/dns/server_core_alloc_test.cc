// ServerCore's answers for the tailnet zone (A, AAAA, PTR, NXDOMAIN, NODATA), checked by parsing
// them, and the promise of docs/dns.md: after warm-up, answering them allocates nothing, with the
// rate limiter on (the client already in its table) and off.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/alloc_counter.h"
#include "meshvpn/dns/message.h"
#include "meshvpn/dns/records.h"
#include "meshvpn/dns/reverse.h"
#include "meshvpn/dns/server_core.h"

namespace meshvpn::dns {
namespace {

Bytes QueryBytes(const std::string& name, uint16_t type, uint16_t id) {
  Message m;
  m.id = id;
  m.flags.set_rd(true);
  m.questions.push_back({*Name::Parse(name), type, rrclass::kIn});
  return *m.Serialize();
}

std::shared_ptr<const RecordTable> Table() {
  std::vector<HostRecord> hosts = *ParseRecordsFile(
      "laptop 100.100.1.1 fd7a:115c:a1e0::1\n"
      "server 100.100.1.2\n"
      "web.prod 100.100.2.10\n");
  return *RecordTable::Build(*Name::Parse("example.com"), hosts);
}

struct Case {
  std::string name;
  uint16_t type;
  uint16_t rcode;
  size_t answers;
  Outcome outcome;
};

}  // namespace

TEST_CASE("ServerCore answers the tailnet zone without allocating", "[dns][server]") {
  const Case cases[] = {
      {"laptop.example.com", rrtype::kA, rcode::kNoError, 1, Outcome::kAnswer},
      {"LaPtOp.Example.COM", rrtype::kAaaa, rcode::kNoError, 1, Outcome::kAnswer},
      {"1.1.100.100.in-addr.arpa", rrtype::kPtr, rcode::kNoError, 1, Outcome::kReverse},
      {"nosuch.example.com", rrtype::kA, rcode::kNxDomain, 0, Outcome::kNxDomain},
      {"server.example.com", rrtype::kAaaa, rcode::kNoError, 0, Outcome::kNoData},
      {"prod.example.com", rrtype::kA, rcode::kNoError, 0, Outcome::kNoData},
  };
  for (const double qps : {0.0, 1e9}) {
    ServerCoreConfig config;
    config.domain = *Name::Parse("example.com");
    config.rate.queries_per_second = qps;
    config.rate.burst = 1e9;
    ServerCore core(config, Table());
    const udp::Endpoint client = *udp::Endpoint::Parse("100.64.0.7:4000");
    std::vector<Bytes> queries;
    for (const Case& c : cases) queries.push_back(QueryBytes(c.name, c.type, 0x1234));
    std::vector<uint8_t> out(4096);
    Query q;
    const MonoTime now{};
    // Warm-up, and the answers checked.
    for (size_t i = 0; i < std::size(cases); ++i) {
      INFO(cases[i].name << " qps " << qps);
      const Decision d = core.Handle(queries[i], client, Transport::kUdp, now, &q, out);
      REQUIRE(d.outcome == cases[i].outcome);
      absl::StatusOr<Message> m = Message::Parse(ByteSpan(out.data(), d.size));
      REQUIRE(m.ok());
      CHECK(m->id == 0x1234);
      CHECK(m->flags.qr());
      CHECK(m->flags.aa());
      CHECK(m->rcode() == cases[i].rcode);
      CHECK(m->answers.size() == cases[i].answers);
      CHECK(m->questions.at(0).name.ToString() == cases[i].name);  // 0x20 case echoed
      if (cases[i].answers == 0) {
        REQUIRE(m->authority.size() == 1);
        CHECK(m->authority[0].type == rrtype::kSoa);
      } else {
        CHECK(m->answers[0].ttl == 300);
      }
    }
    const long before = test::ThreadNewCount();
    size_t answered = 0;
    for (int round = 0; round < 100; ++round) {
      for (size_t i = 0; i < std::size(cases); ++i) {
        answered += core.Handle(queries[i], client, Transport::kUdp, now, &q, out).size > 0;
      }
    }
    CHECK(test::ThreadNewCount() == before);
    CHECK(answered == 100 * std::size(cases));
  }
}

TEST_CASE("ServerCore refuses strangers and forwards other names", "[dns][server]") {
  ServerCoreConfig config;
  config.domain = *Name::Parse("example.com");
  config.split = {{*Name::Parse("corp.internal"), 1}, {*Name::Parse("a.corp.internal"), 2}};
  config.default_upstream = 0;
  ServerCore core(config, Table());
  std::vector<uint8_t> out(4096);
  Query q;
  const udp::Endpoint local = *udp::Endpoint::Parse("127.0.0.1:4000");
  const udp::Endpoint stranger = *udp::Endpoint::Parse("192.0.2.1:4000");
  const MonoTime now{};

  Decision d = core.Handle(QueryBytes("laptop.example.com", rrtype::kA, 1), stranger,
                           Transport::kUdp, now, &q, out);
  CHECK(d.outcome == Outcome::kRefused);
  CHECK(Message::Parse(ByteSpan(out.data(), d.size))->rcode() == rcode::kRefused);
  const uint8_t garbage[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  CHECK(core.Handle(garbage, stranger, Transport::kUdp, now, &q, out).size == 0);

  CHECK(core.Handle(QueryBytes("google.com", rrtype::kA, 2), local, Transport::kUdp, now, &q, out)
            .upstream == 0);
  CHECK(core.Handle(QueryBytes("wiki.corp.internal", rrtype::kA, 3), local, Transport::kUdp, now,
                    &q, out)
            .upstream == 1);
  CHECK(core.Handle(QueryBytes("x.a.corp.internal", rrtype::kA, 4), local, Transport::kTcp, now, &q,
                    out)
            .upstream == 2);  // the longest suffix
  // Reverse names outside the tailnet ranges are someone else's.
  d = core.Handle(QueryBytes("1.2.0.192.in-addr.arpa", rrtype::kPtr, 5), local, Transport::kUdp,
                  now, &q, out);
  CHECK(d.outcome == Outcome::kForward);
  // A zone transfer of the tailnet is refused.
  d = core.Handle(QueryBytes("example.com", rrtype::kAxfr, 6), local, Transport::kTcp, now, &q,
                  out);
  CHECK(d.outcome == Outcome::kZoneRefused);
}

}  // namespace meshvpn::dns
