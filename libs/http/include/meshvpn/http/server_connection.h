// ServerConnection: the sans-I/O HTTP/1.1 server side of one connection: bytes in, requests to a
// handler, responses (whole, streamed, or an Upgrade) out, keep-alive, pipelining, limits, timers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "meshvpn/base/clock.h"
#include "meshvpn/http/limits.h"
#include "meshvpn/http/request_parser.h"
#include "meshvpn/http/response_writer.h"
#include "meshvpn/http/stream_core.h"
#include "meshvpn/http/upgraded_stream.h"

namespace meshvpn::http {

// The connection's state machine (docs/http.md draws it).
enum class ServerState {
  kIdle,         // between requests (the first one: header_timeout; later ones: idle_timeout)
  kReadingHead,  // a request has begun (header_timeout from its first byte)
  kReadingBody,  // its head is parsed (body_timeout)
  kResponding,   // the handler holds the ResponseWriter; further input waits, bounded
  kUpgraded,     // 101 sent: bytes go to the StreamHandler
  kClosing,      // sending the last bytes; the transport closes when they are out
  kClosed,       // aborted or timed out: nothing more to send
};
std::string_view ToString(ServerState state);

// Counters a server's connections share (one loop thread: plain integers).
struct ServerStats {
  uint64_t requests = 0;
  uint64_t responses = 0;
  uint64_t pipelined = 0;  // requests already buffered when the previous response ended
  uint64_t upgrades = 0;
  uint64_t bad_requests = 0;      // 400
  uint64_t header_too_large = 0;  // 431
  uint64_t target_too_long = 0;   // 414
  uint64_t body_too_large = 0;    // 413
  uint64_t header_timeouts = 0;   // slowloris: 408 (or a silent close before any byte)
  uint64_t body_timeouts = 0;
  uint64_t idle_timeouts = 0;
  uint64_t send_timeouts = 0;
  uint64_t writes_refused = 0;   // a stream's Write over max_buffered_output
  uint64_t handler_dropped = 0;  // a ResponseWriter destroyed unanswered (500 sent)
  uint64_t invalid_fields = 0;   // handler header fields dropped by the serializer
};

// Pipelining: handled, strictly in order. After a request is complete the parser pauses; bytes
// that arrive meanwhile wait in a buffer of at most max_buffered_input (then WantsRead() is
// false), and parsing resumes when the response is complete.
//
// Threading: one thread (the transport's). The handler, the ResponseWriter and the
// UpgradedStream are called and must be used on it.
class ServerConnection final : public StreamCore, private detail::UpgradeHost {
 public:
  // `clock` and `handler` must outlive the connection; `stats` may be null. The header timer
  // starts now, so a peer that connects (or handshakes) and sends nothing is closed after
  // header_timeout.
  ServerConnection(const Clock* clock, RequestHandler* handler, ServerLimits limits = {},
                   ServerStats* stats = nullptr);
  ~ServerConnection() override;
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // StreamCore.
  void Receive(ByteSpan data) override;
  void ReceiveEof() override;
  std::string_view PendingOutput() const override;
  void ConsumeOutput(size_t n) override;
  bool WantsRead() const override;
  bool WantsClose() const override;
  std::optional<MonoTime> NextExpiry() const override;
  void HandleExpiry(MonoTime now) override;
  void Abort() override;

  // Graceful close: an idle connection closes now; a request being read is answered with
  // "Connection: close"; a response in progress is finished (its observer gets OnShutdown),
  // then the connection closes. An upgraded stream is left to its handler.
  void Shutdown();

  // The peer's "ADDR:PORT", copied into each Request (the driver sets it once).
  void set_remote_address(std::string address) { remote_address_ = std::move(address); }

  ServerState state() const { return state_; }
  bool shutting_down() const { return shutdown_; }
  size_t buffered_input() const { return in_.size(); }
  size_t buffered_output() const { return out_.size() - out_pos_; }
  // Received bytes discarded because the connection was closing or closed.
  uint64_t discarded_input() const { return discarded_input_; }

 private:
  friend class ResponseWriter;
  friend struct detail::Exchange;

  // UpgradeHost.
  bool UpgradedWrite(ByteSpan data) override;
  void UpgradedClose() override;
  size_t UpgradedBufferedOutput() const override { return buffered_output(); }
  void UpgradedSetHandler(StreamHandler* handler) override { stream_handler_ = handler; }

  // ResponseWriter's calls (exchange is the writer's; stale ones are refused).
  bool WriterSend(detail::Exchange* exchange, Response response);
  bool WriterStart(detail::Exchange* exchange, int status, Headers headers);
  bool WriterWrite(detail::Exchange* exchange, std::string_view data);
  bool WriterEnd(detail::Exchange* exchange, const Headers& trailers);
  UpgradedStream WriterUpgrade(detail::Exchange* exchange, Headers headers, StreamHandler* handler,
                               std::string* buffered);
  void WriterDropped(detail::Exchange* exchange);

  void ProcessInput();
  void TrackParserPhase();
  void Dispatch();
  void FinishExchange(bool close);
  void FailRequest(int status);
  void CloseQuietly();
  bool ShouldClose(const detail::Exchange& exchange) const;
  void Append(std::string_view bytes);
  void Notify();
  MonoTime Now() const { return clock_->Now(); }

  const Clock* clock_;
  RequestHandler* handler_;
  ServerLimits limits_;
  ServerStats* stats_;
  ServerStats own_stats_;
  RequestParser parser_;
  ServerState state_ = ServerState::kIdle;

  std::string in_;  // received, not yet parsed
  std::string out_;
  size_t out_pos_ = 0;
  MonoTime phase_start_;    // when the current state's timer started
  MonoTime last_progress_;  // output last taken (or first queued)
  std::shared_ptr<detail::Exchange> exchange_;
  StreamHandler* stream_handler_ = nullptr;
  std::shared_ptr<detail::UpgradeLink> upgrade_link_;
  std::string remote_address_;
  uint64_t discarded_input_ = 0;
  int depth_ = 0;  // > 0 inside a core entry point: the transport pumps afterwards anyway
  bool first_request_ = true;
  bool peer_eof_ = false;
  bool shutdown_ = false;
  bool continue_sent_ = false;
  bool output_blocked_ = false;
  bool processing_ = false;
};

}  // namespace meshvpn::http
