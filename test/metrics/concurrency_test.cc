// Several threads update the same counters, gauges and histograms while another scrapes: every
// scrape is consistent (counts never go back, _count equals the +Inf bucket, buckets ascend) and
// the totals are exact at the end. Built with -fsanitize=thread it also checks for data races.
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "meshvpn/metrics/cells.h"
#include "meshvpn/metrics/exposition.h"
#include "meshvpn/metrics/registry.h"

namespace meshvpn::metrics {
namespace {

constexpr int kThreads = 4;
constexpr uint64_t kIterations = 100'000;

const Series& OnlySeries(const Snapshot& s, std::string_view name) {
  for (const FamilySnapshot& f : s.families) {
    if (f.name == name) return f.series.at(0);
  }
  FAIL("no family " << name);
  std::abort();
}

TEST_CASE("threads updating while a scraper reads: consistent scrapes, exact totals") {
  Registry r;
  Counter shared = *r.AddCounter("shared_total", "h");
  CounterFamily per_thread = *r.AddCounterFamily("per_thread_total", "h", {"thread"});
  Gauge up_down = *r.AddGauge("up_down", "h");
  Gauge up = *r.AddGauge("up", "h");
  Histogram hist = *r.AddHistogram("hist", "h", {0, 1, 2});
  std::atomic<uint64_t> callback_source{0};
  REQUIRE(r.AddCounterCallback("callback_total", "h", [&] {
             return callback_source.load(std::memory_order_relaxed);
           }).ok());

  std::vector<Counter> mine;
  for (int t = 0; t < kThreads; ++t) mine.push_back(*per_thread.WithLabels({std::to_string(t)}));

  std::atomic<bool> done{false};
  int scrapes = 0;
  bool consistent = true;
  std::thread scraper([&] {
    uint64_t last_shared = 0;
    uint64_t last_count = 0;
    while (!done.load(std::memory_order_acquire) || scrapes < 3) {
      const Snapshot s = r.Collect();
      const uint64_t now = OnlySeries(s, "shared").value.integer();
      const HistogramPoint& h = OnlySeries(s, "hist").histogram;
      if (now < last_shared || h.count() < last_count) consistent = false;
      for (size_t i = 1; i < h.cumulative.size(); ++i) {
        if (h.cumulative[i] < h.cumulative[i - 1]) consistent = false;
      }
      last_shared = now;
      last_count = h.count();
      // Both formats from the same snapshot, as a /metrics handler would.
      if (Expose(s, Format::kOpenMetrics).empty()) consistent = false;
      ++scrapes;
    }
  });

  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0; i < kIterations; ++i) {
        shared.Inc();
        mine[t].Add(2);
        up_down.Inc();
        up.Add(1);
        up_down.Dec();
        hist.Observe(static_cast<double>(i % 4));  // 0, 1, 2, 3: one per bucket
        callback_source.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  done.store(true, std::memory_order_release);
  scraper.join();

  CHECK(consistent);
  CHECK(scrapes >= 3);
  const Snapshot s = r.Collect();
  const uint64_t total = kThreads * kIterations;
  CHECK(OnlySeries(s, "shared").value.integer() == total);
  CHECK(OnlySeries(s, "callback").value.integer() == total);
  CHECK(OnlySeries(s, "up_down").value.real() == 0);
  CHECK(OnlySeries(s, "up").value.real() == static_cast<double>(total));
  for (const FamilySnapshot& f : s.families) {
    if (f.name != "per_thread") continue;
    REQUIRE(f.series.size() == kThreads);
    for (const Series& series : f.series) CHECK(series.value.integer() == 2 * kIterations);
  }
  const HistogramPoint& h = OnlySeries(s, "hist").histogram;
  CHECK(h.cumulative ==
        std::vector<uint64_t>{total / 4, total / 2, total / 4 * 3, total});  // le 0, 1, 2, +Inf
  CHECK(h.sum == static_cast<double>(kThreads * (kIterations / 4) * (0 + 1 + 2 + 3)));
}

TEST_CASE("registration from several threads at once, while scraping") {
  Registry r;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load(std::memory_order_acquire)) (void)r.Collect();
  });
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        // Every thread tries the same names: exactly one wins each.
        if (r.AddCounter("c" + std::to_string(i), "h").ok()) created.fetch_add(1);
        CounterFamily f = *r.AddCounterFamily("f" + std::to_string(t * 100 + i), "h", {"k"});
        (*f.WithLabels({"v"})).Inc();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  done.store(true, std::memory_order_release);
  scraper.join();
  CHECK(created.load() == 50);
  CHECK(r.Collect().families.size() == 50 + 4 * 50);
}

TEST_CASE("live threads get different shards, also after many threads came and went") {
  // Short-lived threads give their shard back when they exit.
  for (int i = 0; i < 100; ++i) std::thread([] { (void)internal::RowOffset(); }).join();
  const size_t main_row = internal::RowOffset();
  std::mutex mu;
  std::condition_variable cv;
  std::set<size_t> rows;
  size_t arrived = 0;
  constexpr size_t kLive = internal::kShards - 1;  // with this thread: one per shard
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kLive; ++i) {
    threads.emplace_back([&] {
      const size_t row = internal::RowOffset();
      std::unique_lock<std::mutex> lock(mu);
      rows.insert(row);
      ++arrived;
      cv.notify_all();
      cv.wait(lock, [&] { return arrived == kLive; });  // stay alive until all have a shard
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(rows.size() == kLive);
  CHECK(rows.count(main_row) == 0);
  for (size_t row : rows) CHECK(row % internal::kShardStride == 0);
  size_t live = 0;
  for (size_t s = 0; s < internal::kShards; ++s) live += internal::ThreadsOnShard(s);
  CHECK(live == 1);  // only this thread still holds one
}

}  // namespace
}  // namespace meshvpn::metrics
