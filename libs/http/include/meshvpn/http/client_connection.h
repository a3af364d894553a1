// ClientConnection: the sans-I/O HTTP/1.1 client side of one connection: a request out, its
// response in (Content-Length, chunked or close-delimited, streamed to a handler), keep-alive
// reuse, and the client side of an Upgrade.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/http/limits.h"
#include "meshvpn/http/request.h"
#include "meshvpn/http/response.h"
#include "meshvpn/http/response_parser.h"
#include "meshvpn/http/stream_core.h"
#include "meshvpn/http/upgraded_stream.h"

namespace meshvpn::http {

// Receives one response. Exactly one of OnResponseComplete, OnResponseError or OnUpgrade ends
// it. Calls come from inside the connection's Receive/HandleExpiry/Abort; a handler may call
// Send (from OnResponseComplete) or Close on the connection, but must not destroy it there.
class ResponseHandler {
 public:
  virtual ~ResponseHandler() = default;
  virtual void OnResponseHead(const ResponseHead& head) = 0;
  // A piece of the decoded body, valid only during the call.
  virtual void OnResponseBody(std::string_view data) = 0;
  virtual void OnResponseComplete() = 0;
  // Malformed response, timeout, or the connection closed before the response was complete.
  virtual void OnResponseError(const absl::Status& error) = 0;
  // 101 Switching Protocols: the connection now carries `stream`'s protocol. `buffered` holds
  // bytes that came right after the 101 head. The default refuses (closes, reports an error).
  virtual void OnUpgrade(const ResponseHead& head, UpgradedStream stream, std::string buffered);
};

// Collects a whole response (up to `max_body_bytes`, then an error) and calls `done` once.
class BufferingResponseHandler final : public ResponseHandler {
 public:
  using Done = std::function<void(absl::StatusOr<Response>)>;
  explicit BufferingResponseHandler(Done done,
                                    size_t max_body_bytes = kDefaultMaxResponseBodyBytes);
  void OnResponseHead(const ResponseHead& head) override;
  void OnResponseBody(std::string_view data) override;
  void OnResponseComplete() override;
  void OnResponseError(const absl::Status& error) override;
  bool done() const { return done_ == nullptr; }

 private:
  void Finish(absl::StatusOr<Response> result);
  Done done_;
  size_t max_body_bytes_;
  Response response_;
  bool too_large_ = false;
};

enum class ClientState {
  kIdle,          // no request in flight; another may be sent (idle_timeout)
  kAwaitingHead,  // request queued or sent (response_timeout)
  kReadingBody,   // head delivered, body streaming (body_idle_timeout, if set)
  kUpgraded,      // 101 received: bytes go to the StreamHandler
  kClosing,       // sending the last bytes, then the transport closes
  kClosed,
};
std::string_view ToString(ClientState state);

// One request at a time (no client-side pipelining). Threading: the transport's thread only.
class ClientConnection final : public StreamCore, private detail::UpgradeHost {
 public:
  ClientConnection(const Clock* clock, ClientLimits limits = {});
  ~ClientConnection() override;
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Queues `request` (with Host: `host` unless the request has one). `handler` must outlive the
  // response. False if a request is in flight or the connection is closing or closed.
  bool Send(const Request& request, std::string_view host, ResponseHandler* handler);
  // Closes after the response in flight, or now when idle. The handler of a response in flight
  // still gets its ending call.
  void Close();
  bool ready() const { return state_ == ClientState::kIdle && !close_requested_; }
  ClientState state() const { return state_; }
  size_t buffered_output() const { return out_.size() - out_pos_; }

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
  void AbortWithError(const absl::Status& why) override;

 private:
  class Sink;
  friend class Sink;

  // UpgradeHost.
  bool UpgradedWrite(ByteSpan data) override;
  void UpgradedClose() override;
  size_t UpgradedBufferedOutput() const override { return buffered_output(); }
  void UpgradedSetHandler(StreamHandler* handler) override { stream_handler_ = handler; }

  void ProcessInput();
  void Fail(const absl::Status& error);
  void Upgrade(std::string buffered);
  MonoTime Now() const { return clock_->Now(); }

  const Clock* clock_;
  ClientLimits limits_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<ResponseParser> parser_;
  ClientState state_ = ClientState::kIdle;
  ResponseHandler* handler_ = nullptr;
  std::optional<ResponseHead> upgrade_head_;
  std::string in_;
  std::string out_;
  size_t out_pos_ = 0;
  MonoTime phase_start_;
  MonoTime last_progress_;
  StreamHandler* stream_handler_ = nullptr;
  std::shared_ptr<detail::UpgradeLink> upgrade_link_;
  bool close_requested_ = false;
  bool output_blocked_ = false;
  bool head_request_ = false;
};

}  // namespace meshvpn::http
