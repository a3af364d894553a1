// The libuv driver over real loopback sockets: a rendezvous server and two sessions punch to
// each other on 127.0.0.1, and a core that asks for more sockets gets them.
#include "meshvpn/holepunch/uv_runner.h"

#include <catch2/catch.hpp>

#include "meshvpn/base/uv_loop.h"
#include "meshvpn/holepunch/rendezvous_server.h"
#include "meshvpn/holepunch/session.h"

namespace meshvpn::holepunch {
namespace {

udp::Endpoint Loopback() { return *udp::Endpoint::Parse("127.0.0.1:0"); }

// Stops the loop once both sessions are direct and have exchanged a message.
struct Watch final : UvRunner::Listener {
  uv_loop_t* loop = nullptr;
  Session* session = nullptr;
  UvRunner* runner = nullptr;
  Watch* other = nullptr;
  bool sent = false;
  std::string received;
  void OnProgress() override {
    while (auto e = session->NextEvent()) {
      if (e->type == EventType::kMessageReceived) received = e->text;
    }
    if (!sent && session->state() == SessionState::kDirect) {
      sent = session->SendMessage(AsBytes("hi"), RealClock::Instance().Now()).ok();
      if (sent) runner->Poke();
    }
    if (!received.empty() && !other->received.empty()) uv_stop(loop);
  }
};

TEST_CASE("two sessions punch over loopback through UvRunner and a real rendezvous server") {
  UvLoop loop;
  {
    UvRunnerOptions ro;
    ro.bind = Loopback();
    auto server_runner = UvRunner::Create(loop.get(), ro);
    REQUIRE(server_runner.ok());
    RendezvousServer server;
    REQUIRE((*server_runner)->Start(&server).ok());
    const udp::Endpoint rendezvous = (*server_runner)->local_endpoint();

    std::unique_ptr<UvRunner> runners[2];
    std::unique_ptr<Session> sessions[2];
    Watch watch[2];
    for (int i = 0; i < 2; ++i) {
      auto r = UvRunner::Create(loop.get(), ro);
      REQUIRE(r.ok());
      runners[i] = std::move(*r);
      SessionOptions o;
      o.name = i == 0 ? "alice" : "bob";
      o.peer = i == 0 ? "bob" : "alice";
      o.rendezvous = rendezvous;
      o.local_addresses = {*udp::Endpoint::Parse("127.0.0.1:0")};
      o.port = runners[i]->local_endpoint().port();
      auto s = Session::Create(std::move(o), RealClock::Instance().Now());
      REQUIRE(s.ok());
      sessions[i] = std::move(*s);
      watch[i].loop = loop.get();
      watch[i].session = sessions[i].get();
      watch[i].runner = runners[i].get();
      watch[i].other = &watch[1 - i];
    }
    for (int i = 0; i < 2; ++i) REQUIRE(runners[i]->Start(sessions[i].get(), &watch[i]).ok());
    // A guard so a failure cannot hang the test.
    auto guard = UvTimer::Create(loop.get(), uv_timer_init);
    REQUIRE(guard.ok());
    guard->set_owner(loop.get());
    uv_timer_start(
        guard->get(), [](uv_timer_t* t) { uv_stop(static_cast<uv_loop_t*>(t->data)); }, 10000, 0);
    loop.Run();
    CHECK(sessions[0]->state() == SessionState::kDirect);
    CHECK(sessions[1]->state() == SessionState::kDirect);
    CHECK(watch[0].received == "hi");
    CHECK(watch[1].received == "hi");
    const Path* path = sessions[0]->punch()->current_path();
    REQUIRE(path != nullptr);
    CHECK(path->remote.endpoint == runners[1]->local_endpoint());
    CHECK(server.stats().pairs == 1);
    for (auto& r : runners) r->Stop();
    (*server_runner)->Stop();
  }
  CHECK(loop.Close() == 0);
}

// Sends one datagram from every extra slot to slot 0 and records where they came from.
class SlotCore final : public Core {
 public:
  explicit SlotCore(udp::Endpoint self) : self_(self) {}
  std::optional<Outgoing> NextSend(MonoTime) override {
    if (next_ >= 4) return std::nullopt;
    const uint16_t slot = next_++;
    return Outgoing{ByteSpan(payload_, 1), self_, slot};
  }
  void OnDatagram(ByteSpan, const udp::Endpoint& from, uint16_t slot, MonoTime) override {
    if (slot == 0) from_.push_back(from);
  }
  std::optional<MonoTime> NextExpiry() const override { return std::nullopt; }
  void HandleExpiry(MonoTime) override {}
  uint16_t slot_count() const override { return 4; }
  std::vector<udp::Endpoint> from_;

 private:
  udp::Endpoint self_;
  uint16_t next_ = 0;
  uint8_t payload_[1] = {7};
};

TEST_CASE("UvRunner opens the sockets a core asks for and sends from each") {
  UvLoop loop;
  {
    UvRunnerOptions ro;
    ro.bind = Loopback();
    auto runner = UvRunner::Create(loop.get(), ro);
    REQUIRE(runner.ok());
    SlotCore core((*runner)->local_endpoint());
    struct Stopper final : UvRunner::Listener {
      SlotCore* core;
      uv_loop_t* loop;
      void OnProgress() override {
        if (core->from_.size() == 4) uv_stop(loop);
      }
    } stopper;
    stopper.core = &core;
    stopper.loop = loop.get();
    REQUIRE((*runner)->Start(&core, &stopper).ok());
    CHECK((*runner)->open_slots() == 4);
    auto guard = UvTimer::Create(loop.get(), uv_timer_init);
    guard->set_owner(loop.get());
    uv_timer_start(
        guard->get(), [](uv_timer_t* t) { uv_stop(static_cast<uv_loop_t*>(t->data)); }, 5000, 0);
    loop.Run();
    REQUIRE(core.from_.size() == 4);
    std::set<uint16_t> ports;
    for (const udp::Endpoint& e : core.from_) ports.insert(e.port());
    CHECK(ports.size() == 4);
    for (uint16_t s = 0; s < 4; ++s) CHECK(ports.count((*runner)->local_endpoint(s).port()) == 1);
    (*runner)->Stop();
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::holepunch
