// Histogram buckets: `le` semantics at and around each bound, NaN and infinities, the bound
// helpers, and the binary search against a naive scan on random values.
#include "meshvpn/metrics/histogram.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "meshvpn/metrics/registry.h"

namespace meshvpn::metrics {
namespace {

// The cumulative counts of the only series of the only family.
std::vector<uint64_t> Cumulative(const Registry& r) {
  const Snapshot s = r.Collect();
  REQUIRE(s.families.size() == 1);
  REQUIRE(s.families[0].series.size() == 1);
  return s.families[0].series[0].histogram.cumulative;
}

TEST_CASE("a value equal to a bound is in that bound's bucket; above it, in the next") {
  const struct {
    double v;
    std::vector<uint64_t> cumulative;  // le 1, 2, 5, +Inf
  } cases[] = {
      {1, {1, 1, 1, 1}},
      {std::nextafter(1.0, 2.0), {0, 1, 1, 1}},
      {std::nextafter(1.0, 0.0), {1, 1, 1, 1}},
      {0, {1, 1, 1, 1}},
      {-5, {1, 1, 1, 1}},
      {2, {0, 1, 1, 1}},
      {5, {0, 0, 1, 1}},
      {5.000001, {0, 0, 0, 1}},
      {INFINITY, {0, 0, 0, 1}},
      {-INFINITY, {1, 1, 1, 1}},
      {std::nan(""), {0, 0, 0, 1}},
  };
  for (const auto& c : cases) {
    INFO(c.v);
    Registry r;
    Histogram h = *r.AddHistogram("h", "", {1, 2, 5});
    h.Observe(c.v);
    CHECK(Cumulative(r) == c.cumulative);
    CHECK(h.count() == 1);
  }
}

TEST_CASE("the sum adds every observation; NaN makes it NaN") {
  Registry r;
  Histogram h = *r.AddHistogram("h", "", {1});
  h.Observe(0.5);
  h.Observe(2);
  h.Observe(-1);
  CHECK(h.sum() == 1.5);
  CHECK(h.count() == 3);
  CHECK(Cumulative(r) == std::vector<uint64_t>{2, 3});
  h.Observe(std::nan(""));
  CHECK(std::isnan(h.sum()));
}

TEST_CASE("binary search agrees with a linear scan on random values and bounds") {
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> value(-10, 1010);
  for (size_t n : std::initializer_list<size_t>{1, 2, 3, 7, 16, 33, 100, kMaxBuckets}) {
    Registry r;
    const std::vector<double> bounds = LinearBuckets(0, 1000.0 / static_cast<double>(n), n);
    Histogram h = *r.AddHistogram("h", "", bounds);
    std::vector<uint64_t> naive(n + 1);
    for (int i = 0; i < 2000; ++i) {
      // Every fifth value sits exactly on a bound.
      const double v = i % 5 == 0 ? bounds[rng() % n] : value(rng);
      h.Observe(v);
      size_t b = 0;
      while (b < n && !(v <= bounds[b])) ++b;
      ++naive[b];
    }
    for (size_t i = 1; i <= n; ++i) naive[i] += naive[i - 1];
    INFO(n);
    CHECK(Cumulative(r) == naive);
  }
}

TEST_CASE("bucket helpers") {
  CHECK(DefaultBuckets() ==
        std::vector<double>{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  CHECK(ExponentialBuckets(1, 2, 4) == std::vector<double>{1, 2, 4, 8});
  CHECK(LinearBuckets(-1, 0.5, 3) == std::vector<double>{-1, -0.5, 0});
  CHECK(ExponentialBuckets(0, 2, 4).empty());
  CHECK(ExponentialBuckets(1, 1, 4).empty());
  CHECK(ExponentialBuckets(1, 2, 0).empty());
  CHECK(LinearBuckets(0, 0, 3).empty());
  CHECK(LinearBuckets(0, 1, 0).empty());
}

TEST_CASE("bucket bounds are checked at registration") {
  Registry r;
  CHECK(r.AddHistogram("a", "", {}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.AddHistogram("b", "", {1, 1}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.AddHistogram("c", "", {2, 1}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.AddHistogram("d", "", {1, std::nan("")}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(r.AddHistogram("e", "", {-INFINITY, 1}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(r.AddHistogram("f", "", {INFINITY}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.AddHistogram("g", "", LinearBuckets(0, 1, kMaxBuckets + 1)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(r.AddHistogram("h", "", LinearBuckets(0, 1, kMaxBuckets)).ok());
  // A trailing +Inf is the implicit bucket: accepted and dropped.
  auto f = r.AddHistogramFamily("i", "", {}, {1, 2, INFINITY});
  REQUIRE(f.ok());
  CHECK(f->buckets() == std::vector<double>{1, 2});
  // "le" is the bucket label.
  CHECK(r.AddHistogramFamily("j", "", {"le"}, {1}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("children of a histogram family share its bounds and count separately") {
  Registry r;
  HistogramFamily f = *r.AddHistogramFamily("h", "", {"peer"}, {1, 10});
  Histogram a = *f.WithLabels({"a"});
  Histogram b = *f.WithLabels({"b"});
  a.Observe(0.5);
  b.Observe(5);
  b.Observe(50);
  const Snapshot s = r.Collect();
  REQUIRE(s.families[0].series.size() == 2);
  CHECK(s.families[0].series[0].histogram.cumulative == std::vector<uint64_t>{1, 1, 1});
  CHECK(s.families[0].series[1].histogram.cumulative == std::vector<uint64_t>{0, 1, 2});
  CHECK(s.families[0].series[1].histogram.sum == 55);
  CHECK((*f.WithLabels({"a"})).count() == 1);
}

}  // namespace
}  // namespace meshvpn::metrics
