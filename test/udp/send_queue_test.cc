#include "meshvpn/udp/send_queue.h"

#include <catch2/catch.hpp>
#include <deque>
#include <random>

namespace meshvpn::udp {
namespace {

OutgoingPacket Tagged(uint16_t tag) { return {nullptr, Endpoint::V4({10, 0, 0, 1}, tag)}; }

TEST_CASE("the send queue is a bounded FIFO that can put back its front") {
  SendQueue q(3);
  CHECK(q.empty());
  CHECK(q.Push(Tagged(1)));
  CHECK(q.Push(Tagged(2)));
  CHECK(q.Push(Tagged(3)));
  CHECK(q.full());
  CHECK_FALSE(q.Push(Tagged(4)));
  CHECK(q.size() == 3);
  CHECK(q.PopFront().to.port() == 1);
  CHECK(q.PopFront().to.port() == 2);
  CHECK(q.PushFront(Tagged(2)));
  CHECK(q.Push(Tagged(5)));
  CHECK_FALSE(q.PushFront(Tagged(9)));
  CHECK(q.PopFront().to.port() == 2);
  CHECK(q.PopFront().to.port() == 3);
  CHECK(q.PopFront().to.port() == 5);
  CHECK(q.empty());
}

TEST_CASE("a zero-capacity send queue refuses everything") {
  SendQueue q(0);
  CHECK(q.full());
  CHECK_FALSE(q.Push(Tagged(1)));
  CHECK_FALSE(q.PushFront(Tagged(1)));
}

TEST_CASE("the send queue agrees with std::deque on random operations") {
  std::mt19937 rng(7);
  SendQueue q(5);
  std::deque<uint16_t> model;
  for (uint16_t i = 0; i < 5000; ++i) {
    switch (rng() % 3) {
      case 0:
        CHECK(q.Push(Tagged(i)) == (model.size() < 5));
        if (model.size() < 5) model.push_back(i);
        break;
      case 1:
        CHECK(q.PushFront(Tagged(i)) == (model.size() < 5));
        if (model.size() < 5) model.push_front(i);
        break;
      default:
        if (!model.empty()) {
          CHECK(q.PopFront().to.port() == model.front());
          model.pop_front();
        }
    }
    REQUIRE(q.size() == model.size());
  }
}

}  // namespace
}  // namespace meshvpn::udp
