// The map builder's cost at scale, sans I/O: what one endpoint change costs through deltas and
// through full maps rebuilt for every viewer (the ratio issue 14 asks for), and what the first
// full maps of every node cost. Arguments: nodes, group size (0 = full mesh).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "meshvpn/control/map_builder.h"

namespace meshvpn::control {
namespace {

v1::Node MakeNode(uint64_t id) {
  v1::Node n;
  n.set_id(id);
  n.set_name("node-" + std::to_string(id));
  n.set_fqdn("node-" + std::to_string(id) + ".alice.mesh.internal.");
  n.set_user_id(1);
  n.set_node_key(std::string(32, static_cast<char>(id)));
  n.set_disco_key(std::string(32, static_cast<char>(id >> 8)));
  const std::string v4 = "100.64." + std::to_string(id / 256) + "." + std::to_string(id % 256);
  n.add_addresses(v4 + "/32");
  n.add_addresses("fd7a:115c:a1e0::" + std::to_string(id) + "/128");
  n.add_allowed_ips(v4 + "/32");
  n.add_allowed_ips("fd7a:115c:a1e0::" + std::to_string(id) + "/128");
  n.add_endpoints("203.0.113." + std::to_string(id % 250) + ":41641");
  n.add_endpoints("192.168.1." + std::to_string(id % 250) + ":41641");
  n.set_home_derp_region(900);
  n.set_online(true);
  n.set_key_expiry_ms(1800000000000);
  return n;
}

struct Tailnet {
  std::unique_ptr<MapPolicy> policy;
  std::unique_ptr<MapBuilder> builder;
  Tailnet(int64_t nodes, int64_t group) {
    if (group > 0) {
      policy = std::make_unique<IdBlockPolicy>(static_cast<uint64_t>(group));
    } else {
      policy = std::make_unique<AllowAllPolicy>();
    }
    builder = std::make_unique<MapBuilder>(policy.get());
    for (int64_t id = 1; id <= nodes; ++id)
      builder->UpsertNode(MakeNode(static_cast<uint64_t>(id)));
  }
  void OpenAll(int64_t nodes) {
    for (int64_t id = 1; id <= nodes; ++id) {
      benchmark::DoNotOptimize(builder->OpenSession(static_cast<uint64_t>(id)));
    }
  }
};

// Every node connects: one full map each.
void BM_FirstFullMaps(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Tailnet t(nodes, state.range(1));
    state.ResumeTiming();
    t.OpenAll(nodes);
    bytes = t.builder->stats().full_map_bytes;
  }
  state.counters["maps"] = static_cast<double>(nodes);
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["bytes_per_map"] = static_cast<double>(bytes) / static_cast<double>(nodes);
}

// One node's endpoints change; every viewer's update is taken (the delta path).
void BM_OneChangeDeltas(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  Tailnet t(nodes, state.range(1));
  t.OpenAll(nodes);
  uint64_t bytes = 0;
  uint64_t messages = 0;
  int round = 0;
  for (auto _ : state) {
    v1::PeerChange patch;
    patch.set_node_id(static_cast<uint64_t>(nodes / 2));
    patch.mutable_endpoints()->add_endpoints("198.51.100." + std::to_string(++round % 250) + ":1");
    (void)t.builder->PatchNode(patch);
    for (uint64_t id : t.builder->TakeDirtySessions()) {
      const std::string update = t.builder->TakeUpdate(id);
      bytes += update.size();
      ++messages;
    }
  }
  state.counters["bytes_per_change"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
  state.counters["messages_per_change"] =
      static_cast<double>(messages) / static_cast<double>(state.iterations());
}

// The same change through the naive path: every node that can see it gets its full map
// rebuilt from scratch.
void BM_OneChangeFullMaps(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  const int64_t group = state.range(1);
  Tailnet t(nodes, group);
  uint64_t bytes = 0;
  uint64_t messages = 0;
  const uint64_t changed = static_cast<uint64_t>(nodes / 2);
  const uint64_t first = group > 0 ? (changed - 1) / group * group + 1 : 1;
  const uint64_t last = group > 0 ? first + group - 1 : static_cast<uint64_t>(nodes);
  int round = 0;
  for (auto _ : state) {
    v1::PeerChange patch;
    patch.set_node_id(changed);
    patch.mutable_endpoints()->add_endpoints("198.51.100." + std::to_string(++round % 250) + ":1");
    (void)t.builder->PatchNode(patch);
    for (uint64_t id = first; id <= last; ++id) {
      const std::string map = t.builder->BuildFullMapFromScratch(id);
      bytes += map.size();
      ++messages;
    }
  }
  state.counters["bytes_per_change"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
  state.counters["messages_per_change"] =
      static_cast<double>(messages) / static_cast<double>(state.iterations());
}

BENCHMARK(BM_FirstFullMaps)
    ->Args({1000, 0})
    ->Args({10000, 0})
    ->Args({10000, 100})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OneChangeDeltas)
    ->Args({1000, 0})
    ->Args({10000, 0})
    ->Args({10000, 100})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_OneChangeFullMaps)
    ->Args({1000, 0})
    ->Args({10000, 0})
    ->Args({10000, 100})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace meshvpn::control
