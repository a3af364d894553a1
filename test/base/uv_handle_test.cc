#include "meshvpn/base/uv_handle.h"

#include <catch2/catch.hpp>

#include "meshvpn/base/uv_loop.h"

namespace meshvpn {
namespace {

// A timer owner that forwards its callback to one method, as drivers do.
class Ticker {
 public:
  explicit Ticker(uv_loop_t* loop) : timer_(*UvTimer::Create(loop, uv_timer_init)) {
    timer_.set_owner(this);
  }
  void Start(int times) {
    remaining_ = times;
    uv_timer_start(timer_.get(), &Ticker::OnTimer, 1, 1);
  }
  int fired() const { return fired_; }

 private:
  static void OnTimer(uv_timer_t* t) { static_cast<Ticker*>(t->data)->Tick(); }
  void Tick() {
    ++fired_;
    if (--remaining_ == 0) uv_timer_stop(timer_.get());
  }
  UvTimer timer_;
  int remaining_ = 0;
  int fired_ = 0;
};

TEST_CASE("a timer fires through its owner and the loop closes cleanly") {
  UvLoop loop;
  {
    Ticker ticker(loop.get());
    ticker.Start(3);
    loop.Run();
    CHECK(ticker.fired() == 3);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("moving a handle transfers ownership and empties the moved-from handle") {
  UvLoop loop;
  auto created = UvTimer::Create(loop.get(), uv_timer_init);
  REQUIRE(created.ok());
  UvTimer a = std::move(*created);
  UvTimer b = std::move(a);
  CHECK_FALSE(a);
  CHECK(b);
  UvTimer c;
  c = std::move(b);
  CHECK(c);
  c.Reset();
  CHECK_FALSE(c);
  CHECK(loop.Close() == 0);
}

TEST_CASE("an open handle keeps the loop from closing until it is released") {
  UvLoop loop;
  auto timer = UvTimer::Create(loop.get(), uv_timer_init);
  REQUIRE(timer.ok());
  CHECK(loop.Close() == UV_EBUSY);
  timer->Reset();
  CHECK(loop.Close() == 0);
}

TEST_CASE("a failed init frees the handle and reports the libuv error") {
  UvLoop loop;
  auto poll = UvPoll::Create(loop.get(), uv_poll_init, -1);
  REQUIRE_FALSE(poll.ok());
  CHECK(poll.status().message().find("libuv handle init") == 0);
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn
