#include "meshvpn/wg/replay_window.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>

namespace meshvpn::wg {
namespace {

// The obvious model: every accepted counter in a set; a counter is accepted if it is below the
// limit, unseen, and no more than kWindowSize behind the newest accepted.
class NaiveWindow {
 public:
  explicit NaiveWindow(uint64_t limit) : limit_(limit) {}
  bool CheckAndUpdate(uint64_t c) {
    if (c >= limit_ || seen_.count(c)) return false;
    if (c < newest_ && newest_ - c > ReplayWindow::kWindowSize) return false;
    seen_.insert(c);
    newest_ = std::max(newest_, c);
    return true;
  }

 private:
  std::set<uint64_t> seen_;
  uint64_t newest_ = 0;
  uint64_t limit_;
};

TEST_CASE("replay window accepts in order, rejects replays") {
  ReplayWindow w;
  for (uint64_t c = 0; c < 5000; ++c) REQUIRE(w.CheckAndUpdate(c));
  CHECK_FALSE(w.CheckAndUpdate(4999));
  CHECK_FALSE(w.CheckAndUpdate(0));
  CHECK(w.newest() == 4999);
}

TEST_CASE("replay window accepts reordering inside the window and rejects beyond it") {
  ReplayWindow w;
  REQUIRE(w.CheckAndUpdate(10000));
  CHECK(w.IsPlausible(10000 - ReplayWindow::kWindowSize));
  CHECK(w.CheckAndUpdate(10000 - ReplayWindow::kWindowSize));
  CHECK_FALSE(w.IsPlausible(10000 - ReplayWindow::kWindowSize - 1));
  CHECK_FALSE(w.CheckAndUpdate(10000 - ReplayWindow::kWindowSize - 1));
  CHECK(w.CheckAndUpdate(9999));
  CHECK_FALSE(w.IsPlausible(9999));
  CHECK_FALSE(w.CheckAndUpdate(9999));
}

TEST_CASE("a big jump forward clears the whole ring") {
  ReplayWindow w;
  for (uint64_t c = 0; c < 100; ++c) REQUIRE(w.CheckAndUpdate(c));
  REQUIRE(w.CheckAndUpdate(1'000'000));
  // 1,000,000 - 64 was never seen even though its ring slot was used before.
  CHECK(w.CheckAndUpdate(1'000'000 - 64));
  CHECK(w.CheckAndUpdate(1'000'000 - 1));
}

TEST_CASE("counters at or above the limit are refused") {
  ReplayWindow w(/*limit=*/1000);
  CHECK(w.CheckAndUpdate(999));
  CHECK_FALSE(w.IsPlausible(1000));
  CHECK_FALSE(w.CheckAndUpdate(1000));
  ReplayWindow max;
  CHECK(max.CheckAndUpdate(UINT64_MAX - 1));
  CHECK_FALSE(max.CheckAndUpdate(UINT64_MAX));
}

TEST_CASE("Reset forgets accepted counters") {
  ReplayWindow w;
  REQUIRE(w.CheckAndUpdate(7));
  w.Reset();
  CHECK(w.newest() == 0);
  CHECK(w.CheckAndUpdate(7));
}

TEST_CASE("replay window agrees with a naive set on random sequences") {
  std::mt19937_64 rng(GENERATE(1, 2, 3, 4, 5));
  ReplayWindow fast(/*limit=*/1'000'000);
  NaiveWindow naive(1'000'000);
  uint64_t base = 0;
  for (int i = 0; i < 200'000; ++i) {
    // Mostly near the front with reordering, sometimes far behind, sometimes a jump ahead.
    uint64_t c;
    switch (rng() % 10) {
      case 0:
        c = base + rng() % 5000;  // jump ahead (may cross several blocks)
        break;
      case 1:
        c = base > 3000 ? base - 1900 - rng() % 200 : rng() % 3000;  // around the window's edge
        break;
      default:
        c = base + 64 > 128 ? base + 64 - rng() % 128 : rng() % 128;  // reordered near the front
    }
    base = std::max(base, c);
    const bool plausible = fast.IsPlausible(c);
    const bool accepted = fast.CheckAndUpdate(c);
    REQUIRE(accepted == naive.CheckAndUpdate(c));
    if (accepted) REQUIRE(plausible);
  }
}

}  // namespace
}  // namespace meshvpn::wg
