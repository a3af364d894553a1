// ClientConnection: the sans-I/O HTTP/1.1 client state machine (one request at a time, keep-alive,
// Upgrade, timers), the BufferingResponseHandler, and the default refusal of an upgrade.
#include "meshvpn/http/client_connection.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_format.h"
#include "meshvpn/http/serialize.h"

namespace meshvpn::http {
namespace {

// Sent output is dropped from the front of the buffer once this much of it has been taken (and
// it is at least half the buffer), so a long stream does not copy on every write.
constexpr size_t kCompactThreshold = 64 * 1024;

int64_t Seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

std::string_view AsChars(ByteSpan data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ResponseHandler and BufferingResponseHandler.

void ResponseHandler::OnUpgrade(const ResponseHead& head, UpgradedStream stream,
                                std::string /*buffered*/) {
  stream.Close();
  OnResponseError(absl::FailedPreconditionError(absl::StrFormat(
      "the server switched protocols (status %d) and this handler takes no upgrade", head.status)));
}

BufferingResponseHandler::BufferingResponseHandler(Done done, size_t max_body_bytes)
    : done_(std::move(done)), max_body_bytes_(max_body_bytes) {}

void BufferingResponseHandler::OnResponseHead(const ResponseHead& head) {
  if (done()) return;
  response_.status = head.status;
  response_.reason = head.reason;
  response_.headers = head.headers;
  if (head.content_length.has_value() && *head.content_length > max_body_bytes_) {
    too_large_ = true;
    Finish(absl::ResourceExhaustedError(
        absl::StrFormat("the response body (Content-Length %d) is over the %d-byte limit",
                        *head.content_length, max_body_bytes_)));
  }
}

void BufferingResponseHandler::OnResponseBody(std::string_view data) {
  if (done()) return;
  if (data.size() > max_body_bytes_ - response_.body.size()) {
    too_large_ = true;
    response_.body.clear();
    Finish(absl::ResourceExhaustedError(
        absl::StrFormat("the response body is over the %d-byte limit", max_body_bytes_)));
    return;
  }
  response_.body.append(data);
}

void BufferingResponseHandler::OnResponseComplete() {
  if (done()) return;
  Finish(std::move(response_));
}

void BufferingResponseHandler::OnResponseError(const absl::Status& error) {
  if (done()) return;
  Finish(error);
}

void BufferingResponseHandler::Finish(absl::StatusOr<Response> result) {
  // `done` may destroy this handler: nothing of it is touched after the call.
  Done done = std::move(done_);
  done_ = nullptr;
  done(std::move(result));
}

// ---------------------------------------------------------------------------------------------
// ClientState.

std::string_view ToString(ClientState state) {
  switch (state) {
    case ClientState::kIdle:
      return "idle";
    case ClientState::kAwaitingHead:
      return "awaiting head";
    case ClientState::kReadingBody:
      return "reading body";
    case ClientState::kUpgraded:
      return "upgraded";
    case ClientState::kClosing:
      return "closing";
    case ClientState::kClosed:
      return "closed";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// The parser's sink, which also holds the connection's per-request bookkeeping.

class ClientConnection::Sink final : public ResponseParserSink {
 public:
  explicit Sink(ClientConnection* conn) : conn_(conn) {}

  // Head and body go to the handler as they arrive; the end of the response is only noted here
  // and delivered by the connection once its own state is settled (so the handler may Send).
  void OnResponseHead(ResponseHead&& head) override {
    ClientConnection& c = *conn_;
    if (c.state_ != ClientState::kAwaitingHead || c.handler_ == nullptr) return;
    if (head.status == kStatusSwitchingProtocols) {
      // A 101 has no body whatever its fields say: what follows is the new protocol. Called
      // from the head callback, this applies to the response being parsed.
      c.parser_->ExpectNoBody();
      c.upgrade_head_ = std::move(head);  // for OnUpgrade, once the parser has stopped
      return;
    }
    keep_alive = head.keep_alive;
    c.state_ = ClientState::kReadingBody;
    c.phase_start_ = c.Now();
    c.handler_->OnResponseHead(head);
  }

  void OnResponseBody(std::string_view data) override {
    ClientConnection& c = *conn_;
    if (c.state_ != ClientState::kReadingBody || c.handler_ == nullptr) return;
    c.handler_->OnResponseBody(data);
  }

  void OnResponseComplete() override {}

  // kClosed: nothing more is sent or read, and nothing is kept.
  void EnterClosed() {
    ClientConnection& c = *conn_;
    c.state_ = ClientState::kClosed;
    c.out_.clear();
    c.out_pos_ = 0;
    c.in_.clear();
    input = {};
  }

  // Ends the response in flight with OnResponseComplete, after settling what comes next.
  void CompleteResponse() {
    ClientConnection& c = *conn_;
    ResponseHandler* handler = c.handler_;
    c.handler_ = nullptr;
    c.upgrade_head_.reset();
    if (keep_alive && !request_close && !c.close_requested_) {
      c.state_ = ClientState::kIdle;
      c.phase_start_ = c.Now();
    } else {
      c.state_ = ClientState::kClosing;
    }
    // Last: the handler may Send the next request (or Close) from here.
    if (handler != nullptr) handler->OnResponseComplete();
  }

  // Entered by Receive, ReceiveEof, HandleExpiry and Abort (and around callbacks from Close):
  // the listener is told of new output only from outside them (the transport pumps after each).
  int depth = 0;
  // The server allows another request after this response.
  bool keep_alive = false;
  // The request in flight said "Connection: close" / asked for an Upgrade.
  bool request_close = false;
  bool upgrade_requested = false;
  // The bytes ProcessInput works through (a view of Receive's data or of in_).
  std::string_view input;

 private:
  ClientConnection* conn_;
};

namespace {
struct DepthGuard {
  explicit DepthGuard(int* depth) : depth_(depth) { ++*depth_; }
  ~DepthGuard() { --*depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;
  int* depth_;
};
}  // namespace

// ---------------------------------------------------------------------------------------------
// ClientConnection.

ClientConnection::ClientConnection(const Clock* clock, ClientLimits limits)
    : clock_(clock),
      limits_(limits),
      sink_(std::make_unique<Sink>(this)),
      parser_(std::make_unique<ResponseParser>(limits_.parser, sink_.get())),
      phase_start_(clock->Now()),
      last_progress_(phase_start_) {}

ClientConnection::~ClientConnection() {
  // Handles outlive the connection harmlessly: they see a dead stream.
  if (upgrade_link_) upgrade_link_->host = nullptr;
}

bool ClientConnection::Send(const Request& request, std::string_view host,
                            ResponseHandler* handler) {
  if (!ready() || handler == nullptr) return false;
  const bool was_empty = buffered_output() == 0;
  AppendRequest(request, host, &out_);
  if (was_empty) last_progress_ = Now();
  head_request_ = request.method == "HEAD";
  if (head_request_) parser_->ExpectNoBody();
  sink_->request_close = request.headers.HasToken("Connection", "close");
  sink_->upgrade_requested = request.headers.Has("Upgrade");
  sink_->keep_alive = false;
  upgrade_head_.reset();
  handler_ = handler;
  state_ = ClientState::kAwaitingHead;
  phase_start_ = Now();
  if (sink_->depth == 0) NotifyActivity();
  return true;
}

void ClientConnection::Close() {
  switch (state_) {
    case ClientState::kClosing:
    case ClientState::kClosed:
      return;
    case ClientState::kAwaitingHead:
    case ClientState::kReadingBody:
      close_requested_ = true;  // after the response in flight
      return;
    case ClientState::kIdle:
      close_requested_ = true;
      state_ = ClientState::kClosing;
      break;
    case ClientState::kUpgraded: {
      close_requested_ = true;
      StreamHandler* stream_handler = stream_handler_;
      stream_handler_ = nullptr;
      if (upgrade_link_) upgrade_link_->host = nullptr;
      state_ = ClientState::kClosing;
      in_.clear();
      if (stream_handler != nullptr) {
        DepthGuard guard(&sink_->depth);
        stream_handler->OnStreamClosed();
      }
      break;
    }
  }
  if (sink_->depth == 0) NotifyActivity();
}

void ClientConnection::Receive(ByteSpan data) {
  DepthGuard guard(&sink_->depth);
  const std::string_view bytes = AsChars(data);
  switch (state_) {
    case ClientState::kClosing:
    case ClientState::kClosed:
      return;  // nothing more is read
    case ClientState::kIdle:
      if (!bytes.empty()) {
        // A response nobody asked for: the connection's framing can no longer be trusted.
        sink_->EnterClosed();
      }
      return;
    case ClientState::kUpgraded:
      if (stream_handler_ == nullptr) {
        if (in_.size() >= kDefaultMaxBufferedInput) {
          Fail(absl::ResourceExhaustedError("upgraded stream: input past the buffer bound"));
          return;
        }
        in_.append(bytes);
        return;
      }
      if (!in_.empty()) {
        std::string early;
        early.swap(in_);
        stream_handler_->OnStreamData(AsBytes(early));
        if (state_ != ClientState::kUpgraded) return;
        if (stream_handler_ == nullptr) {
          in_.append(bytes);
          return;
        }
      }
      if (!bytes.empty()) stream_handler_->OnStreamData(data);
      return;
    case ClientState::kReadingBody:
      phase_start_ = Now();  // body_idle_timeout counts from the last byte
      break;
    case ClientState::kAwaitingHead:
      break;
  }
  if (bytes.empty()) return;
  if (in_.empty()) {
    sink_->input = bytes;
    ProcessInput();
    if (!sink_->input.empty()) in_.assign(sink_->input);
  } else {
    // Parsed from a string of its own: a callback that closes the connection clears in_.
    std::string buffered;
    buffered.swap(in_);
    buffered.append(bytes);
    sink_->input = buffered;
    ProcessInput();
    in_.assign(sink_->input);
  }
  sink_->input = {};
}

void ClientConnection::ProcessInput() {
  std::string_view& input = sink_->input;
  while (!input.empty()) {
    if (state_ == ClientState::kIdle) {
      // Bytes after a complete response, before any request: unsolicited.
      sink_->EnterClosed();
      return;
    }
    if (state_ != ClientState::kAwaitingHead && state_ != ClientState::kReadingBody) {
      input = {};  // closing: the rest is dropped
      return;
    }
    const ParseResult result = parser_->Parse(input);
    input.remove_prefix(std::min(result.consumed, input.size()));
    if (state_ != ClientState::kAwaitingHead && state_ != ClientState::kReadingBody) {
      input = {};  // a callback closed or aborted the connection
      return;
    }
    switch (result.event) {
      case ParseEvent::kNeedMore:
        if (result.consumed == 0) input = {};  // never spin on a parser that takes nothing
        break;
      case ParseEvent::kError: {
        input = {};
        const ParserLimits& l = limits_.parser;
        switch (parser_->error()) {
          case ParseError::kHeaderTooLarge:
            Fail(absl::ResourceExhaustedError(absl::StrFormat(
                "response head over %d bytes (like a 431 from a server)", l.max_header_bytes)));
            break;
          case ParseError::kTooManyHeaders:
            Fail(absl::ResourceExhaustedError(absl::StrFormat(
                "response head over %d fields (like a 431 from a server)", l.max_header_count)));
            break;
          default:
            Fail(absl::InternalError(
                absl::StrFormat("malformed HTTP response (%s)", parser_->error_detail())));
            break;
        }
        return;
      }
      case ParseEvent::kMessage:
        if (upgrade_head_.has_value()) {
          Upgrade(std::string(input));  // a 101 that http_parser did not see as an upgrade
          input = {};
          return;
        }
        parser_->Resume();
        sink_->CompleteResponse();
        break;
      case ParseEvent::kUpgrade:
        if (!upgrade_head_.has_value()) {
          Fail(absl::InternalError("malformed HTTP response (an upgrade without a 101)"));
        } else {
          Upgrade(std::string(input));
        }
        input = {};
        return;
    }
  }
}

void ClientConnection::Upgrade(std::string buffered) {
  if (!sink_->upgrade_requested) {
    Fail(absl::InternalError("the server switched protocols (101) but no Upgrade was asked for"));
    return;
  }
  ResponseHandler* handler = handler_;
  handler_ = nullptr;
  ResponseHead head = std::move(*upgrade_head_);
  upgrade_head_.reset();
  state_ = ClientState::kUpgraded;
  upgrade_link_ = std::make_shared<detail::UpgradeLink>();
  upgrade_link_->host = this;
  // The stream the handler does not keep closes the connection when the call returns.
  handler->OnUpgrade(head, UpgradedStream(upgrade_link_), std::move(buffered));
}

void ClientConnection::ReceiveEof() {
  DepthGuard guard(&sink_->depth);
  switch (state_) {
    case ClientState::kClosed:
      return;
    case ClientState::kIdle:
    case ClientState::kClosing:
      sink_->EnterClosed();  // the server closed a connection we were done with
      return;
    case ClientState::kUpgraded:
      Fail(absl::UnavailableError("the peer closed the upgraded stream"));
      return;
    case ClientState::kAwaitingHead:
    case ClientState::kReadingBody:
      break;
  }
  const bool body_started = state_ == ClientState::kReadingBody;
  const bool head_started = parser_->in_message();
  switch (parser_->Finish()) {
    case ParseEvent::kMessage:
    case ParseEvent::kUpgrade:
      if (upgrade_head_.has_value()) {
        Fail(absl::UnavailableError("the server closed the connection right after its 101"));
        return;
      }
      // A body delimited by the close: complete, and the connection is done.
      sink_->keep_alive = false;
      sink_->CompleteResponse();
      sink_->EnterClosed();
      return;
    case ParseEvent::kNeedMore:
    case ParseEvent::kError:
      break;
  }
  if (body_started) {
    Fail(absl::DataLossError("the server closed the connection in the middle of the body"));
  } else if (head_started) {
    Fail(absl::DataLossError("the server closed the connection in the middle of the head"));
  } else {
    Fail(absl::UnavailableError("the server closed the connection without a response"));
  }
}

std::string_view ClientConnection::PendingOutput() const {
  return std::string_view(out_).substr(out_pos_);
}

void ClientConnection::ConsumeOutput(size_t n) {
  // No depth guard: what OnStreamWritable writes is news to the transport.
  n = std::min(n, buffered_output());
  if (n == 0) return;
  out_pos_ += n;
  last_progress_ = Now();
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ >= kCompactThreshold && out_pos_ >= out_.size() / 2) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  if (output_blocked_ && state_ == ClientState::kUpgraded &&
      buffered_output() < limits_.max_buffered_output / 2) {
    output_blocked_ = false;
    if (stream_handler_ != nullptr) stream_handler_->OnStreamWritable();
  }
}

bool ClientConnection::WantsRead() const {
  switch (state_) {
    case ClientState::kIdle:  // to see the server close a kept-alive connection
    case ClientState::kAwaitingHead:
    case ClientState::kReadingBody:
    case ClientState::kUpgraded:
      return in_.size() < kDefaultMaxBufferedInput;
    case ClientState::kClosing:
    case ClientState::kClosed:
      return false;
  }
  return false;
}

bool ClientConnection::WantsClose() const {
  return state_ == ClientState::kClosing || state_ == ClientState::kClosed;
}

std::optional<MonoTime> ClientConnection::NextExpiry() const {
  std::optional<MonoTime> next;
  auto consider = [&next](MonoTime start, Duration timeout) {
    if (timeout <= Duration::zero()) return;
    const MonoTime at = start + timeout;
    if (!next.has_value() || at < *next) next = at;
  };
  if (state_ == ClientState::kClosed) return std::nullopt;
  if (buffered_output() > 0) consider(last_progress_, limits_.send_timeout);
  switch (state_) {
    case ClientState::kIdle:
      consider(phase_start_, limits_.idle_timeout);
      break;
    case ClientState::kAwaitingHead:
      consider(phase_start_, limits_.response_timeout);
      break;
    case ClientState::kReadingBody:
      consider(phase_start_, limits_.body_idle_timeout);
      break;
    default:
      break;
  }
  return next;
}

void ClientConnection::HandleExpiry(MonoTime now) {
  DepthGuard guard(&sink_->depth);
  auto expired = [now](MonoTime start, Duration timeout) {
    return timeout > Duration::zero() && now >= start + timeout;
  };
  if (state_ == ClientState::kClosed) return;
  if (buffered_output() > 0 && expired(last_progress_, limits_.send_timeout)) {
    Fail(absl::DeadlineExceededError(absl::StrFormat(
        "send timeout: the server took no bytes for %ds", Seconds(limits_.send_timeout))));
    return;
  }
  switch (state_) {
    case ClientState::kIdle:
      if (expired(phase_start_, limits_.idle_timeout)) state_ = ClientState::kClosing;
      return;
    case ClientState::kAwaitingHead:
      if (expired(phase_start_, limits_.response_timeout)) {
        Fail(absl::DeadlineExceededError(absl::StrFormat(
            "response timeout: no response head within %ds", Seconds(limits_.response_timeout))));
      }
      return;
    case ClientState::kReadingBody:
      if (expired(phase_start_, limits_.body_idle_timeout)) {
        Fail(absl::DeadlineExceededError(absl::StrFormat(
            "body idle timeout: no byte of the body for %ds", Seconds(limits_.body_idle_timeout))));
      }
      return;
    default:
      return;
  }
}

void ClientConnection::Abort() {
  DepthGuard guard(&sink_->depth);
  Fail(absl::UnavailableError("the connection was aborted before the response was complete"));
}

void ClientConnection::AbortWithError(const absl::Status& why) {
  DepthGuard guard(&sink_->depth);
  Fail(why);
}

void ClientConnection::Fail(const absl::Status& error) {
  const ClientState was = state_;
  if (was == ClientState::kClosed) return;
  sink_->EnterClosed();
  ResponseHandler* handler = handler_;
  handler_ = nullptr;
  upgrade_head_.reset();
  StreamHandler* stream_handler = stream_handler_;
  stream_handler_ = nullptr;
  if (upgrade_link_) upgrade_link_->host = nullptr;
  if ((was == ClientState::kAwaitingHead || was == ClientState::kReadingBody) &&
      handler != nullptr) {
    handler->OnResponseError(error);
  } else if (was == ClientState::kUpgraded && stream_handler != nullptr) {
    stream_handler->OnStreamClosed();
  }
}

bool ClientConnection::UpgradedWrite(ByteSpan data) {
  if (state_ != ClientState::kUpgraded) return false;
  const size_t buffered = buffered_output();
  if (data.size() > limits_.max_buffered_output ||
      buffered > limits_.max_buffered_output - data.size()) {
    output_blocked_ = true;
    return false;
  }
  if (data.empty()) return true;
  if (buffered == 0) last_progress_ = Now();
  out_.append(AsChars(data));
  if (sink_->depth == 0) NotifyActivity();
  return true;
}

void ClientConnection::UpgradedClose() {
  if (state_ != ClientState::kUpgraded) return;
  // The caller knows: no OnStreamClosed. Buffered output is still sent.
  stream_handler_ = nullptr;
  if (upgrade_link_) upgrade_link_->host = nullptr;
  state_ = ClientState::kClosing;
  in_.clear();
  if (sink_->depth == 0) NotifyActivity();
}

}  // namespace meshvpn::http
