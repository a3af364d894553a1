// Tests of ClientConnection's Upgrade side: the 101, the UpgradedStream both ways, its output
// bound and OnStreamWritable, and how the stream ends.
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "http/client_test_util.h"
#include "meshvpn/http/client_connection.h"

namespace meshvpn::http {
namespace {

using namespace std::chrono_literals;
using test::Cat;
using test::Drain;
using test::Feed;
using test::Recorder;

constexpr std::string_view k101 =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n";

Request UpgradeRequest() {
  Request r;
  r.target = "/derp";
  r.headers.Add("Upgrade", "DERP");
  r.headers.Add("Connection", "Upgrade");
  return r;
}

// Records what an upgraded stream receives.
class StreamRecorder : public StreamHandler {
 public:
  void OnStreamData(ByteSpan data) override {
    received.append(meshvpn::ToString(data));
    if (on_data) on_data();
  }
  void OnStreamClosed() override { ++closed; }
  void OnStreamWritable() override { ++writable; }

  std::string received;
  int closed = 0;
  int writable = 0;
  std::function<void()> on_data;
};

// Takes the upgrade: keeps the stream, and sets `stream_handler` on it if given.
class UpgradeTaker : public Recorder {
 public:
  void OnUpgrade(const ResponseHead& h, UpgradedStream s, std::string early) override {
    events.push_back("upgrade");
    ++endings;
    head = h;
    buffered = std::move(early);
    stream = std::move(s);
    if (stream_handler != nullptr) stream.set_handler(stream_handler);
    if (drop_stream) stream = UpgradedStream();
  }

  StreamHandler* stream_handler = nullptr;
  bool drop_stream = false;
  UpgradedStream stream;
  std::string buffered;
};

TEST_CASE("ClientUpgrade: 101 hands over the stream with the bytes after the head") {
  FakeClock clock;
  ClientLimits limits;
  limits.max_buffered_output = 100;
  ClientConnection c(&clock, limits);
  StreamRecorder sr;
  UpgradeTaker u;
  u.stream_handler = &sr;
  REQUIRE(c.Send(UpgradeRequest(), "derp.example", &u));
  CHECK(Drain(c) ==
        "GET /derp HTTP/1.1\r\nHost: derp.example\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n");
  const std::string_view frame("\x01\x00\x00\x00\x2c early", 11);  // NULs included
  Feed(c, Cat(k101, frame));
  CHECK(u.events == std::vector<std::string>{"upgrade"});  // no OnResponseHead for a 101
  CHECK(u.head.status == 101);
  CHECK(u.head.headers.Get("Upgrade") == "DERP");
  CHECK(u.buffered == frame);
  CHECK(c.state() == ClientState::kUpgraded);
  CHECK(u.stream.alive());
  CHECK_FALSE(c.ready());
  Recorder other;
  CHECK_FALSE(c.Send(test::Get(), "h", &other));

  SECTION("bytes both ways") {
    Feed(c, "from server");
    CHECK(sr.received == "from server");
    CHECK(u.stream.Write(AsBytes("from client")));
    CHECK(u.stream.buffered_output() == 11);
    CHECK(Drain(c) == "from client");
    CHECK(u.stream.buffered_output() == 0);
    CHECK(sr.closed == 0);
  }

  SECTION("Write is refused past the bound, then OnStreamWritable below half of it") {
    const std::string sixty(60, 'a');
    const std::string fifty(50, 'b');
    REQUIRE(u.stream.Write(AsBytes(sixty)));
    CHECK_FALSE(u.stream.Write(AsBytes(fifty)));  // 110 > 100: nothing queued
    CHECK(c.buffered_output() == 60);
    CHECK(u.stream.Write(AsBytes(std::string(40, 'c'))));  // exactly 100 fits
    CHECK_FALSE(u.stream.Write(AsBytes("d")));
    c.ConsumeOutput(40);  // 60 left: not below half
    CHECK(sr.writable == 0);
    c.ConsumeOutput(11);  // 49 left
    CHECK(sr.writable == 1);
    c.ConsumeOutput(49);
    CHECK(sr.writable == 1);  // once per refusal
    CHECK(u.stream.Write(AsBytes(fifty)));
    CHECK(c.PendingOutput() == fifty);
  }

  SECTION("Close sends what is buffered, then closes, with no OnStreamClosed") {
    REQUIRE(u.stream.Write(AsBytes("bye")));
    u.stream.Close();
    CHECK_FALSE(u.stream.alive());
    CHECK(c.WantsClose());
    CHECK_FALSE(c.WantsRead());
    CHECK(c.state() == ClientState::kClosing);
    CHECK(Drain(c) == "bye");
    Feed(c, "late bytes");
    CHECK(sr.received.empty());
    CHECK(sr.closed == 0);
    CHECK_FALSE(u.stream.Write(AsBytes("x")));
  }

  SECTION("the peer's EOF closes the stream once") {
    c.ReceiveEof();
    c.ReceiveEof();
    c.Abort();
    CHECK(sr.closed == 1);
    CHECK_FALSE(u.stream.alive());
    CHECK_FALSE(u.stream.Write(AsBytes("x")));
    CHECK(c.state() == ClientState::kClosed);
  }

  SECTION("Abort closes the stream once") {
    c.Abort();
    c.Abort();
    CHECK(sr.closed == 1);
    CHECK_FALSE(u.stream.alive());
  }

  SECTION("the connection's Close closes the stream") {
    c.Close();
    CHECK(sr.closed == 1);
    CHECK_FALSE(u.stream.alive());
    CHECK(c.WantsClose());
  }

  SECTION("a send timeout closes the stream") {
    REQUIRE(u.stream.Write(AsBytes("stuck")));
    clock.Advance(limits.send_timeout);
    c.HandleExpiry(clock.Now());
    CHECK(sr.closed == 1);
    CHECK(c.state() == ClientState::kClosed);
  }

  SECTION("the stream handler may close the stream from OnStreamData") {
    sr.on_data = [&] { u.stream.Close(); };
    Feed(c, "one");
    Feed(c, "two");
    CHECK(sr.received == "one");
    CHECK(sr.closed == 0);
    CHECK(c.WantsClose());
  }

  SECTION("a handle that outlives the connection is dead, not dangling") {
    std::optional<ClientConnection> gone(std::in_place, &clock);
    UpgradeTaker u2;
    REQUIRE(gone->Send(UpgradeRequest(), "h", &u2));
    Feed(*gone, k101);
    REQUIRE(u2.stream.alive());
    gone.reset();
    CHECK_FALSE(u2.stream.alive());
    CHECK_FALSE(u2.stream.Write(AsBytes("x")));
    CHECK(u2.stream.buffered_output() == 0);
  }
}

TEST_CASE("ClientUpgrade: a stream without a handler holds bytes, within a bound") {
  FakeClock clock;
  ClientConnection c(&clock);
  UpgradeTaker u;
  REQUIRE(c.Send(UpgradeRequest(), "h", &u));
  Feed(c, k101);
  REQUIRE(c.state() == ClientState::kUpgraded);
  Feed(c, "held ");
  StreamRecorder sr;
  u.stream.set_handler(&sr);
  Feed(c, "then delivered");
  CHECK(sr.received == "held then delivered");

  u.stream.set_handler(nullptr);
  const std::string big(kDefaultMaxBufferedInput, 'x');
  Feed(c, big);
  CHECK_FALSE(c.WantsRead());
  Feed(c, "over");  // a transport that ignored WantsRead: the stream is closed
  CHECK(c.state() == ClientState::kClosed);
  CHECK_FALSE(u.stream.alive());
}

TEST_CASE("ClientUpgrade: a handler that does not keep the stream closes the connection") {
  FakeClock clock;
  ClientConnection c(&clock);
  UpgradeTaker u;
  u.drop_stream = true;
  REQUIRE(c.Send(UpgradeRequest(), "h", &u));
  Drain(c);
  Feed(c, k101);
  CHECK(u.events == std::vector<std::string>{"upgrade"});
  CHECK(c.WantsClose());
  CHECK(c.state() == ClientState::kClosing);
}

TEST_CASE("ClientUpgrade: the default OnUpgrade refuses with one error") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  REQUIRE(c.Send(UpgradeRequest(), "h", &r));
  Feed(c, Cat(k101, "early"));
  CHECK(r.events == std::vector<std::string>{"error"});
  CHECK(r.error.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(c.WantsClose());
}

TEST_CASE("ClientUpgrade: BufferingResponseHandler refuses an upgrade") {
  FakeClock clock;
  ClientConnection c(&clock);
  int calls = 0;
  absl::Status status;
  BufferingResponseHandler h([&](absl::StatusOr<Response> r) {
    ++calls;
    status = r.status();
  });
  REQUIRE(c.Send(UpgradeRequest(), "h", &h));
  Feed(c, k101);
  CHECK(calls == 1);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(c.WantsClose());
}

TEST_CASE("ClientUpgrade: a 101 nobody asked for is an error") {
  FakeClock clock;
  ClientConnection c(&clock);
  UpgradeTaker u;
  REQUIRE(c.Send(test::Get(), "h", &u));
  Feed(c, Cat(k101, "data"));
  CHECK(u.events == std::vector<std::string>{"error"});
  CHECK(u.error.code() == absl::StatusCode::kInternal);
  CHECK_FALSE(u.stream.alive());
  CHECK(c.state() == ClientState::kClosed);
}

TEST_CASE("ClientUpgrade: a 101 without Connection: upgrade still switches") {
  FakeClock clock;
  ClientConnection c(&clock);
  StreamRecorder sr;
  UpgradeTaker u;
  u.stream_handler = &sr;
  REQUIRE(c.Send(UpgradeRequest(), "h", &u));
  Feed(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\n\r\nafter");
  CHECK(u.events == std::vector<std::string>{"upgrade"});
  CHECK(u.buffered == "after");
  Feed(c, "more");
  CHECK(sr.received == "more");
}

TEST_CASE("ClientUpgrade: a 101's Content-Length does not eat the new protocol's bytes") {
  FakeClock clock;
  const bool connection_upgrade = GENERATE(false, true);
  ClientConnection c(&clock);
  UpgradeTaker u;
  REQUIRE(c.Send(UpgradeRequest(), "h", &u));
  Feed(c, Cat(connection_upgrade ? "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\n"
                                   "Connection: Upgrade\r\nContent-Length: 3\r\n\r\n"
                                 : "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\n"
                                   "Content-Length: 3\r\n\r\n",
              "abcrest"));
  CHECK(u.events == std::vector<std::string>{"upgrade"});
  CHECK(u.body.empty());
  CHECK(u.buffered == "abcrest");
}

TEST_CASE("ClientUpgrade: a refused upgrade (200) is an ordinary response") {
  FakeClock clock;
  ClientConnection c(&clock);
  UpgradeTaker u;
  REQUIRE(c.Send(UpgradeRequest(), "h", &u));
  Feed(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno");
  CHECK(u.events == std::vector<std::string>{"head", "body", "complete"});
  CHECK(c.state() == ClientState::kIdle);
}

TEST_CASE("ClientUpgrade: EOF right after a 101 head that never finished") {
  FakeClock clock;
  ClientConnection c(&clock);
  UpgradeTaker u;
  REQUIRE(c.Send(UpgradeRequest(), "h", &u));
  Feed(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\n");
  c.ReceiveEof();
  CHECK(u.events == std::vector<std::string>{"error"});
  CHECK(u.error.code() == absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace meshvpn::http
