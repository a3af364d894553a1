// The registry: names checked and reserved (with every sample name a family produces), children
// per label tuple, callbacks, collectors (their rejections and removal), default handles.
#include "meshvpn/metrics/registry.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

namespace meshvpn::metrics {
namespace {

using absl::StatusCode;

// The value of the series with these label values in family `name`, or -1.
double ValueOf(const Snapshot& s, std::string_view name, std::vector<std::string> labels = {}) {
  for (const FamilySnapshot& f : s.families) {
    if (f.name != name) continue;
    for (const Series& series : f.series) {
      if (series.label_values == labels) return series.value.real();
    }
  }
  return -1;
}

TEST_CASE("invalid metric and label names are refused with InvalidArgument") {
  Registry r;
  CHECK(r.AddCounter("rx-bytes", "h").status().code() == StatusCode::kInvalidArgument);
  CHECK(r.AddGauge("", "h").status().code() == StatusCode::kInvalidArgument);
  CHECK(r.AddGauge("a:b", "h").status().code() == StatusCode::kInvalidArgument);
  CHECK(r.AddCounterFamily("c", "h", {"__name__"}).status().code() == StatusCode::kInvalidArgument);
  CHECK(r.AddCounterFamily("c", "h", {"peer", "peer"}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(r.AddGaugeFamily("c", "h", {"a-b"}).status().code() == StatusCode::kInvalidArgument);
  CHECK(r.AddGauge("c", "\xff").status().code() == StatusCode::kInvalidArgument);
  // None of the refused ones took a name.
  CHECK(r.AddCounterFamily("c", "h", {"le"}).ok());  // "le" is only reserved in histograms
}

TEST_CASE("a name, or any sample name it produces, can be registered once") {
  Registry r;
  REQUIRE(r.AddCounter("meshvpn_x_rx_bytes_total", "h").ok());
  REQUIRE(r.AddHistogram("meshvpn_x_rtt_seconds", "h", {1}).ok());
  REQUIRE(r.AddGauge("meshvpn_x_peers", "h").ok());
  const char* taken[] = {
      "meshvpn_x_rx_bytes",           "meshvpn_x_rx_bytes_total",
      "meshvpn_x_rx_bytes_created",   "meshvpn_x_rtt_seconds",
      "meshvpn_x_rtt_seconds_bucket", "meshvpn_x_rtt_seconds_sum",
      "meshvpn_x_rtt_seconds_count",  "meshvpn_x_peers",
  };
  for (const char* name : taken) {
    INFO(name);
    CHECK(r.AddGauge(name, "h").status().code() == StatusCode::kAlreadyExists);
    CHECK(r.AddCounter(name, "h").status().code() == StatusCode::kAlreadyExists);
  }
  // A counter "meshvpn_x_peers_total" would be family meshvpn_x_peers: taken by the gauge.
  CHECK(r.AddCounter("meshvpn_x_peers_total", "h").status().code() == StatusCode::kAlreadyExists);
  // A gauge whose name a new histogram would produce.
  CHECK(r.AddHistogram("meshvpn_x", "h", {1}).ok());
  REQUIRE(r.AddGauge("meshvpn_y_count", "h").ok());
  const absl::Status clash = r.AddHistogram("meshvpn_y", "h", {1}).status();
  CHECK(clash.code() == StatusCode::kAlreadyExists);
  CHECK(clash.message() ==
        "metric meshvpn_y: the name meshvpn_y_count is already taken by gauge meshvpn_y_count");
}

TEST_CASE("a counter given with or without _total is the same family") {
  Registry r;
  auto f = r.AddCounterFamily("meshvpn_wg_rx_bytes_total", "h", {});
  REQUIRE(f.ok());
  CHECK(f->name() == "meshvpn_wg_rx_bytes");
  CHECK(r.AddCounter("meshvpn_wg_rx_bytes", "h").status().code() == StatusCode::kAlreadyExists);
}

TEST_CASE("children: one per label tuple; asking again gives the same cells") {
  Registry r;
  CounterFamily f = *r.AddCounterFamily("c", "h", {"peer", "dir"});
  Counter a = *f.WithLabels({"p1", "rx"});
  Counter b = *f.WithLabels({"p1", "tx"});
  a.Add(3);
  b.Inc();
  (*f.WithLabels({"p1", "rx"})).Add(2);
  CHECK(a.value() == 5);
  CHECK(b.value() == 1);
  const Snapshot s = r.Collect();
  CHECK(ValueOf(s, "c", {"p1", "rx"}) == 5);
  CHECK(ValueOf(s, "c", {"p1", "tx"}) == 1);

  CHECK(f.WithLabels({"p1"}).status().code() == StatusCode::kInvalidArgument);
  CHECK(f.WithLabels({"p1", "rx", "x"}).status().code() == StatusCode::kInvalidArgument);
  CHECK(f.WithLabels({"p1", "\xc3"}).status().code() == StatusCode::kInvalidArgument);
  const std::string_view values[] = {"p2", "rx"};
  CHECK(f.WithLabels(std::span<const std::string_view>(values)).ok());
  CHECK(f.WithLabels({"p1"}).status().message() == "c has 2 label(s) (peer, dir); got 1 value(s)");
}

TEST_CASE("gauges set, add and go down; children are separate") {
  Registry r;
  GaugeFamily f = *r.AddGaugeFamily("g", "h", {"q"});
  Gauge a = *f.WithLabels({"a"});
  Gauge b = *f.WithLabels({"b"});
  a.Set(10);
  a.Add(2.5);
  a.Dec();
  b.Inc();
  b.Sub(3);
  CHECK(a.value() == 11.5);
  CHECK(b.value() == -2);
  CHECK(ValueOf(r.Collect(), "g", {"a"}) == 11.5);
}

TEST_CASE("callbacks are read at every scrape, not before") {
  Registry r;
  uint64_t packets = 0;
  double queue = 0;
  int calls = 0;
  REQUIRE(r.AddCounterCallback("meshvpn_t_packets_total", "h", [&] {
             ++calls;
             return packets;
           }).ok());
  REQUIRE(r.AddGaugeCallback("meshvpn_t_queue", "h", [&] { return queue; }).ok());
  CHECK(calls == 0);
  packets = 41;
  queue = 0.5;
  Snapshot s = r.Collect();
  CHECK(calls == 1);
  CHECK(ValueOf(s, "meshvpn_t_packets") == 41);
  CHECK(s.families[0].series[0].value.is_integer());
  CHECK(ValueOf(s, "meshvpn_t_queue") == 0.5);
  packets = 42;
  CHECK(ValueOf(r.Collect(), "meshvpn_t_packets") == 42);
  CHECK(r.AddCounterCallback("x", "h", nullptr).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a labelled family mixes stored children and callbacks, one per tuple") {
  Registry r;
  uint64_t replayed = 7;
  CounterFamily drops = *r.AddCounterFamily("drops_total", "h", {"reason"});
  REQUIRE(drops.AddCallback({"replayed"}, [&] { return replayed; }).ok());
  (*drops.WithLabels({"no_route"})).Add(2);
  CHECK(drops.AddCallback({"replayed"}, [] { return 0; }).code() == StatusCode::kAlreadyExists);
  CHECK(drops.AddCallback({"no_route"}, [] { return 0; }).code() == StatusCode::kAlreadyExists);
  CHECK(drops.WithLabels({"replayed"}).status().code() == StatusCode::kAlreadyExists);
  CHECK(drops.AddCallback({"a", "b"}, [] { return 0; }).code() == StatusCode::kInvalidArgument);
  const Snapshot s = r.Collect();
  CHECK(ValueOf(s, "drops", {"no_route"}) == 2);
  CHECK(ValueOf(s, "drops", {"replayed"}) == 7);
  GaugeFamily g = *r.AddGaugeFamily("g", "h", {"k"});
  REQUIRE(g.AddCallback({"x"}, [] { return -1.5; }).ok());
  CHECK(ValueOf(r.Collect(), "g", {"x"}) == -1.5);
}

// Per-peer statistics a daemon keeps anyway, exposed by a collector.
struct PeerStats {
  uint64_t rx_bytes;
  double handshake_age;
};

class PeerCollector final : public Collector {
 public:
  explicit PeerCollector(const std::map<std::string, PeerStats>* peers) : peers_(peers) {}
  std::vector<FamilyDesc> Describe() const override {
    return {{"meshvpn_t_peer_rx_bytes_total", "h", MetricType::kCounter, {"peer"}},
            {"meshvpn_t_peer_handshake_age_seconds", "h", MetricType::kGauge, {"peer"}}};
  }
  void Collect(CollectOutput& out) override {
    ++collects;
    for (const auto& [name, p] : *peers_) {
      out.Add(0, {name}, p.rx_bytes);
      out.Add(1, {name}, p.handshake_age);
    }
  }
  int collects = 0;

 private:
  const std::map<std::string, PeerStats>* peers_;
};

TEST_CASE("a collector fills whole families for a changing set of peers") {
  Registry r;
  std::map<std::string, PeerStats> peers;
  PeerCollector collector(&peers);
  auto id = r.AddCollector(&collector);
  REQUIRE(id.ok());
  CHECK(r.Collect().families.empty());  // no peers, no series
  peers["bob"] = {100, 2.5};
  peers["alice"] = {5, 30};
  Snapshot s = r.Collect();
  REQUIRE(s.families.size() == 2);
  CHECK(s.families[0].name == "meshvpn_t_peer_handshake_age_seconds");
  CHECK(s.families[1].name == "meshvpn_t_peer_rx_bytes");  // a counter's family name
  CHECK(s.families[1].series[0].label_values == std::vector<std::string>{"alice"});
  CHECK(ValueOf(s, "meshvpn_t_peer_rx_bytes", {"bob"}) == 100);
  peers.erase("bob");
  CHECK(r.Collect().families[1].series.size() == 1);

  // Its names are reserved while it is registered, and freed when it is removed.
  CHECK(r.AddGauge("meshvpn_t_peer_rx_bytes_total", "h").status().code() ==
        StatusCode::kAlreadyExists);
  const int before = collector.collects;
  r.RemoveCollector(*id);
  r.RemoveCollector(*id);  // unknown ids are ignored
  CHECK(r.Collect().families.empty());
  CHECK(collector.collects == before);
  CHECK(r.AddGauge("meshvpn_t_peer_rx_bytes_total", "h").ok());
}

TEST_CASE("a collector's bad series are left out and counted") {
  Registry r;
  std::vector<bool> results;
  size_t rejected = 0;
  auto id = r.AddCollector(
      {{"g", "h", MetricType::kGauge, {"k"}}, {"hist", "h", MetricType::kHistogram, {}, {1, 2}}},
      [&](CollectOutput& out) {
        results.clear();
        const uint64_t buckets[] = {1, 2, 3};
        const uint64_t short_buckets[] = {1, 2};
        results.push_back(out.Add(0, {"a"}, 1.0));                     // ok
        results.push_back(out.Add(0, {"a"}, 2.0));                     // same tuple: first kept
        results.push_back(out.Add(0, {}, 1.0));                        // wrong label count
        results.push_back(out.Add(0, {"\xff"}, 1.0));                  // not UTF-8
        results.push_back(out.Add(2, {"a"}, 1.0));                     // no such family
        results.push_back(out.Add(1, {}, 1.0));                        // histogram via Add
        results.push_back(out.AddHistogram(0, {"b"}, buckets, 1));     // gauge via AddHistogram
        results.push_back(out.AddHistogram(1, {}, short_buckets, 1));  // wrong bucket count
        results.push_back(out.AddHistogram(1, {}, buckets, 4.5));      // ok
        rejected = out.rejected();
      });
  REQUIRE(id.ok());
  const Snapshot s = r.Collect();
  CHECK(results == std::vector<bool>{true, true, false, false, false, false, false, false, true});
  CHECK(rejected == 6);
  REQUIRE(s.families.size() == 2);
  REQUIRE(s.families[0].series.size() == 1);
  CHECK(s.families[0].series[0].value == Value(1.0));
  CHECK(s.families[1].series[0].histogram.cumulative == std::vector<uint64_t>{1, 3, 6});
  CHECK(s.families[1].series[0].histogram.sum == 4.5);
}

TEST_CASE("collector families are validated like any other, against each other too") {
  Registry r;
  auto noop = [](CollectOutput&) {};
  REQUIRE(r.AddGauge("used", "h").ok());
  CHECK(r.AddCollector({{"used", "h", MetricType::kGauge, {}}}, noop).status().code() ==
        StatusCode::kAlreadyExists);
  CHECK(r.AddCollector({{"a", "h", MetricType::kCounter, {}}, {"a_total", "h"}}, noop)
            .status()
            .code() == StatusCode::kAlreadyExists);
  CHECK(r.AddCollector({{"bad-name", "h"}}, noop).status().code() == StatusCode::kInvalidArgument);
  CHECK(r.AddCollector({{"g", "h", MetricType::kGauge, {}, {1}}}, noop).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(r.AddCollector({}, noop).status().code() == StatusCode::kInvalidArgument);
  CHECK(r.AddCollector({{"x", "h"}}, nullptr).status().code() == StatusCode::kInvalidArgument);
  CHECK(r.AddCollector(nullptr).status().code() == StatusCode::kInvalidArgument);
  // The refused ones reserved nothing.
  CHECK(r.AddCounter("a", "h").ok());
}

TEST_CASE("default handles write to a discard cell and never crash") {
  Counter c;
  Gauge g;
  Histogram h;
  c.Inc();
  g.Set(3);
  h.Observe(1);
  h.Observe(std::nan(""));
  SUCCEED("nothing to read back: nobody scrapes the discard cells");
}

TEST_CASE("metric types have names") {
  CHECK(ToString(MetricType::kCounter) == "counter");
  CHECK(ToString(MetricType::kGauge) == "gauge");
  CHECK(ToString(MetricType::kHistogram) == "histogram");
}

}  // namespace
}  // namespace meshvpn::metrics
