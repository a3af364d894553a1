// Tests of ClientConnection and BufferingResponseHandler, driven with byte strings and a FakeClock.
#include "meshvpn/http/client_connection.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "http/client_test_util.h"

namespace meshvpn::http {
namespace {

using namespace std::chrono_literals;
using test::Cat;
using test::Drain;
using test::Feed;
using test::FeedByteByByte;
using test::Get;
using test::Recorder;

constexpr std::string_view kOk =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";

TEST_CASE("ClientConnection: ToString names every state") {
  CHECK(ToString(ClientState::kIdle) == "idle");
  CHECK(ToString(ClientState::kAwaitingHead) == "awaiting head");
  CHECK(ToString(ClientState::kReadingBody) == "reading body");
  CHECK(ToString(ClientState::kUpgraded) == "upgraded");
  CHECK(ToString(ClientState::kClosing) == "closing");
  CHECK(ToString(ClientState::kClosed) == "closed");
}

TEST_CASE("ClientConnection: a GET is written with Host") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  CHECK(c.ready());
  REQUIRE(c.Send(Get("/key?v=71"), "example.com:8080", &r));
  CHECK(c.state() == ClientState::kAwaitingHead);
  CHECK_FALSE(c.ready());
  CHECK(Drain(c) == "GET /key?v=71 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
  CHECK(c.buffered_output() == 0);
}

TEST_CASE("ClientConnection: a POST gets Content-Length and keeps its own Host") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  Request post;
  post.method = "POST";
  post.target = "/machine/register";
  post.headers.Add("Host", "control.example");
  post.headers.Add("Content-Type", "application/json");
  post.body = R"({"a":1})";
  REQUIRE(c.Send(post, "ignored:1", &r));
  CHECK(Drain(c) ==
        "POST /machine/register HTTP/1.1\r\nHost: control.example\r\n"
        "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
}

class CountingListener : public CoreListener {
 public:
  void OnCoreActivity() override { ++calls; }
  int calls = 0;
};

TEST_CASE("ClientConnection: the listener hears of output made outside the core's calls") {
  FakeClock clock;
  ClientConnection c(&clock);
  CountingListener listener;
  c.set_listener(&listener);
  Recorder r1, r2;
  REQUIRE(c.Send(Get(), "h", &r1));
  CHECK(listener.calls == 1);
  Drain(c);
  r1.on_complete = [&] { CHECK(c.Send(Get(), "h", &r2)); };
  Feed(c, kOk);  // the transport pumps after Receive: no call from inside it
  CHECK(listener.calls == 1);
  CHECK_FALSE(c.PendingOutput().empty());
  Drain(c);
  Feed(c, kOk);
  c.Close();
  CHECK(listener.calls == 2);
  CHECK(c.WantsClose());
}

TEST_CASE("ClientConnection: a second Send while a request is in flight is refused") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r1, r2;
  REQUIRE(c.Send(Get(), "h", &r1));
  CHECK_FALSE(c.Send(Get(), "h", &r2));
  CHECK_FALSE(c.Send(Get(), "h", nullptr));
  CHECK(Drain(c) == "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST_CASE("ClientConnection: a Content-Length response, then keep-alive reuse") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r1;
  REQUIRE(c.Send(Get("/one"), "h", &r1));
  Drain(c);
  Feed(c, kOk);
  CHECK(r1.events == std::vector<std::string>{"head", "body", "complete"});
  CHECK(r1.head.status == 200);
  CHECK(r1.head.reason == "OK");
  CHECK(r1.head.content_length == 5u);
  CHECK(r1.head.keep_alive);
  CHECK(r1.head.headers.Get("Content-Type") == "text/plain");
  CHECK(r1.body == "hello");
  CHECK(c.state() == ClientState::kIdle);
  CHECK(c.ready());
  CHECK_FALSE(c.WantsClose());
  CHECK(c.WantsRead());

  Recorder r2;
  REQUIRE(c.Send(Get("/two"), "h", &r2));
  CHECK(Drain(c) == "GET /two HTTP/1.1\r\nHost: h\r\n\r\n");
  Feed(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n");
  CHECK(r2.head.status == 404);
  CHECK(r2.body == "no\n");
  CHECK(r2.endings == 1);
  CHECK(r1.endings == 1);
  CHECK(c.state() == ClientState::kIdle);
}

constexpr std::string_view kChunked =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Checksum: abc\r\n\r\n";

TEST_CASE("ClientConnection: a chunked response with trailers, whole and byte by byte") {
  FakeClock clock;
  const bool byte_by_byte = GENERATE(false, true);
  INFO((byte_by_byte ? "byte by byte" : "in one piece"));
  ClientConnection c(&clock);
  Recorder r;
  REQUIRE(c.Send(Get(), "h", &r));
  Drain(c);
  if (byte_by_byte) {
    FeedByteByByte(c, kChunked);
  } else {
    Feed(c, kChunked);
  }
  CHECK(r.head.chunked);
  CHECK_FALSE(r.head.content_length.has_value());
  CHECK(r.body == "hello world!");
  CHECK(r.endings == 1);
  CHECK(r.events.back() == "complete");
  CHECK_FALSE(r.head.headers.Has("X-Checksum"));  // trailers are not head fields
  CHECK(c.state() == ClientState::kIdle);
}

TEST_CASE("ClientConnection: a chunked response split at every boundary") {
  FakeClock clock;
  for (size_t split = 0; split <= kChunked.size(); ++split) {
    INFO("split at " << split);
    ClientConnection c(&clock);
    Recorder r;
    REQUIRE(c.Send(Get(), "h", &r));
    Feed(c, kChunked.substr(0, split));
    Feed(c, kChunked.substr(split));
    CHECK(r.body == "hello world!");
    CHECK(r.endings == 1);
    CHECK(r.error.ok());
    CHECK(c.state() == ClientState::kIdle);
  }
}

TEST_CASE("ClientConnection: a close-delimited body ends at ReceiveEof") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  REQUIRE(c.Send(Get(), "h", &r));
  Feed(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nfirst ");
  CHECK(c.state() == ClientState::kReadingBody);
  Feed(c, "second");
  CHECK(r.endings == 0);
  c.ReceiveEof();
  CHECK(r.body == "first second");
  CHECK(r.events.back() == "complete");
  CHECK(r.endings == 1);
  CHECK(c.WantsClose());
  CHECK(c.state() == ClientState::kClosed);
  CHECK(c.PendingOutput().empty());  // the request never taken is dropped with the connection
  CHECK_FALSE(c.NextExpiry().has_value());
}

TEST_CASE("ClientConnection: a HEAD response has no body whatever its Content-Length says") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r1;
  Request head = Get("/big");
  head.method = "HEAD";
  REQUIRE(c.Send(head, "h", &r1));
  Feed(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  CHECK(r1.events == std::vector<std::string>{"head", "complete"});
  CHECK(r1.head.content_length == 1000u);
  REQUIRE(c.state() == ClientState::kIdle);
  // The next response is parsed as a response, not as the HEAD's 1000 body bytes.
  Recorder r2;
  REQUIRE(c.Send(Get(), "h", &r2));
  Feed(c, kOk);
  CHECK(r2.body == "hello");
  CHECK(r2.endings == 1);
}

TEST_CASE("ClientConnection: Connection: close and HTTP/1.0 end the connection") {
  FakeClock clock;
  struct Case {
    std::string_view response;
    bool reused;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true},
  };
  for (const Case& k : cases) {
    INFO(k.response);
    ClientConnection c(&clock);
    Recorder r;
    REQUIRE(c.Send(Get(), "h", &r));
    Drain(c);
    Feed(c, k.response);
    CHECK(r.body == "ok");
    CHECK(r.events.back() == "complete");
    CHECK(c.WantsClose() == !k.reused);
    CHECK(c.state() == (k.reused ? ClientState::kIdle : ClientState::kClosing));
    Recorder again;
    CHECK(c.Send(Get(), "h", &again) == k.reused);
  }
}

TEST_CASE("ClientConnection: a request with Connection: close is not reused") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  Request req = Get();
  req.headers.Add("Connection", "close");
  REQUIRE(c.Send(req, "h", &r));
  Feed(c, kOk);
  CHECK(r.endings == 1);
  CHECK(c.state() == ClientState::kClosing);
}

TEST_CASE("ClientConnection: the handler may Send the next request from OnResponseComplete") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r1, r2;
  r1.on_complete = [&] { CHECK(c.Send(Get("/next"), "h", &r2)); };
  REQUIRE(c.Send(Get("/first"), "h", &r1));
  Drain(c);
  // Both responses in one read: the second is parsed for the request sent from the callback.
  Feed(c, Cat(kOk, "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!"));
  CHECK(r1.endings == 1);
  CHECK(Drain(c) == "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(r2.head.status == 201);
  CHECK(r2.body == "!");
  CHECK(r2.endings == 1);
  CHECK(c.state() == ClientState::kIdle);
}

TEST_CASE("ClientConnection: Close from OnResponseBody closes after the response") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  r.on_body = [&] { c.Close(); };
  REQUIRE(c.Send(Get(), "h", &r));
  Feed(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
  CHECK(c.state() == ClientState::kReadingBody);  // the response in flight still ends
  CHECK_FALSE(c.ready());
  Feed(c, "56789");
  CHECK(r.body == "0123456789");
  CHECK(r.events.back() == "complete");
  CHECK(r.endings == 1);
  CHECK(c.WantsClose());
  Recorder again;
  CHECK_FALSE(c.Send(Get(), "h", &again));
}

TEST_CASE("ClientConnection: Close when idle closes now") {
  FakeClock clock;
  ClientConnection c(&clock);
  c.Close();
  CHECK(c.WantsClose());
  CHECK_FALSE(c.WantsRead());
  CHECK_FALSE(c.ready());
  Recorder r;
  CHECK_FALSE(c.Send(Get(), "h", &r));
}

TEST_CASE("ClientConnection: a response nobody asked for closes the connection") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  REQUIRE(c.Send(Get(), "h", &r));
  Feed(c, Cat(kOk, "HTTP/1.1 200 OK\r\n"));  // extra bytes after the response
  CHECK(r.endings == 1);
  CHECK(r.events.back() == "complete");
  CHECK(c.WantsClose());
  CHECK_FALSE(c.ready());

  ClientConnection idle(&clock);
  Feed(idle, "HTTP/1.1 408 Request Timeout\r\n\r\n");
  CHECK(idle.WantsClose());
  CHECK(idle.PendingOutput().empty());
}

TEST_CASE("ClientConnection: 100 Continue is skipped") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  REQUIRE(c.Send(Get(), "h", &r));
  Feed(c, "HTTP/1.1 100 Continue\r\n\r\n");
  CHECK(r.events.empty());
  Feed(c, kOk);
  CHECK(r.head.status == 200);
  CHECK(r.body == "hello");
}

TEST_CASE("ClientConnection: malformed and oversize responses fail with one error") {
  FakeClock clock;
  ClientLimits limits;
  limits.parser.max_header_bytes = 256;
  limits.parser.max_header_count = 4;
  struct Case {
    std::string response;
    absl::StatusCode code;
    std::string_view message;
  };
  const Case cases[] = {
      {"HTTP/1.1 2OO OK\r\n\r\n", absl::StatusCode::kInternal, "malformed"},
      {"SSH-2.0-OpenSSH_9.2\r\n", absl::StatusCode::kInternal, "malformed"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       absl::StatusCode::kInternal, "malformed"},
      {"HTTP/1.1 200 OK\r\nX-Big: " + std::string(300, 'a') + "\r\n\r\n",
       absl::StatusCode::kResourceExhausted, "431"},
      {"HTTP/1.1 200 OK\r\na: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\ne: 1\r\n\r\n",
       absl::StatusCode::kResourceExhausted, "fields"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", absl::StatusCode::kInternal,
       "malformed"},
  };
  for (const Case& k : cases) {
    INFO(k.response);
    ClientConnection c(&clock, limits);
    Recorder r;
    REQUIRE(c.Send(Get(), "h", &r));
    Feed(c, k.response);
    Feed(c, "more bytes after the error");
    c.ReceiveEof();
    c.Abort();
    CHECK(r.endings == 1);
    CHECK(r.events.back() == "error");
    CHECK(r.error.code() == k.code);
    CHECK(std::string(r.error.message()).find(k.message) != std::string::npos);
    CHECK(c.state() == ClientState::kClosed);
    CHECK(c.WantsClose());
    CHECK(c.PendingOutput().empty());
  }
}

TEST_CASE("ClientConnection: error messages never carry the body") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  REQUIRE(c.Send(Get(), "h", &r));
  Feed(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsecret-token-123");
  c.ReceiveEof();
  REQUIRE(r.endings == 1);
  CHECK(std::string(r.error.message()).find("secret") == std::string::npos);
}

TEST_CASE("ClientConnection: EOF before or inside a response is an error") {
  FakeClock clock;
  struct Case {
    std::string_view received;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {"", absl::StatusCode::kUnavailable},
      {"HTTP/1.1 200 OK\r\nContent-Le", absl::StatusCode::kDataLoss},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123", absl::StatusCode::kDataLoss},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
       absl::StatusCode::kDataLoss},
  };
  for (const Case& k : cases) {
    INFO(k.received);
    ClientConnection c(&clock);
    Recorder r;
    REQUIRE(c.Send(Get(), "h", &r));
    Feed(c, k.received);
    c.ReceiveEof();
    c.ReceiveEof();
    CHECK(r.endings == 1);
    CHECK(r.events.back() == "error");
    CHECK(r.error.code() == k.code);
    CHECK(c.state() == ClientState::kClosed);
  }
}

TEST_CASE("ClientConnection: EOF while idle closes quietly") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  REQUIRE(c.Send(Get(), "h", &r));
  Feed(c, kOk);
  c.ReceiveEof();
  CHECK(r.endings == 1);
  CHECK(r.error.ok());
  CHECK(c.state() == ClientState::kClosed);
}

TEST_CASE("ClientConnection: Abort reports one error and goes quiet") {
  FakeClock clock;
  ClientConnection c(&clock);
  Recorder r;
  REQUIRE(c.Send(Get(), "h", &r));
  Feed(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01");
  c.Abort();
  c.Abort();
  Feed(c, "23456789");
  c.ReceiveEof();
  c.HandleExpiry(clock.Now() + 1h);
  CHECK(r.events == std::vector<std::string>{"head", "body", "error"});
  CHECK(r.error.code() == absl::StatusCode::kUnavailable);
  CHECK(c.state() == ClientState::kClosed);
  CHECK_FALSE(c.NextExpiry().has_value());
}

TEST_CASE("ClientConnection: response timeout, from Send to the head") {
  FakeClock clock;
  ClientLimits limits;
  limits.response_timeout = 5s;
  ClientConnection c(&clock, limits);
  Recorder r;
  clock.Advance(100s);  // idle time before the request does not count
  REQUIRE(c.Send(Get(), "h", &r));
  Drain(c);
  REQUIRE(c.NextExpiry() == clock.Now() + 5s);
  clock.Advance(4s);
  c.HandleExpiry(clock.Now());
  CHECK(r.endings == 0);
  Feed(c, "HTTP/1.1 200 OK\r\n");  // part of a head does not stop the clock
  clock.Advance(1s);
  c.HandleExpiry(clock.Now());
  CHECK(r.endings == 1);
  CHECK(r.error.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(r.error.message()).find("response timeout") != std::string::npos);
  CHECK(c.WantsClose());
}

TEST_CASE("ClientConnection: body idle timeout, only when set") {
  FakeClock clock;
  const bool enabled = GENERATE(false, true);
  ClientLimits limits;
  limits.body_idle_timeout = enabled ? Duration(10s) : Duration(0);
  limits.send_timeout = 0s;
  ClientConnection c(&clock, limits);
  Recorder r;
  REQUIRE(c.Send(Get(), "h", &r));
  Feed(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(c.NextExpiry().has_value() == enabled);
  clock.Advance(8s);
  Feed(c, "1\r\na\r\n");  // a byte of body restarts the clock
  clock.Advance(8s);
  c.HandleExpiry(clock.Now());
  CHECK(r.endings == 0);
  clock.Advance(2s);
  c.HandleExpiry(clock.Now());
  if (enabled) {
    CHECK(r.endings == 1);
    CHECK(r.error.code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(c.state() == ClientState::kClosed);
  } else {
    clock.Advance(24h);
    c.HandleExpiry(clock.Now());
    CHECK(r.endings == 0);
    CHECK(c.state() == ClientState::kReadingBody);
  }
}

TEST_CASE("ClientConnection: idle timeout closes a kept-alive connection quietly") {
  FakeClock clock;
  ClientLimits limits;
  limits.idle_timeout = 30s;
  ClientConnection c(&clock, limits);
  Recorder r;
  REQUIRE(c.Send(Get(), "h", &r));
  Drain(c);
  clock.Advance(20s);
  Feed(c, kOk);
  REQUIRE(c.state() == ClientState::kIdle);
  CHECK(c.NextExpiry() == clock.Now() + 30s);
  clock.Advance(29s);
  c.HandleExpiry(clock.Now());
  CHECK_FALSE(c.WantsClose());
  clock.Advance(1s);
  c.HandleExpiry(clock.Now());
  CHECK(c.WantsClose());
  CHECK(r.events.back() == "complete");
  CHECK(r.endings == 1);
}

TEST_CASE("ClientConnection: send timeout when the server takes no bytes") {
  FakeClock clock;
  ClientLimits limits;
  limits.send_timeout = 10s;
  limits.response_timeout = 60s;
  ClientConnection c(&clock, limits);
  Recorder r;
  Request post;
  post.method = "POST";
  post.body = std::string(1000, 'x');
  REQUIRE(c.Send(post, "h", &r));
  CHECK(c.NextExpiry() == clock.Now() + 10s);
  clock.Advance(8s);
  c.ConsumeOutput(100);  // progress restarts the clock
  CHECK(c.NextExpiry() == clock.Now() + 10s);
  clock.Advance(9s);
  c.HandleExpiry(clock.Now());
  CHECK(r.endings == 0);
  clock.Advance(1s);
  c.HandleExpiry(clock.Now());
  CHECK(r.endings == 1);
  CHECK(r.error.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(r.error.message()).find("send timeout") != std::string::npos);
  CHECK(c.PendingOutput().empty());
}

TEST_CASE("BufferingResponseHandler collects the whole response once") {
  FakeClock clock;
  ClientConnection c(&clock);
  int calls = 0;
  absl::StatusOr<Response> got;
  BufferingResponseHandler h([&](absl::StatusOr<Response> r) {
    ++calls;
    got = std::move(r);
  });
  REQUIRE(c.Send(Get(), "h", &h));
  FeedByteByByte(c, kChunked);
  CHECK(h.done());
  REQUIRE(calls == 1);
  REQUIRE(got.ok());
  CHECK(got->status == 200);
  CHECK(got->body == "hello world!");
  CHECK(got->headers.Get("Transfer-Encoding") == "chunked");
}

TEST_CASE("BufferingResponseHandler refuses a body over its limit") {
  FakeClock clock;
  const bool declared = GENERATE(false, true);
  INFO((declared ? "Content-Length" : "chunked"));
  ClientConnection c(&clock);
  int calls = 0;
  absl::Status status;
  BufferingResponseHandler h(
      [&](absl::StatusOr<Response> r) {
        ++calls;
        status = r.status();
      },
      8);
  REQUIRE(c.Send(Get(), "h", &h));
  if (declared) {
    Feed(c, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n");
    CHECK(calls == 1);  // refused on the head, before any body byte
    Feed(c, "123456789");
  } else {
    Feed(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n1234\r\n4\r\n5678\r\n");
    CHECK(calls == 0);  // exactly at the limit is fine
    Feed(c, "1\r\n9\r\n0\r\n\r\n");
  }
  CHECK(calls == 1);
  CHECK(status.code() == absl::StatusCode::kResourceExhausted);
  CHECK(h.done());
}

TEST_CASE("BufferingResponseHandler reports connection errors") {
  FakeClock clock;
  ClientConnection c(&clock);
  int calls = 0;
  absl::Status status;
  BufferingResponseHandler h([&](absl::StatusOr<Response> r) {
    ++calls;
    status = r.status();
  });
  REQUIRE(c.Send(Get(), "h", &h));
  Feed(c, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n1234");
  c.ReceiveEof();
  CHECK(calls == 1);
  CHECK(status.code() == absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace meshvpn::http
