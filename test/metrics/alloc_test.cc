// Proves the update path allocates nothing: operator new is counted for the whole test_metrics
// binary (common/alloc_counter.h). Setup and scrapes may allocate; Inc/Add/Set/Observe may not,
// not even a thread's first update (its shard assignment).
#include <catch2/catch.hpp>
#include <thread>

#include "common/alloc_counter.h"
#include "meshvpn/metrics/registry.h"

namespace meshvpn::metrics {
namespace {

TEST_CASE("the counting operator new sees allocations") {
  const long before = meshvpn::test::ThreadNewCount();
  auto* volatile r = new Registry();
  delete r;
  CHECK(meshvpn::test::ThreadNewCount() - before >= 1);
}

TEST_CASE("updating counters, gauges and histograms allocates nothing") {
  Registry r;
  Counter c = *r.AddCounter("c_total", "h");
  Counter labelled = *(*r.AddCounterFamily("l_total", "h", {"reason"})).WithLabels({"x"});
  Gauge g = *r.AddGauge("g", "h");
  Histogram h = *r.AddHistogram("h_seconds", "h", ExponentialBuckets(1e-6, 2, 30));
  Counter detached;
  Histogram detached_h;

  const long before = meshvpn::test::ThreadNewCount();
  for (int i = 0; i < 100'000; ++i) {
    c.Inc();
    labelled.Add(3);
    g.Set(i);
    g.Add(0.5);
    h.Observe(i * 1e-5);
    detached.Inc();
    detached_h.Observe(1);
  }
  const long news = meshvpn::test::ThreadNewCount() - before;
  CHECK(news == 0);
  CHECK(c.value() == 100'000);
  CHECK(h.count() == 100'000);
}

TEST_CASE("a new thread's first update allocates nothing") {
  Registry r;
  Counter c = *r.AddCounter("c_total", "h");
  Histogram h = *r.AddHistogram("h", "h", {1, 2});
  long news = -1;
  std::thread([&] {
    const long before = meshvpn::test::ThreadNewCount();
    c.Inc();
    h.Observe(1.5);
    news = meshvpn::test::ThreadNewCount() - before;
  }).join();
  CHECK(news == 0);
  CHECK(c.value() == 1);
}

}  // namespace
}  // namespace meshvpn::metrics
