// Fuzzes the HTTP/1.1 server core (ServerConnection over RequestParser) the way a transport and
// an application drive it: request bytes arrive in pieces of the fuzzer's choosing, the handler
// answers some requests at once, streams some, holds some for later, accepts upgrades on some and
// drops some writers, the peer reads some output, the FakeClock jumps and timers fire, the peer
// half-closes. Aborts when an invariant breaks:
//   * buffered_output() <= max_buffered_output + the largest whole response the handler sends
//     (whole responses are not refused; streamed and upgraded writes are, so after one is taken
//     the output is within max_buffered_output);
//   * buffered_input() <= max_buffered_input + 64 KiB (one read past the bound);
//   * never more responses than requests, and every request reaches the handler once;
//   * the state is a valid ServerState, and once closing it never goes back;
//   * after ReceiveEof, answering what is held, draining the output and letting the timers run,
//     WantsClose() becomes true.
//
// Input layout: [4 config bytes][2 bytes LE: D][D decision bytes][the bytes the peer sends].
// Decisions (a script of operations, and the handler's choices) are read in order; when they
// run out every choice takes its default (feed the rest, answer at once). corpus/gen_corpus.py
// writes the seeds.
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "meshvpn/base/clock.h"
#include "meshvpn/http/server_connection.h"

namespace {

using meshvpn::AsBytes;
using meshvpn::ByteSpan;
using meshvpn::FakeClock;
using meshvpn::MonoTime;
using namespace meshvpn::http;  // NOLINT: the fuzzer drives most of the library's types

void Check(bool condition) {
  if (!condition) std::abort();
}

// Reads the fuzzer's input: the decision script and the peer's bytes.
class Input {
 public:
  Input(const uint8_t* data, size_t size) {
    size_t pos = 0;
    for (uint8_t& b : config_) b = pos < size ? data[pos++] : 0;
    size_t decisions = 0;
    if (pos + 2 <= size) {
      decisions = data[pos] | (static_cast<size_t>(data[pos + 1]) << 8);
      pos += 2;
    } else {
      pos = size;
    }
    decisions = std::min(decisions, size - pos);
    decisions_ = std::string_view(reinterpret_cast<const char*>(data + pos), decisions);
    pos += decisions;
    stream_ = std::string_view(reinterpret_cast<const char*>(data + pos), size - pos);
  }

  uint8_t config(size_t i) const { return config_[i]; }
  bool decisions_left() const { return !decisions_.empty(); }
  // The next decision byte, or `fallback` once the script is over.
  uint8_t Next(uint8_t fallback = 0) {
    if (decisions_.empty()) return fallback;
    const uint8_t b = static_cast<uint8_t>(decisions_.front());
    decisions_.remove_prefix(1);
    return b;
  }
  std::string_view TakeStream(size_t n) {
    const std::string_view piece = stream_.substr(0, n);
    stream_.remove_prefix(piece.size());
    return piece;
  }
  bool stream_left() const { return !stream_.empty(); }
  size_t stream_size() const { return stream_.size(); }

 private:
  uint8_t config_[4] = {};
  std::string_view decisions_;
  std::string_view stream_;
};

// The largest body the handler sends whole; the output bound allows one such response (plus its
// head and an error response) past max_buffered_output.
constexpr size_t kMaxWholeBody = 8 * 1024;
constexpr size_t kHeadSlack = 1024;
constexpr size_t kInputSlack = 64 * 1024;  // one transport read past max_buffered_input
constexpr size_t kMaxRead = 64 * 1024;     // UvConnection's read buffer

ServerLimits MakeLimits(const Input& in) {
  ServerLimits limits;
  static constexpr size_t kInputs[] = {64, 512, 4096, kDefaultMaxBufferedInput};
  static constexpr size_t kOutputs[] = {256, 2048, 16384, kDefaultMaxBufferedOutput};
  static constexpr size_t kHeads[] = {128, 1024, 4096, kDefaultMaxHeaderBytes};
  static constexpr size_t kBodies[] = {0, 16, 1024, kDefaultMaxRequestBodyBytes};
  const uint8_t a = in.config(0), b = in.config(1), c = in.config(2);
  limits.max_buffered_input = kInputs[a & 3];
  limits.max_buffered_output = kOutputs[(a >> 2) & 3];
  limits.parser.max_header_bytes = kHeads[(a >> 4) & 3];
  limits.parser.max_body_bytes = kBodies[(a >> 6) & 3];
  limits.parser.max_header_count = 1 + (b & 0x7f);
  limits.parser.max_target_bytes = (b & 0x80) ? 64 : kDefaultMaxTargetBytes;
  // Timeouts: 0 (disabled) or 1..15 s, so clock steps of the script cross them.
  auto timeout = [](uint8_t bits) { return std::chrono::seconds(bits & 0xf); };
  limits.header_timeout = timeout(c);
  limits.body_timeout = timeout(c >> 4);
  limits.idle_timeout = timeout(in.config(3));
  limits.send_timeout = timeout(in.config(3) >> 4);
  return limits;
}

class Fuzz;

// An upgraded connection's handler: records, optionally echoes.
class Stream final : public StreamHandler {
 public:
  void OnStreamData(ByteSpan data) override {
    received += data.size();
    if (echo) stream.Write(data);
  }
  void OnStreamClosed() override {
    Check(!closed);  // told once
    closed = true;
  }
  void OnStreamWritable() override { ++writable; }
  UpgradedStream stream;
  size_t received = 0;
  bool echo = false;
  bool closed = false;
  int writable = 0;
};

class Observer final : public StreamObserver {
 public:
  void OnWritable() override { ++writable; }
  void OnShutdown() override { ++shutdown; }
  void OnClosed() override { ++closed; }
  int writable = 0;
  int shutdown = 0;
  int closed = 0;
};

class Fuzz final : public RequestHandler {
 public:
  Fuzz(const uint8_t* data, size_t size)
      : in_(data, size), limits_(MakeLimits(in_)), conn_(&clock_, this, limits_, &stats_) {}

  void Run() {
    CheckInvariants();
    // The script.
    for (int steps = 0; steps < 4096 && (in_.decisions_left() || in_.stream_left()); ++steps) {
      Step(in_.Next(/*fallback: feed*/ 0));
      CheckInvariants();
      if (eof_ && !in_.decisions_left()) break;
    }
    Finish();
  }

  void OnRequest(Request& request, ResponseWriter writer) override {
    ++requests_seen_;
    Check(requests_seen_ == stats_.requests);
    const uint8_t d = in_.Next(/*fallback: answer at once*/ 0);
    switch (d % 8) {
      case 0:
      case 1:
        SendWhole(writer, d);
        break;
      case 2:  // stream a little now, keep the writer
        if (writer.StartStream(kStatusOk, {{"Content-Type", "text/event-stream"}})) {
          writer.Write(std::string(1 + (d >> 3) * 16, 's'));
        }
        Hold(std::move(writer));
        break;
      case 3:  // answer later
        Hold(std::move(writer));
        break;
      case 4:  // dropped unanswered: 500
        break;
      case 5:
        if (request.upgrade) {
          Upgrade(writer, (d & 0x10) != 0);
        } else {
          SendWhole(writer, d);
        }
        break;
      case 6:  // an empty stream
        if (writer.StartStream(kStatusOk, {})) writer.End({{"X-Trailer", "t"}});
        break;
      case 7: {  // statuses without bodies, and bad ones (1xx from a handler becomes 500)
        static constexpr int kStatuses[] = {204, 304, 101, 100, 199, 1000, 404, 999};
        Response r;
        r.status = kStatuses[(d >> 3) & 7];
        r.body = "ignored";
        writer.Send(std::move(r));
        break;
      }
    }
  }

 private:
  void SendWhole(ResponseWriter& writer, uint8_t d) {
    Response r = Response::Text(kStatusOk, std::string((d >> 3) * (kMaxWholeBody / 31), 'b'));
    if (d & 0x80) r.headers.Add("X-Bad", "a\r\nInjected: 1");
    if (writer.Send(std::move(r))) ++answered_;
  }

  void Hold(ResponseWriter writer) {
    if (!writer.open()) return;
    writer.set_observer(&observer_);
    // Old writers are kept a while (a stale one must be refused, not answer a later request);
    // Step trims the list, outside any callback.
    writers_.push_back(std::move(writer));
  }

  void Upgrade(ResponseWriter& writer, bool take_buffered) {
    auto stream = std::make_unique<Stream>();
    std::string buffered;
    Stream* s = stream.get();
    streams_.push_back(std::move(stream));
    s->stream = writer.AcceptUpgrade({{"Upgrade", "fuzz"}}, s, take_buffered ? &buffered : nullptr);
    if (s->stream.alive()) ++answered_;
  }

  // The newest writer (the one the connection is waiting on, if any).
  ResponseWriter* Current() { return writers_.empty() ? nullptr : &writers_.back(); }
  Stream* CurrentStream() {
    for (auto it = streams_.rbegin(); it != streams_.rend(); ++it) {
      if ((*it)->stream.alive()) return it->get();
    }
    return nullptr;
  }

  void Feed(size_t n, bool ignore_wants_read) {
    if (eof_) return;
    if (!conn_.WantsRead() && !ignore_wants_read) return;
    n = std::min(n, kMaxRead);
    const std::string_view piece = in_.TakeStream(n);
    if (piece.empty()) return;
    conn_.Receive(AsBytes(piece));
  }

  void Drain(size_t n) {
    const size_t pending = conn_.PendingOutput().size();
    Check(pending == conn_.buffered_output());
    conn_.ConsumeOutput(std::min(n, pending));
  }

  // Destroying a live writer answers (500) and may dispatch the next pipelined request, whose
  // handler call holds a new writer: take it out of the list before it dies.
  void DropNewestWriter() {
    ResponseWriter dropped = std::move(writers_.back());
    writers_.pop_back();
  }

  void Step(uint8_t op) {
    while (writers_.size() > 4) {
      ResponseWriter old = std::move(writers_.front());
      writers_.pop_front();
    }
    switch (op % 16) {
      case 0:
      case 1:
      case 2:
      case 3: {  // the peer sends: a piece of 1..128 bytes, or up to a whole read
        const uint8_t s = in_.Next(0);
        size_t n;
        if (!in_.decisions_left() && s == 0) {
          n = kMaxRead;  // the script is over: the rest, a read at a time
        } else if (s < 128) {
          n = s + 1;
        } else {
          n = static_cast<size_t>(s - 127) * 512;
        }
        Feed(n, /*ignore_wants_read=*/op == 3 && (s & 1));
        break;
      }
      case 4:
      case 5: {  // the peer reads some output
        const uint8_t s = in_.Next(0xff);
        Drain(s == 0xff ? SIZE_MAX : static_cast<size_t>(s) * 64);
        break;
      }
      case 6: {  // time passes
        const uint8_t s = in_.Next(0);
        clock_.Advance(std::chrono::milliseconds(100) * (1 + s));
        conn_.HandleExpiry(clock_.Now());
        break;
      }
      case 7:  // the timer fires exactly when asked
        if (const auto at = conn_.NextExpiry(); at) {
          Check(*at >= clock_.Now() - std::chrono::hours(1));
          if (*at > clock_.Now()) clock_.Advance(*at - clock_.Now());
          conn_.HandleExpiry(clock_.Now());
        }
        break;
      case 8:
      case 9:
      case 10:
        ActOnWriter(in_.Next(0));
        break;
      case 11:
        ActOnStream(in_.Next(0));
        break;
      case 12:
        if (!eof_) {
          eof_ = true;
          conn_.ReceiveEof();
        }
        break;
      case 13:
        conn_.Shutdown();
        break;
      case 14:  // a stray expiry call at the same instant is harmless
        conn_.HandleExpiry(clock_.Now());
        break;
      case 15:
        if (in_.Next(0) == 0x5a) conn_.Abort();
        break;
    }
  }

  void ActOnWriter(uint8_t d) {
    ResponseWriter* w = Current();
    if (w == nullptr) return;
    switch (d % 8) {
      case 0:
        SendWhole(*w, d);
        break;
      case 1:
        w->StartStream(kStatusOk, {{"X-Stream", "1"}});
        break;
      case 2:
      case 3: {
        const size_t n = 1 + static_cast<size_t>(d >> 3) * 97;
        // A streamed piece that was taken never takes the output past the bound.
        if (w->Write(std::string(n, 'w'))) {
          Check(conn_.buffered_output() <= limits_.max_buffered_output);
        }
        break;
      }
      case 4:
        w->End(d & 0x80 ? Headers{{"X-Sum", "1"}} : Headers{});
        break;
      case 5:  // dropped: 500 if unanswered, a truncated stream otherwise
        DropNewestWriter();
        break;
      case 6: {
        Stream* s = nullptr;
        auto stream = std::make_unique<Stream>();
        s = stream.get();
        streams_.push_back(std::move(stream));
        std::string buffered;
        s->stream = w->AcceptUpgrade({{"Upgrade", "late"}}, s, (d & 0x80) ? &buffered : nullptr);
        break;
      }
      case 7:  // an older writer: must be refused if it is not the live one
        if (writers_.size() > 1) {
          ResponseWriter& old = writers_.front();
          if (old.open()) {
            old.Send(Response::Text(kStatusOk, "old"));
          } else {
            Check(!old.Send(Response::Text(kStatusOk, "stale")));
            Check(!old.Write("stale"));
          }
        }
        break;
    }
  }

  void ActOnStream(uint8_t d) {
    Stream* s = CurrentStream();
    if (s == nullptr) return;
    switch (d % 4) {
      case 0:
        if (s->stream.Write(AsBytes(std::string(1 + (d >> 2) * 200, 'u')))) {
          Check(conn_.buffered_output() <= limits_.max_buffered_output);
        }
        break;
      case 1:
        s->echo = !s->echo;
        break;
      case 2:
        s->stream.Close();
        break;
      case 3:
        s->stream.set_handler(s);
        break;
    }
  }

  void CheckInvariants() {
    const auto state = static_cast<int>(conn_.state());
    Check(state >= static_cast<int>(ServerState::kIdle) &&
          state <= static_cast<int>(ServerState::kClosed));
    Check(ToString(conn_.state()) != "unknown");
    const ServerState now = conn_.state();
    if (last_state_ == ServerState::kClosed) Check(now == ServerState::kClosed);
    if (last_state_ == ServerState::kClosing) {
      Check(now == ServerState::kClosing || now == ServerState::kClosed);
    }
    last_state_ = now;
    if (conn_.WantsClose()) {
      Check(now == ServerState::kClosing || now == ServerState::kClosed);
    }
    Check(conn_.PendingOutput().size() == conn_.buffered_output());
    // Pipelined requests wait while the output is full, so it stays within one whole response
    // (and an error head) of the bound.
    Check(conn_.buffered_output() <= limits_.max_buffered_output + kMaxWholeBody + 2 * kHeadSlack);
    Check(conn_.buffered_input() <= limits_.max_buffered_input + kInputSlack);
    Check(stats_.responses <= stats_.requests);
    Check(requests_seen_ == stats_.requests);
    Check(answered_ <= requests_seen_);
    Check(stats_.upgrades <= stats_.requests);
  }

  // The peer closes its side; the application answers what it holds; the peer reads everything;
  // time runs. The connection must end up wanting to close.
  void Finish() {
    if (!eof_) {
      // The rest of the stream first, as a transport would deliver it.
      for (int i = 0; i < 64 && in_.stream_left() && conn_.WantsRead(); ++i) {
        Feed(kMaxRead, false);
        Drain(SIZE_MAX);
        CheckInvariants();
      }
      eof_ = true;
      conn_.ReceiveEof();
      CheckInvariants();
    }
    for (int round = 0; round < 100000 && !conn_.WantsClose(); ++round) {
      Drain(SIZE_MAX);
      if (ResponseWriter* w = Current(); w != nullptr && w->open()) {
        if (!w->End()) w->Send(Response::Text(kStatusOk, "late"));
      } else if (!writers_.empty()) {
        DropNewestWriter();
      } else if (Stream* s = CurrentStream(); s != nullptr) {
        s->stream.Close();
      } else {
        clock_.Advance(std::chrono::seconds(16));
        conn_.HandleExpiry(clock_.Now());
      }
      CheckInvariants();
    }
    Drain(SIZE_MAX);
    Check(conn_.WantsClose());
    Check(conn_.PendingOutput().empty());
    Check(!conn_.WantsRead());
  }

  Input in_;
  ServerLimits limits_;
  FakeClock clock_;
  ServerStats stats_;
  Observer observer_;
  // Destroyed after the connection (declared before it): the connection may still point at them.
  std::deque<std::unique_ptr<Stream>> streams_;
  std::deque<ResponseWriter> writers_;
  ServerConnection conn_;
  ServerState last_state_ = ServerState::kIdle;
  uint64_t requests_seen_ = 0;
  uint64_t answered_ = 0;
  bool eof_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fuzz fuzz(data, size);
  fuzz.Run();
  return 0;
}
