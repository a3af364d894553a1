// Speed of the metrics library: what an update costs on the hot path (alone and with two threads
// on one counter, beside one shared std::atomic as the single-cell design it replaces), and what
// a scrape of 1000 series costs (Collect + Expose).
//
// Run: build/bench/bench_metrics
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "meshvpn/metrics/exposition.h"
#include "meshvpn/metrics/registry.h"

namespace meshvpn::metrics {
namespace {

template <typename T>
T Must(absl::StatusOr<T> v) {
  if (!v.ok()) std::abort();
  return *std::move(v);
}

// Shared by every benchmark thread (function statics are initialised once, thread-safely).
Registry& SharedRegistry() {
  static Registry r;
  return r;
}
Counter SharedCounter() {
  static Counter c = Must(SharedRegistry().AddCounter("bench_shared_total", "h"));
  return c;
}

void BM_CounterInc(benchmark::State& state) {
  Registry r;
  Counter c = Must(r.AddCounter("bench_total", "h"));
  for (auto _ : state) c.Inc();
  benchmark::DoNotOptimize(c.value());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterInc);

// Two threads incrementing the same counter: each writes its own shard's cache line.
void BM_CounterIncContended(benchmark::State& state) {
  Counter c = SharedCounter();
  for (auto _ : state) c.Inc();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncContended)->Threads(1)->Threads(2)->UseRealTime();

// The peer: one std::atomic shared by every thread (prometheus-cpp's design, one cell per metric).
void BM_SharedAtomicInc(benchmark::State& state) {
  alignas(64) static std::atomic<uint64_t> cell{0};
  for (auto _ : state) cell.fetch_add(1, std::memory_order_relaxed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SharedAtomicInc)->Threads(1)->Threads(2)->UseRealTime();

void BM_GaugeSet(benchmark::State& state) {
  Registry r;
  Gauge g = Must(r.AddGauge("bench_gauge", "h"));
  double v = 0;
  for (auto _ : state) g.Set(v += 1);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GaugeSet);

// Prometheus' 11 default buckets; values spread over all of them.
void BM_HistogramObserve(benchmark::State& state) {
  Registry r;
  Histogram h = Must(r.AddHistogram("bench_seconds", "h", DefaultBuckets()));
  double values[64];
  for (int i = 0; i < 64; ++i) values[i] = 0.0002 * i * i;  // 0 .. 0.79 s
  size_t i = 0;
  for (auto _ : state) h.Observe(values[i++ & 63]);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve);

// 1000 series: 600 labelled counters, 300 gauges, 100 histograms (11 buckets each), then Collect
// and Expose. Arg 0: Prometheus text, 1: OpenMetrics.
void BM_Scrape(benchmark::State& state) {
  Registry r;
  CounterFamily bytes = Must(r.AddCounterFamily("bench_peer_rx_bytes_total", "h", {"peer"}));
  GaugeFamily age = Must(r.AddGaugeFamily("bench_peer_handshake_age_seconds", "h", {"peer"}));
  HistogramFamily rtt =
      Must(r.AddHistogramFamily("bench_peer_rtt_seconds", "h", {"peer"}, DefaultBuckets()));
  for (int i = 0; i < 600; ++i) {
    Must(bytes.WithLabels({"peer" + std::to_string(i)})).Add(1'000'000 + i * 7919);
  }
  for (int i = 0; i < 300; ++i) Must(age.WithLabels({"peer" + std::to_string(i)})).Set(i * 0.25);
  for (int i = 0; i < 100; ++i) {
    Histogram h = Must(rtt.WithLabels({"peer" + std::to_string(i)}));
    for (int k = 0; k < 20; ++k) h.Observe(0.001 * k * i);
  }
  const Format format = state.range(0) == 0 ? Format::kPrometheusText : Format::kOpenMetrics;
  size_t bytes_out = 0;
  for (auto _ : state) {
    const std::string body = Expose(r.Collect(), format);
    bytes_out += body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);  // series
  state.SetBytesProcessed(static_cast<int64_t>(bytes_out));
  state.counters["body_bytes"] = static_cast<double>(bytes_out) / state.iterations();
}
BENCHMARK(BM_Scrape)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace meshvpn::metrics
