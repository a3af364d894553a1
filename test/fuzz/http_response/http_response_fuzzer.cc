// Fuzzes ClientConnection's response side: arbitrary bytes, split at fuzzer-chosen points, fed to
// a connection that sent a GET (or a HEAD, or an Upgrade), with a BufferingResponseHandler per
// response (a new request after each kept-alive one), output taken and the clock moved at
// random. Each input is flags (1 byte) | split seed (1 byte) | the server's bytes:
//   flags & 1  the requests are HEAD
//   flags & 2  the first request asks for an Upgrade (its handler keeps the stream)
//   flags & 4  small limits (256-byte head, 8 fields, 64-byte bodies, 128-byte output)
//   seed % 4 == 0: the bytes in one piece; otherwise pieces of 1..64 bytes from an xorshift
// Checked: no crash, every handler ends at most once and, after Abort, exactly once; a buffered
// body never passes its limit; output and timers stay sane; a closed connection goes quiet.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "meshvpn/base/clock.h"
#include "meshvpn/http/client_connection.h"

namespace {

using namespace meshvpn;
using namespace meshvpn::http;
using namespace std::chrono_literals;

// __builtin_LINE() as a default argument is the caller's line (clang 14 has no source_location).
void Check(bool condition, int line = __builtin_LINE()) {
  if (condition) return;
  std::fprintf(stderr, "invariant broken at line %d\n", line);
  std::abort();
}

constexpr int kMaxRequests = 8;

struct Counters {
  int endings = 0;
  bool body_too_big = false;
};

// Counts what an upgraded stream receives and writes some of it back.
class Echo final : public StreamHandler {
 public:
  void OnStreamData(ByteSpan data) override {
    Check(!closed);
    bytes += data.size();
    if (stream != nullptr && data.size() % 3 == 0) stream->Write(data);
  }
  void OnStreamClosed() override {
    Check(!closed);
    closed = true;
  }
  UpgradedStream* stream = nullptr;
  size_t bytes = 0;
  bool closed = false;
};

// A BufferingResponseHandler that also takes an upgrade, when the request asked for one.
class Handler final : public ResponseHandler {
 public:
  Handler(Counters* counters, size_t max_body)
      : counters_(counters),
        max_body_(max_body),
        buffering_(
            [this](absl::StatusOr<Response> r) {
              ++counters_->endings;
              if (r.ok() && r->body.size() > max_body_) counters_->body_too_big = true;
            },
            max_body) {}

  void OnResponseHead(const ResponseHead& head) override {
    Check(!ended_);
    buffering_.OnResponseHead(head);
  }
  void OnResponseBody(std::string_view data) override {
    Check(!ended_);
    buffering_.OnResponseBody(data);
  }
  void OnResponseComplete() override {
    End();
    buffering_.OnResponseComplete();
  }
  void OnResponseError(const absl::Status& error) override {
    Check(!error.ok());
    End();
    buffering_.OnResponseError(error);
  }
  void OnUpgrade(const ResponseHead& head, UpgradedStream stream, std::string buffered) override {
    End();
    ++counters_->endings;
    Check(head.status == kStatusSwitchingProtocols);
    Check(buffered.size() <= 1024 * 1024);
    stream_ = std::move(stream);
    echo_.stream = &stream_;
    stream_.set_handler(&echo_);
  }
  bool ended() const { return ended_; }

 private:
  void End() {
    Check(!ended_);
    ended_ = true;
  }
  Counters* counters_;
  size_t max_body_;
  BufferingResponseHandler buffering_;
  bool ended_ = false;
  UpgradedStream stream_;
  Echo echo_;
};

struct Harness {
  Harness(bool head, bool upgrade, ClientLimits limits)
      : head(head), upgrade(upgrade), limits(limits), conn(&clock, limits) {}

  void SendNext() {
    if (handlers.size() >= kMaxRequests || !conn.ready()) return;
    Request request;
    request.method = head ? "HEAD" : "GET";
    request.target = "/fuzz";
    if (upgrade && handlers.empty()) {
      request.headers.Add("Upgrade", "DERP");
      request.headers.Add("Connection", "Upgrade");
    }
    handlers.push_back(std::make_unique<Handler>(&counters, limits.parser.max_body_bytes));
    Check(conn.Send(request, "fuzz.example", handlers.back().get()));
  }

  void CheckInvariants() {
    Check(!counters.body_too_big);
    Check(counters.endings <= static_cast<int>(handlers.size()));
    Check(conn.PendingOutput().size() == conn.buffered_output());
    // Requests are small; an upgraded stream is bounded by max_buffered_output.
    Check(conn.buffered_output() <= limits.max_buffered_output + 4096);
    if (conn.state() == ClientState::kClosed) {
      Check(conn.PendingOutput().empty());
      Check(!conn.NextExpiry().has_value());
      Check(conn.WantsClose());
      Check(!conn.WantsRead());
    }
  }

  // A timer that is due right after it ran would spin the transport's loop.
  void Expire() {
    conn.HandleExpiry(clock.Now());
    if (auto at = conn.NextExpiry()) Check(*at > clock.Now());
  }

  bool head;
  bool upgrade;
  ClientLimits limits;
  FakeClock clock;
  ClientConnection conn;
  Counters counters;
  std::vector<std::unique_ptr<Handler>> handlers;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  uint32_t rng = 0x9E3779B9u ^ data[1];
  const bool one_piece = data[1] % 4 == 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);

  ClientLimits limits;
  if ((flags & 4) != 0) {
    limits.parser.max_header_bytes = 256;
    limits.parser.max_header_count = 8;
    limits.parser.max_body_bytes = 64;
    limits.max_buffered_output = 128;
  }
  limits.body_idle_timeout = 5s;
  Harness h((flags & 1) != 0, (flags & 2) != 0, limits);
  h.SendNext();

  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
  };
  while (!rest.empty()) {
    const size_t n = one_piece ? rest.size() : std::min<size_t>(rest.size(), 1 + next() % 64);
    h.conn.Receive(AsBytes(rest.substr(0, n)));
    rest.remove_prefix(n);
    const uint32_t r = next();
    if (r % 3 == 0) h.conn.ConsumeOutput(r % 97);
    if (r % 11 == 0) {
      h.clock.Advance(std::chrono::seconds(r % 7));
      h.Expire();
    }
    h.SendNext();
    h.CheckInvariants();
  }
  h.conn.ReceiveEof();
  h.CheckInvariants();
  h.SendNext();
  h.clock.Advance(24h);
  h.Expire();
  h.conn.Abort();
  h.CheckInvariants();
  // Every response has had its ending call, exactly one.
  Check(h.counters.endings == static_cast<int>(h.handlers.size()));
  for (const auto& handler : h.handlers) Check(handler->ended());
  Check(h.conn.state() == ClientState::kClosed);
  return 0;
}
