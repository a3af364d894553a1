// The dns codec on a MagicDNS server's answer path, per query (no sockets): ParseQuery alone,
// ParseQuery + a lookup + an A answer written (with EDNS, and without: a 0x20 query), a PTR
// answer through ParseReverseName, and for comparison the allocating Message::Parse. The
// queries are dig's (test/dns/testdata/dig_captures.json).
#include <benchmark/benchmark.h>

#include <array>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "meshvpn/dns/message.h"
#include "meshvpn/dns/query.h"
#include "meshvpn/dns/response.h"
#include "meshvpn/dns/reverse.h"

namespace meshvpn::dns {
namespace {

Bytes FromHex(const std::string& hex) {
  auto b = HexDecode(hex);
  return b.ok() ? *b : Bytes{};
}

// dig web.ts.test A (EDNS 1232, a COOKIE option).
const Bytes& QueryA() {
  static const Bytes b = FromHex(
      "f06601200001000000000001037765620274730474657374000001000100002904d000000000000c000a0008"
      "a3bb8c4c5114a977");
  return b;
}
// dig +noedns WeB.Ts.TeSt AAAA.
const Bytes& QueryMixedCase() {
  static const Bytes b = FromHex("f7580120000100000000000003576542025473045465537400001c0001");
  return b;
}
// dig -x 100.64.0.5.
const Bytes& QueryPtr() {
  static const Bytes b = FromHex(
      "d74e01200001000000000001013501300236340331303007696e2d61646472046172706100000c0001000029"
      "04d000000000000c000a0008a31abee73a6c9181");
  return b;
}

// A tailnet of `n` nodes keyed by lowercase wire name, as a server would hold it.
struct Zone {
  absl::flat_hash_map<std::string, std::array<uint8_t, 4>> nodes;
  Name web;
  explicit Zone(int n) {
    for (int i = 0; i < n; ++i) {
      auto name = Name::Parse("node" + std::to_string(i) + ".ts.test");
      nodes.emplace(std::string(name->key()), std::array<uint8_t, 4>{100, 64, 1, 1});
    }
    web = *Name::Parse("web.ts.test");
    nodes.emplace(std::string(web.key()), std::array<uint8_t, 4>{100, 64, 0, 5});
  }
  const std::array<uint8_t, 4>* Find(const Name& lower) const {
    auto it = nodes.find(absl::string_view(lower.key().data(), lower.key().size()));
    return it == nodes.end() ? nullptr : &it->second;
  }
};

void BM_ParseQuery(benchmark::State& state) {
  Query q;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseQuery(QueryA(), &q));
    benchmark::DoNotOptimize(q.lower.data());
  }
}
BENCHMARK(BM_ParseQuery);

void AnswerA(benchmark::State& state, const Bytes& query) {
  const Zone zone(1000);
  Query q;
  std::array<uint8_t, 1232> buf;
  size_t bytes = 0;
  for (auto _ : state) {
    if (ParseQuery(query, &q) != ParseError::kOk) state.SkipWithError("query rejected");
    MessageWriter w(buf);
    BeginResponse(q, {}, &w);
    if (const auto* a = zone.Find(q.lower)) w.AddA(Section::kAnswer, q.name.wire(), 600, *a);
    const ByteSpan out = w.Finish();
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["response_bytes"] = static_cast<double>(bytes) / state.iterations();
}

// The whole authoritative answer: parse, look up among 1000 names, write header + question +
// answer + OPT.
void BM_AnswerA(benchmark::State& state) { AnswerA(state, QueryA()); }
BENCHMARK(BM_AnswerA);

// The same for a mixed-case query without EDNS (the lookup key is the lowercase copy; the
// AAAA question finds no A, so the answer is NODATA: header + question).
void BM_AnswerMixedCaseNoEdns(benchmark::State& state) { AnswerA(state, QueryMixedCase()); }
BENCHMARK(BM_AnswerMixedCaseNoEdns);

void BM_AnswerPtr(benchmark::State& state) {
  const Zone zone(1);
  Query q;
  std::array<uint8_t, 1232> buf;
  for (auto _ : state) {
    ParseQuery(QueryPtr(), &q);
    ReverseAddress r;
    MessageWriter w(buf);
    BeginResponse(q, {}, &w);
    if (ParseReverseName(q.lower.wire(), &r) == ReverseParse::kOk && r.full()) {
      w.AddNameRecord(Section::kAnswer, q.name.wire(), rrtype::kPtr, 600, zone.web.wire());
    }
    benchmark::DoNotOptimize(w.Finish().data());
  }
}
BENCHMARK(BM_AnswerPtr);

// The allocating path (forwarder, tools) on the same query, and parse + serialize.
void BM_MessageParse(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Message::Parse(QueryA()));
}
BENCHMARK(BM_MessageParse);

void BM_MessageRoundTrip(benchmark::State& state) {
  for (auto _ : state) {
    auto m = Message::Parse(QueryA());
    benchmark::DoNotOptimize(m->Serialize());
  }
}
BENCHMARK(BM_MessageRoundTrip);

}  // namespace
}  // namespace meshvpn::dns
