// ServerConnection driven with byte strings and a FakeClock: keep-alive, pipelining in order,
// streaming, Upgrade, limits (431, 414, 413, 400), timeouts (slowloris, idle, body, send), 100
// Continue, HEAD, HTTP/1.0, graceful shutdown and dropped writers.
#include "meshvpn/http/server_connection.h"

#include <catch2/catch.hpp>
#include <deque>
#include <string>
#include <vector>

#include "meshvpn/http/chunked.h"
#include "meshvpn/http/response_parser.h"

namespace meshvpn::http {
namespace {

using std::chrono::seconds;

// Keeps every request and its writer; answers at once when `auto_reply` is set.
class RecordingHandler final : public RequestHandler {
 public:
  void OnRequest(Request& request, ResponseWriter writer) override {
    requests.push_back(request);
    if (auto_reply) {
      writer.Send(Response::Text(kStatusOk, "hello " + request.path));
    } else {
      writers.push_back(std::move(writer));
    }
  }
  bool auto_reply = true;
  std::vector<Request> requests;
  std::deque<ResponseWriter> writers;
};

// Parses what the server sent, as a client would.
class ParsedResponses final : public ResponseParserSink {
 public:
  ParsedResponses() : parser_(ParserLimits{.max_body_bytes = 1 << 30}, this) {}
  void OnResponseHead(ResponseHead&& head) override { heads.push_back(std::move(head)); }
  void OnResponseBody(std::string_view data) override { bodies.back().append(data); }
  void OnResponseComplete() override { ++complete; }

  // Feeds `bytes`; false on a parse error.
  bool Feed(std::string_view bytes) {
    while (!bytes.empty()) {
      bodies.emplace_back();
      const ParseResult r = parser_.Parse(bytes);
      bytes.remove_prefix(r.consumed);
      if (r.event == ParseEvent::kError) return false;
      if (r.event == ParseEvent::kNeedMore) {
        pending_body_ = true;
        return true;
      }
      parser_.Resume();
    }
    return true;
  }
  std::vector<ResponseHead> heads;
  std::vector<std::string> bodies;
  int complete = 0;

 private:
  ResponseParser parser_;
  bool pending_body_ = false;
};

struct Fixture {
  explicit Fixture(ServerLimits limits = {}) : conn(&clock, &handler, limits, &stats) {}

  void Send(std::string_view bytes) { conn.Receive(AsBytes(bytes)); }
  // Takes everything the server has to send.
  std::string Drain() {
    std::string out(conn.PendingOutput());
    conn.ConsumeOutput(out.size());
    return out;
  }
  void Advance(Duration d) {
    clock.Advance(d);
    conn.HandleExpiry(clock.Now());
  }

  FakeClock clock;
  RecordingHandler handler;
  ServerStats stats;
  ServerConnection conn;
};

bool StartsWith(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }
bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

TEST_CASE("a GET is answered with Content-Length and the connection stays open") {
  Fixture f;
  f.Send("GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Long:  spaced value \r\n\r\n");
  REQUIRE(f.handler.requests.size() == 1);
  const Request& r = f.handler.requests[0];
  CHECK(r.method == "GET");
  CHECK(r.path == "/a");
  CHECK(r.query == "x=1");
  CHECK(r.headers.Get("x-long") == "spaced value");
  const std::string out = f.Drain();
  CHECK(StartsWith(out, "HTTP/1.1 200 OK\r\n"));
  CHECK(Contains(out, "Content-Length: 8\r\n"));
  CHECK(out.ends_with("\r\n\r\nhello /a"));
  CHECK_FALSE(Contains(out, "Connection: close"));
  CHECK(f.conn.state() == ServerState::kIdle);
  CHECK_FALSE(f.conn.WantsClose());
  CHECK(f.stats.requests == 1);
  CHECK(f.stats.responses == 1);
}

TEST_CASE("pipelined requests are answered strictly in order, one at a time") {
  Fixture f;
  f.handler.auto_reply = false;
  f.Send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\n");
  REQUIRE(f.handler.requests.size() == 1);  // /2 waits until /1 is answered
  CHECK(f.conn.state() == ServerState::kResponding);
  CHECK(f.Drain().empty());
  f.Send("Host: h\r\n\r\n");
  CHECK(f.handler.requests.size() == 1);
  ResponseWriter first = std::move(f.handler.writers.front());
  f.handler.writers.pop_front();
  REQUIRE(first.Send(Response::Text(kStatusOk, "one")));
  REQUIRE(f.handler.requests.size() == 2);
  CHECK(f.handler.requests[1].path == "/2");
  f.handler.writers.front().Send(Response::Text(kStatusOk, "two"));
  f.handler.writers.pop_front();
  REQUIRE(f.handler.requests.size() == 3);
  f.handler.writers.front().Send(Response::Text(kStatusOk, "three"));
  ParsedResponses parsed;
  REQUIRE(parsed.Feed(f.Drain()));
  REQUIRE(parsed.complete == 3);
  CHECK(parsed.bodies[0] == "one");
  CHECK(parsed.bodies[1] == "two");
  CHECK(parsed.bodies[2] == "three");
  CHECK(f.stats.pipelined >= 1);
  CHECK_FALSE(first.open());  // a finished writer refuses more
  CHECK_FALSE(first.Send(Response::Text(kStatusOk, "again")));
}

TEST_CASE("input waiting behind a response is bounded: WantsRead turns false at the bound") {
  ServerLimits limits;
  limits.max_buffered_input = 1024;
  Fixture f(limits);
  f.handler.auto_reply = false;
  f.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(f.conn.WantsRead());
  f.Send(std::string(2000, 'G'));
  CHECK_FALSE(f.conn.WantsRead());
  CHECK(f.conn.buffered_input() == 2000);
  // A transport that ignores WantsRead is cut off rather than buffering without end.
  f.Send(std::string(128 * 1024, 'G'));
  CHECK(f.conn.WantsClose());
}

TEST_CASE("pipelined requests from a peer that does not read are held back at the output bound") {
  ServerLimits limits;
  limits.max_buffered_output = 256;
  Fixture f(limits);
  std::string many;
  for (int i = 0; i < 600; ++i) many += "GET / HTTP/1.1\r\n\r\n";
  f.Send(many.substr(0, 4000));
  // One response (about 60 bytes) past the bound at most, and no reading meanwhile.
  CHECK(f.conn.buffered_output() < 256 + 128);
  CHECK_FALSE(f.conn.WantsRead());
  const uint64_t answered = f.stats.responses;
  CHECK(answered < 10);
  // The peer reads: the rest is answered as room appears.
  ParsedResponses parsed;
  size_t sent = 4000;
  while (parsed.complete < 600) {
    REQUIRE(parsed.Feed(f.Drain()));
    if (sent < many.size() && f.conn.WantsRead()) {
      const size_t n = std::min<size_t>(4000, many.size() - sent);
      f.Send(std::string_view(many).substr(sent, n));
      sent += n;
    }
    CHECK(f.conn.buffered_output() < 256 + 128);
    if (f.conn.PendingOutput().empty() && sent == many.size() && parsed.complete < 600) {
      FAIL("stalled at " << parsed.complete << " responses");
    }
  }
  CHECK(f.stats.responses == 600);
}

TEST_CASE("a chunked request body is decoded; a streamed response is chunked with trailers") {
  Fixture f;
  f.handler.auto_reply = false;
  const std::string request =
      "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (char c : request) f.Send(std::string_view(&c, 1));  // one byte at a time
  REQUIRE(f.handler.requests.size() == 1);
  CHECK(f.handler.requests[0].body == "hello world");
  CHECK_FALSE(f.handler.requests[0].headers.Has("X-Trailer"));  // trailers are not headers
  ResponseWriter& w = f.handler.writers.front();
  REQUIRE(w.StartStream(kStatusOk, {{"Content-Type", "text/event-stream"}}));
  CHECK(f.conn.state() == ServerState::kResponding);
  REQUIRE(w.Write("data: 1\n\n"));
  REQUIRE(w.Write(""));  // nothing: an empty chunk would end the body
  REQUIRE(w.Write("data: 2\n\n"));
  REQUIRE(w.End({{"X-Count", "2"}}));
  const std::string out = f.Drain();
  CHECK(Contains(out, "Transfer-Encoding: chunked\r\n"));
  CHECK(Contains(out, "\r\n9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\nX-Count: 2\r\n\r\n"));
  ParsedResponses parsed;
  REQUIRE(parsed.Feed(out));
  REQUIRE(parsed.complete == 1);
  CHECK(parsed.bodies[0] == "data: 1\n\ndata: 2\n\n");
  CHECK(f.conn.state() == ServerState::kIdle);
}

TEST_CASE("a streaming Write past the output bound is refused until the peer reads") {
  ServerLimits limits;
  limits.max_buffered_output = 4096;
  Fixture f(limits);
  f.handler.auto_reply = false;
  f.Send("GET /events HTTP/1.1\r\nHost: h\r\n\r\n");
  struct Observer : StreamObserver {
    void OnWritable() override { ++writable; }
    int writable = 0;
  } observer;
  ResponseWriter& w = f.handler.writers.front();
  w.set_observer(&observer);
  REQUIRE(w.StartStream(kStatusOk, {}));
  const std::string piece(1000, 'x');
  int accepted = 0;
  while (w.Write(piece)) ++accepted;
  // The head plus 4 chunks of 1007 framed bytes fit in 4096; a fifth would not.
  CHECK(accepted == 4);
  CHECK(f.conn.buffered_output() <= 4096);
  CHECK(f.conn.buffered_output() + ChunkOverhead(1000) + 1000 > 4096);
  CHECK(f.stats.writes_refused == 1);
  CHECK(observer.writable == 0);
  f.Drain();
  CHECK(observer.writable == 1);
  CHECK(w.Write(piece));
}

TEST_CASE("oversized heads, targets and bodies get 431, 414 and 413, then close") {
  SECTION("header bytes") {
    Fixture f;
    f.Send("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    CHECK(StartsWith(f.Drain(), "HTTP/1.1 431 "));
    CHECK(f.stats.header_too_large == 1);
    CHECK(f.conn.WantsClose());
  }
  SECTION("header count") {
    Fixture f;
    std::string req = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 101; ++i) req += "X-" + std::to_string(i) + ": v\r\n";
    f.Send(req + "\r\n");
    CHECK(StartsWith(f.Drain(), "HTTP/1.1 431 "));
  }
  SECTION("target") {
    Fixture f;
    f.Send("GET /" + std::string(9000, 'p') + " HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(StartsWith(f.Drain(), "HTTP/1.1 414 "));
    CHECK(f.stats.target_too_long == 1);
  }
  SECTION("declared body") {
    Fixture f;
    f.Send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n");
    const std::string out = f.Drain();
    CHECK(StartsWith(out, "HTTP/1.1 413 "));
    CHECK(Contains(out, "Connection: close\r\n"));
    CHECK(f.handler.requests.empty());
    CHECK(f.conn.WantsClose());
  }
  SECTION("chunked body with no declared size") {
    ServerLimits limits;
    limits.parser.max_body_bytes = 100;
    Fixture f(limits);
    f.Send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 20; ++i) f.Send("a\r\n0123456789\r\n");
    CHECK(StartsWith(f.Drain(), "HTTP/1.1 413 "));
    CHECK(f.stats.body_too_large == 1);
  }
  SECTION("malformed") {
    Fixture f;
    f.Send("GET / HTTP/1.1\r\nBad Header\r\n\r\n");
    CHECK(StartsWith(f.Drain(), "HTTP/1.1 400 "));
    CHECK(f.stats.bad_requests == 1);
    f.Send("GET / HTTP/1.1\r\n\r\n");  // after the error nothing is parsed
    CHECK(f.conn.discarded_input() > 0);
    CHECK(f.handler.requests.empty());
  }
}

TEST_CASE("slowloris: a head that never ends gets 408 at header_timeout") {
  Fixture f;
  f.Send("GET / HTTP/1.1\r\nHost: h\r\n");
  CHECK(f.conn.state() == ServerState::kReadingHead);
  REQUIRE(f.conn.NextExpiry().has_value());
  CHECK(*f.conn.NextExpiry() == f.clock.Now() + kDefaultHeaderTimeout);
  f.Advance(seconds(5));
  f.Send("X-A: 1\r\n");  // trickling bytes does not extend the deadline
  f.Advance(seconds(4));
  CHECK_FALSE(f.conn.WantsClose());
  f.Advance(seconds(1));
  CHECK(StartsWith(f.Drain(), "HTTP/1.1 408 "));
  CHECK(f.conn.WantsClose());
  CHECK(f.stats.header_timeouts == 1);
}

TEST_CASE("a connection that never sends a byte is closed silently at header_timeout") {
  Fixture f;
  f.Advance(kDefaultHeaderTimeout - seconds(1));
  CHECK_FALSE(f.conn.WantsClose());
  f.Advance(seconds(1));
  CHECK(f.conn.WantsClose());
  CHECK(f.Drain().empty());
  CHECK(f.stats.header_timeouts == 1);
}

TEST_CASE("idle and body timeouts") {
  SECTION("a kept-alive connection closes after idle_timeout") {
    Fixture f;
    f.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    f.Drain();
    f.Advance(kDefaultIdleTimeout - seconds(1));
    CHECK_FALSE(f.conn.WantsClose());
    f.Advance(seconds(1));
    CHECK(f.conn.WantsClose());
    CHECK(f.stats.idle_timeouts == 1);
  }
  SECTION("a body that stops arriving gets 408 at body_timeout") {
    Fixture f;
    f.Send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(f.conn.state() == ServerState::kReadingBody);
    f.Advance(kDefaultBodyTimeout);
    CHECK(StartsWith(f.Drain(), "HTTP/1.1 408 "));
    CHECK(f.stats.body_timeouts == 1);
  }
}

TEST_CASE("a peer that stops reading is cut off at send_timeout and the stream hears it") {
  Fixture f;
  f.handler.auto_reply = false;
  f.Send("GET /events HTTP/1.1\r\nHost: h\r\n\r\n");
  struct Observer : StreamObserver {
    void OnClosed() override { closed = true; }
    bool closed = false;
  } observer;
  ResponseWriter& w = f.handler.writers.front();
  w.set_observer(&observer);
  w.StartStream(kStatusOk, {});
  w.Write("x");
  f.Advance(kDefaultSendTimeout - seconds(1));
  f.conn.ConsumeOutput(10);  // some progress resets the timer
  f.Advance(kDefaultSendTimeout - seconds(1));
  CHECK_FALSE(observer.closed);
  f.Advance(seconds(1));
  CHECK(observer.closed);
  CHECK(f.conn.state() == ServerState::kClosed);
  CHECK(f.conn.WantsClose());
  CHECK_FALSE(w.open());
  CHECK(f.stats.send_timeouts == 1);
}

TEST_CASE("Expect: 100-continue gets an interim response before the body") {
  Fixture f;
  f.Send("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  CHECK(f.Drain() == "HTTP/1.1 100 Continue\r\n\r\n");
  f.Send("abc");
  REQUIRE(f.handler.requests.size() == 1);
  CHECK(f.handler.requests[0].body == "abc");
  CHECK(StartsWith(f.Drain(), "HTTP/1.1 200 OK\r\n"));
}

TEST_CASE("HEAD gets the head with the body's length and no body") {
  Fixture f;
  f.Send("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nGET /g HTTP/1.1\r\nHost: h\r\n\r\n");
  const std::string out = f.Drain();
  const size_t second = out.find("HTTP/1.1 200", 1);
  REQUIRE(second != std::string::npos);
  const std::string first = out.substr(0, second);
  CHECK(Contains(first, "Content-Length: 8\r\n"));
  CHECK(first.ends_with("\r\n\r\n"));
  CHECK(out.ends_with("hello /g"));
}

TEST_CASE("HTTP/1.0: close unless keep-alive is asked; streams end by closing") {
  SECTION("plain 1.0 closes") {
    Fixture f;
    f.Send("GET / HTTP/1.0\r\n\r\n");
    CHECK(Contains(f.Drain(), "Connection: close\r\n"));
    CHECK(f.conn.WantsClose());
  }
  SECTION("1.0 with keep-alive stays") {
    Fixture f;
    f.Send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK(Contains(f.Drain(), "Connection: keep-alive\r\n"));
    CHECK_FALSE(f.conn.WantsClose());
  }
  SECTION("a stream to a 1.0 peer has no chunking and ends with the connection") {
    Fixture f;
    f.handler.auto_reply = false;
    f.Send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ResponseWriter& w = f.handler.writers.front();
    w.StartStream(kStatusOk, {});
    w.Write("abc");
    w.End();
    const std::string out = f.Drain();
    CHECK_FALSE(Contains(out, "chunked"));
    CHECK(out.ends_with("\r\n\r\nabc"));
    CHECK(f.conn.WantsClose());
  }
}

// An upgraded stream's handler that records bytes and can echo them.
class EchoStream final : public StreamHandler {
 public:
  void OnStreamData(ByteSpan data) override {
    received.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (echo) stream.Write(data);
  }
  void OnStreamClosed() override { closed = true; }
  void OnStreamWritable() override { ++writable; }
  UpgradedStream stream;
  std::string received;
  bool echo = false;
  bool closed = false;
  int writable = 0;
};

TEST_CASE("Upgrade hands the raw connection over, early bytes included") {
  ServerLimits limits;
  limits.max_buffered_output = 2048;
  Fixture f(limits);
  f.handler.auto_reply = false;
  f.Send("GET /derp HTTP/1.1\r\nHost: h\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\nEARLY");
  REQUIRE(f.handler.requests.size() == 1);
  CHECK(f.handler.requests[0].upgrade);
  EchoStream echo;
  std::string buffered;
  echo.stream = f.handler.writers.front().AcceptUpgrade({{"Upgrade", "DERP"}}, &echo, &buffered);
  REQUIRE(echo.stream.alive());
  CHECK(buffered == "EARLY");
  CHECK(f.conn.state() == ServerState::kUpgraded);
  const std::string head = f.Drain();
  CHECK(StartsWith(head, "HTTP/1.1 101 Switching Protocols\r\n"));
  CHECK(Contains(head, "Upgrade: DERP\r\n"));
  CHECK(Contains(head, "Connection: Upgrade\r\n"));
  CHECK_FALSE(Contains(head, "Content-Length"));
  CHECK(f.stats.upgrades == 1);

  echo.echo = true;
  f.Send("GET / HTTP/1.1\r\n\r\n");  // not HTTP any more: just bytes
  CHECK(echo.received == "GET / HTTP/1.1\r\n\r\n");
  CHECK(f.Drain() == "GET / HTTP/1.1\r\n\r\n");
  CHECK(f.handler.requests.size() == 1);

  echo.echo = false;
  const std::string block(1500, 'b');
  CHECK(echo.stream.Write(AsBytes(block)));
  CHECK_FALSE(echo.stream.Write(AsBytes(block)));  // over the 2048 bound
  f.Drain();
  CHECK(echo.writable == 1);

  f.conn.ReceiveEof();
  CHECK(echo.closed);
  CHECK_FALSE(echo.stream.alive());
  CHECK(f.conn.WantsClose());
}

TEST_CASE("Upgrade without a buffer delivers the early bytes to the handler") {
  Fixture f;
  f.handler.auto_reply = false;
  f.Send(
      "GET /ts2021 HTTP/1.1\r\nHost: h\r\nUpgrade: tailscale-control-protocol\r\n"
      "Connection: upgrade\r\n\r\nhello");
  EchoStream echo;
  echo.stream = f.handler.writers.front().AcceptUpgrade({{"Upgrade", "tailscale-control-protocol"}},
                                                        &echo, nullptr);
  CHECK(echo.received == "hello");
  echo.stream.Close();
  CHECK(f.conn.state() == ServerState::kClosing);
  f.Drain();
  CHECK(f.conn.WantsClose());
  CHECK_FALSE(echo.closed);  // Close() is the caller's: no callback
}

TEST_CASE("an upgrade the handler refuses leaves the connection speaking HTTP") {
  Fixture f;
  f.Send("GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
  CHECK(StartsWith(f.Drain(), "HTTP/1.1 200 OK"));
  f.Send("GET /y HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(f.handler.requests.size() == 2);
  CHECK(f.handler.requests[1].path == "/y");
  // AcceptUpgrade on a request that did not ask for one is refused.
  f.handler.auto_reply = false;
  f.Send("GET /z HTTP/1.1\r\nHost: h\r\n\r\n");
  EchoStream echo;
  CHECK_FALSE(f.handler.writers.front().AcceptUpgrade({}, &echo, nullptr).alive());
}

TEST_CASE("a writer dropped unanswered sends 500; dropped mid-stream it truncates and closes") {
  SECTION("unanswered") {
    Fixture f;
    f.handler.auto_reply = false;
    f.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    f.handler.writers.clear();
    CHECK(StartsWith(f.Drain(), "HTTP/1.1 500 "));
    CHECK(f.stats.handler_dropped == 1);
    CHECK(f.conn.state() == ServerState::kIdle);
  }
  SECTION("mid-stream") {
    Fixture f;
    f.handler.auto_reply = false;
    f.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    f.handler.writers.front().StartStream(kStatusOk, {});
    f.handler.writers.front().Write("partial");
    f.handler.writers.clear();
    const std::string out = f.Drain();
    CHECK_FALSE(Contains(out, "0\r\n\r\n"));
    CHECK(f.conn.WantsClose());
  }
}

TEST_CASE("header fields a handler sets are checked: no response splitting, no framing") {
  class Splitter final : public RequestHandler {
   public:
    void OnRequest(Request&, ResponseWriter writer) override {
      Response r = Response::Text(kStatusOk, "ok");
      r.headers.Add("X-Evil", "a\r\nSet-Cookie: stolen");
      r.headers.Add("Bad Name", "v");
      r.headers.Add("Content-Length", "999");
      r.headers.Add("X-Fine", "yes");
      writer.Send(std::move(r));
    }
  } splitter;
  FakeClock clock;
  ServerStats stats;
  ServerConnection conn(&clock, &splitter, {}, &stats);
  conn.Receive(AsBytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  const std::string out(conn.PendingOutput());
  CHECK_FALSE(Contains(out, "Set-Cookie"));
  CHECK_FALSE(Contains(out, "Bad Name"));
  CHECK_FALSE(Contains(out, "999"));
  CHECK(Contains(out, "Content-Length: 2\r\n"));
  CHECK(Contains(out, "X-Fine: yes\r\n"));
  CHECK(stats.invalid_fields == 2);
}

TEST_CASE("graceful shutdown: idle closes now, a request being read is answered with close") {
  SECTION("idle") {
    Fixture f;
    f.conn.Shutdown();
    CHECK(f.conn.WantsClose());
  }
  SECTION("reading") {
    Fixture f;
    f.Send("GET / HTTP/1.1\r\nHost: h\r\n");
    f.conn.Shutdown();
    CHECK_FALSE(f.conn.WantsClose());
    f.Send("\r\n");
    CHECK(Contains(f.Drain(), "Connection: close\r\n"));
    CHECK(f.conn.WantsClose());
  }
  SECTION("a stream hears OnShutdown and finishes") {
    Fixture f;
    f.handler.auto_reply = false;
    f.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    struct Observer : StreamObserver {
      void OnShutdown() override { told = true; }
      bool told = false;
    } observer;
    ResponseWriter& w = f.handler.writers.front();
    w.set_observer(&observer);
    w.StartStream(kStatusOk, {});
    f.conn.Shutdown();
    CHECK(observer.told);
    w.End();
    f.Drain();
    CHECK(f.conn.WantsClose());
  }
}

TEST_CASE("the peer's half-close: pipelined requests already sent are still answered") {
  Fixture f;
  f.Send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
  f.conn.ReceiveEof();
  ParsedResponses parsed;
  REQUIRE(parsed.Feed(f.Drain()));
  CHECK(parsed.complete == 2);
  CHECK(f.conn.WantsClose());
}

TEST_CASE("EOF in the middle of a request closes without an answer") {
  Fixture f;
  f.Send("GET / HTTP/1.1\r\nHo");
  f.conn.ReceiveEof();
  CHECK(f.conn.WantsClose());
  CHECK(f.Drain().empty());
  CHECK(f.handler.requests.empty());
}

TEST_CASE("Abort tells a live stream and an upgraded handler") {
  Fixture f;
  f.handler.auto_reply = false;
  f.Send("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n");
  EchoStream echo;
  echo.stream = f.handler.writers.front().AcceptUpgrade({{"Upgrade", "x"}}, &echo, nullptr);
  f.conn.Abort();
  CHECK(echo.closed);
  CHECK_FALSE(echo.stream.alive());
  CHECK(f.conn.state() == ServerState::kClosed);
}

TEST_CASE("a writer outliving its connection is inert") {
  RecordingHandler handler;
  handler.auto_reply = false;
  FakeClock clock;
  ResponseWriter kept;
  {
    ServerConnection conn(&clock, &handler);
    conn.Receive(AsBytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    kept = std::move(handler.writers.front());
    handler.writers.clear();
    CHECK(kept.open());
  }
  CHECK_FALSE(kept.open());
  CHECK_FALSE(kept.Send(Response::Text(kStatusOk, "late")));
}

}  // namespace
}  // namespace meshvpn::http
