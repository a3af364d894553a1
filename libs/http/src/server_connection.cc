// ServerConnection: the HTTP/1.1 server state machine of one connection (docs/http.md draws it).
#include "meshvpn/http/server_connection.h"

#include <algorithm>
#include <utility>

#include "exchange.h"
#include "meshvpn/http/chunked.h"
#include "meshvpn/http/serialize.h"

namespace meshvpn::http {
namespace {

using Phase = detail::Exchange::Phase;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Statuses whose responses never carry a body (RFC 9110 6.4.1).
bool StatusHasNoBody(int status) {
  return (status >= 100 && status < 200) || status == kStatusNoContent ||
         status == kStatusNotModified;
}

// Received beyond max_buffered_input while a response is in progress: the transport stops
// reading at the bound, so more than one read's worth past it means the bound was ignored.
constexpr size_t kInputSlack = 64 * 1024;
// A drained output buffer bigger than this is given back, not kept for the connection's life
// (an upgraded stream that once carried a large message would hold up to its bound).
constexpr size_t kKeptOutputCapacity = 64 * 1024;

}  // namespace

std::string_view ToString(ServerState state) {
  switch (state) {
    case ServerState::kIdle:
      return "idle";
    case ServerState::kReadingHead:
      return "reading-head";
    case ServerState::kReadingBody:
      return "reading-body";
    case ServerState::kResponding:
      return "responding";
    case ServerState::kUpgraded:
      return "upgraded";
    case ServerState::kClosing:
      return "closing";
    case ServerState::kClosed:
      return "closed";
  }
  return "unknown";
}

ServerConnection::ServerConnection(const Clock* clock, RequestHandler* handler, ServerLimits limits,
                                   ServerStats* stats)
    : clock_(clock),
      handler_(handler),
      limits_(limits),
      stats_(stats != nullptr ? stats : &own_stats_),
      parser_(limits.parser),
      phase_start_(clock->Now()),
      last_progress_(phase_start_) {}

ServerConnection::~ServerConnection() {
  if (exchange_ != nullptr) exchange_->connection = nullptr;
  if (upgrade_link_ != nullptr) upgrade_link_->host = nullptr;
}

// ---- StreamCore ------------------------------------------------------------------------------

void ServerConnection::Receive(ByteSpan data) {
  if (data.empty()) return;
  ++depth_;
  switch (state_) {
    case ServerState::kClosing:
    case ServerState::kClosed:
      discarded_input_ += data.size();
      break;
    case ServerState::kUpgraded:
      if (stream_handler_ != nullptr && in_.empty()) {
        stream_handler_->OnStreamData(data);
      } else {
        in_.append(reinterpret_cast<const char*>(data.data()), data.size());
        ProcessInput();
      }
      break;
    default:
      in_.append(reinterpret_cast<const char*>(data.data()), data.size());
      if (in_.size() > limits_.max_buffered_input + kInputSlack) {
        // A transport that does not honour WantsRead(): drop the connection, not the bound.
        CloseQuietly();
        state_ = ServerState::kClosed;
        break;
      }
      ProcessInput();
      break;
  }
  --depth_;
}

void ServerConnection::ReceiveEof() {
  ++depth_;
  peer_eof_ = true;
  switch (state_) {
    case ServerState::kIdle:
    case ServerState::kReadingHead:
    case ServerState::kReadingBody:
      ProcessInput();  // decides: close, or (nothing in progress) close as well
      break;
    case ServerState::kUpgraded:
      if (upgrade_link_ != nullptr) upgrade_link_->host = nullptr;
      if (StreamHandler* h = std::exchange(stream_handler_, nullptr); h != nullptr) {
        h->OnStreamClosed();
      }
      state_ = ServerState::kClosing;
      break;
    default:
      break;  // kResponding: the response finishes, then the connection closes
  }
  --depth_;
}

std::string_view ServerConnection::PendingOutput() const {
  return std::string_view(out_).substr(out_pos_);
}

void ServerConnection::ConsumeOutput(size_t n) {
  if (n == 0) return;
  ++depth_;
  out_pos_ = std::min(out_.size(), out_pos_ + n);
  if (out_pos_ == out_.size()) {
    if (out_.capacity() > kKeptOutputCapacity) {
      std::string().swap(out_);
    } else {
      out_.clear();
    }
    out_pos_ = 0;
  }
  last_progress_ = Now();
  if (state_ == ServerState::kIdle && !in_.empty() &&
      buffered_output() < limits_.max_buffered_output) {
    ProcessInput();  // pipelined requests held back while the output was full
  }
  if (output_blocked_ && buffered_output() < limits_.max_buffered_output / 2) {
    output_blocked_ = false;
    if (state_ == ServerState::kUpgraded && stream_handler_ != nullptr) {
      stream_handler_->OnStreamWritable();
    } else if (exchange_ != nullptr && exchange_->observer != nullptr) {
      exchange_->observer->OnWritable();
    }
  }
  --depth_;
}

bool ServerConnection::WantsRead() const {
  switch (state_) {
    case ServerState::kIdle:
    case ServerState::kReadingHead:
    case ServerState::kReadingBody:
    case ServerState::kResponding:
      // Output waiting for a peer that does not read holds input back too: pipelined
      // requests are not answered into an unbounded buffer.
      return in_.size() < limits_.max_buffered_input &&
             buffered_output() < limits_.max_buffered_output;
    case ServerState::kUpgraded:
      return true;
    case ServerState::kClosing:
    case ServerState::kClosed:
      return false;
  }
  return false;
}

bool ServerConnection::WantsClose() const {
  return state_ == ServerState::kClosed ||
         (state_ == ServerState::kClosing && buffered_output() == 0);
}

std::optional<MonoTime> ServerConnection::NextExpiry() const {
  std::optional<MonoTime> next;
  auto consider = [&](MonoTime start, Duration timeout) {
    if (timeout.count() <= 0) return;
    const MonoTime at = start + timeout;
    if (!next || at < *next) next = at;
  };
  switch (state_) {
    case ServerState::kIdle:
      // A kept-alive connection is idle only once its output is out (a slow reader of a big
      // response is the send timeout's to judge).
      if (first_request_ || buffered_output() == 0) {
        consider(phase_start_, first_request_ ? limits_.header_timeout : limits_.idle_timeout);
      }
      break;
    case ServerState::kReadingHead:
      consider(phase_start_, limits_.header_timeout);
      break;
    case ServerState::kReadingBody:
      consider(phase_start_, limits_.body_timeout);
      break;
    case ServerState::kClosed:
      return std::nullopt;
    default:
      break;
  }
  if (buffered_output() > 0) consider(last_progress_, limits_.send_timeout);
  return next;
}

void ServerConnection::HandleExpiry(MonoTime now) {
  ++depth_;
  auto expired = [&](MonoTime start, Duration timeout) {
    return timeout.count() > 0 && now >= start + timeout;
  };
  if (buffered_output() > 0 && expired(last_progress_, limits_.send_timeout)) {
    ++stats_->send_timeouts;
    Abort();
  } else {
    switch (state_) {
      case ServerState::kIdle:
        if (first_request_ && expired(phase_start_, limits_.header_timeout)) {
          ++stats_->header_timeouts;  // connected (or handshook) and never sent a byte
          CloseQuietly();
        } else if (!first_request_ && buffered_output() == 0 &&
                   expired(phase_start_, limits_.idle_timeout)) {
          ++stats_->idle_timeouts;
          CloseQuietly();
        }
        break;
      case ServerState::kReadingHead:
        if (expired(phase_start_, limits_.header_timeout)) {
          ++stats_->header_timeouts;
          FailRequest(kStatusRequestTimeout);
        }
        break;
      case ServerState::kReadingBody:
        if (expired(phase_start_, limits_.body_timeout)) {
          ++stats_->body_timeouts;
          FailRequest(kStatusRequestTimeout);
        }
        break;
      default:
        break;
    }
  }
  --depth_;
}

void ServerConnection::Abort() {
  if (state_ == ServerState::kClosed) return;
  ++depth_;
  state_ = ServerState::kClosed;
  out_.clear();
  out_pos_ = 0;
  in_.clear();
  if (std::shared_ptr<detail::Exchange> ex = std::move(exchange_); ex != nullptr) {
    ex->connection = nullptr;
    ex->phase = Phase::kDone;
    if (ex->observer != nullptr) ex->observer->OnClosed();
  }
  if (upgrade_link_ != nullptr) upgrade_link_->host = nullptr;
  if (StreamHandler* h = std::exchange(stream_handler_, nullptr); h != nullptr) {
    h->OnStreamClosed();
  }
  --depth_;
}

void ServerConnection::Shutdown() {
  if (shutdown_) return;
  shutdown_ = true;
  switch (state_) {
    case ServerState::kIdle:
      CloseQuietly();
      break;
    case ServerState::kResponding:
      if (exchange_ != nullptr && exchange_->phase == Phase::kStreaming &&
          exchange_->observer != nullptr) {
        exchange_->observer->OnShutdown();
      }
      break;
    default:
      break;  // a request being read gets "Connection: close"; an upgraded stream is its own
  }
  Notify();
}

// ---- Input -----------------------------------------------------------------------------------

void ServerConnection::ProcessInput() {
  if (processing_) return;  // the outer loop picks up what a handler's answer made possible
  processing_ = true;
  while (true) {
    if (state_ == ServerState::kUpgraded) {
      if (!in_.empty() && stream_handler_ != nullptr) {
        std::string early = std::move(in_);
        in_.clear();
        stream_handler_->OnStreamData(AsBytes(early));
      }
      break;
    }
    if (state_ != ServerState::kIdle && state_ != ServerState::kReadingHead &&
        state_ != ServerState::kReadingBody) {
      break;
    }
    if (state_ == ServerState::kIdle && !in_.empty() &&
        buffered_output() >= limits_.max_buffered_output) {
      break;  // the next pipelined request waits until the peer reads (ConsumeOutput resumes)
    }
    if (in_.empty()) {
      if (peer_eof_) {
        if (parser_.Finish() == ParseEvent::kError) {
          ++stats_->bad_requests;  // truncated: nobody is left to read an answer
        }
        CloseQuietly();
      }
      break;
    }
    const ParseResult result = parser_.Parse(in_);
    in_.erase(0, result.consumed);
    if (result.event == ParseEvent::kError) {
      FailRequest(StatusFor(parser_.error()));
      break;
    }
    if (result.event == ParseEvent::kNeedMore) {
      TrackParserPhase();
      continue;  // in_ is empty now: the loop ends (or closes on EOF)
    }
    Dispatch();  // kMessage or kUpgrade
  }
  processing_ = false;
}

void ServerConnection::TrackParserPhase() {
  if (state_ == ServerState::kIdle && parser_.in_message()) {
    state_ = ServerState::kReadingHead;
    // The first request's header timer runs from the connection's start (a TLS handshake
    // counts); later ones from their first byte.
    if (!first_request_) phase_start_ = Now();
  }
  if (state_ == ServerState::kReadingHead && parser_.head_complete()) {
    state_ = ServerState::kReadingBody;
    phase_start_ = Now();
    if (parser_.expects_continue() && !continue_sent_) {
      continue_sent_ = true;
      Append(kContinue);
    }
  }
}

void ServerConnection::Dispatch() {
  Request request = parser_.TakeRequest();
  request.remote_address = remote_address_;
  ++stats_->requests;
  first_request_ = false;
  continue_sent_ = false;
  auto exchange = std::make_shared<detail::Exchange>();
  exchange->connection = this;
  exchange->head_request = request.method == "HEAD";
  exchange->http10 = request.version_major == 1 && request.version_minor == 0;
  exchange->keep_alive = request.keep_alive;
  exchange->upgrade = request.upgrade;
  exchange_ = exchange;
  state_ = ServerState::kResponding;
  phase_start_ = Now();
  handler_->OnRequest(request, ResponseWriter(std::move(exchange)));
}

// ---- Output ----------------------------------------------------------------------------------

bool ServerConnection::ShouldClose(const detail::Exchange& exchange) const {
  return !exchange.keep_alive || shutdown_ || (peer_eof_ && in_.empty());
}

void ServerConnection::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  if (buffered_output() == 0) last_progress_ = Now();
  out_.append(bytes);
  Notify();
}

void ServerConnection::Notify() {
  if (depth_ == 0) NotifyActivity();
}

bool ServerConnection::WriterSend(detail::Exchange* exchange, Response response) {
  if (exchange != exchange_.get() || exchange->phase != Phase::kFresh) return false;
  if (response.status < 200 || response.status > 999) {
    response = Response::Error(kStatusInternalServerError);  // 1xx is the connection's to send
  }
  const bool close = ShouldClose(*exchange);
  HeadFraming framing;
  framing.close = close;
  framing.http10_peer = exchange->http10;
  const bool no_body = StatusHasNoBody(response.status);
  if (no_body) {
    framing.framing = Framing::kNone;
  } else {
    framing.framing = Framing::kContentLength;
    framing.content_length = response.body.size();
  }
  std::string head;
  stats_->invalid_fields +=
      AppendResponseHead(response.status, response.reason, response.headers, framing, &head);
  Append(head);
  if (!no_body && !exchange->head_request) Append(response.body);
  ++stats_->responses;
  FinishExchange(close);
  return true;
}

bool ServerConnection::WriterStart(detail::Exchange* exchange, int status, Headers headers) {
  if (exchange != exchange_.get() || exchange->phase != Phase::kFresh) return false;
  if (status < 200 || status > 999 || StatusHasNoBody(status)) return false;
  HeadFraming framing;
  if (exchange->http10) {
    framing.framing = Framing::kUntilClose;  // no chunked coding in HTTP/1.0
    exchange->until_close = true;
  } else {
    framing.framing = Framing::kChunked;
    framing.close = ShouldClose(*exchange);
  }
  std::string head;
  stats_->invalid_fields += AppendResponseHead(status, "", headers, framing, &head);
  Append(head);
  exchange->phase = Phase::kStreaming;
  return true;
}

bool ServerConnection::WriterWrite(detail::Exchange* exchange, std::string_view data) {
  if (exchange != exchange_.get() || exchange->phase != Phase::kStreaming) return false;
  if (data.empty() || exchange->head_request) return true;
  const size_t framed =
      exchange->until_close ? data.size() : data.size() + ChunkOverhead(data.size());
  if (buffered_output() + framed > limits_.max_buffered_output) {
    ++stats_->writes_refused;
    output_blocked_ = true;
    return false;
  }
  if (exchange->until_close) {
    Append(data);
  } else {
    std::string chunk;
    AppendChunk(data, &chunk);
    Append(chunk);
  }
  return true;
}

bool ServerConnection::WriterEnd(detail::Exchange* exchange, const Headers& trailers) {
  if (exchange != exchange_.get() || exchange->phase != Phase::kStreaming) return false;
  bool close = ShouldClose(*exchange);
  if (exchange->until_close) {
    close = true;  // the close is the end of the body
  } else if (!exchange->head_request) {
    std::string last;
    AppendLastChunk(trailers, &last);
    Append(last);
  }
  ++stats_->responses;
  FinishExchange(close);
  return true;
}

UpgradedStream ServerConnection::WriterUpgrade(detail::Exchange* exchange, Headers headers,
                                               StreamHandler* handler, std::string* buffered) {
  if (exchange != exchange_.get() || exchange->phase != Phase::kFresh || !exchange->upgrade ||
      handler == nullptr) {
    return UpgradedStream();
  }
  HeadFraming framing;
  framing.framing = Framing::kNone;
  framing.upgrade = true;
  std::string head;
  stats_->invalid_fields +=
      AppendResponseHead(kStatusSwitchingProtocols, "", headers, framing, &head);
  Append(head);
  ++stats_->responses;
  ++stats_->upgrades;
  exchange->phase = Phase::kDone;
  exchange_.reset();
  state_ = ServerState::kUpgraded;
  stream_handler_ = handler;
  upgrade_link_ = std::make_shared<detail::UpgradeLink>();
  upgrade_link_->host = this;
  if (buffered != nullptr) {
    *buffered = std::move(in_);
    in_.clear();
  } else if (!in_.empty() && !processing_) {
    // Answered later than the request came: hand the early bytes over now.
    std::string early = std::move(in_);
    in_.clear();
    handler->OnStreamData(AsBytes(early));
  }
  // else: ProcessInput, which dispatched this request, delivers in_ when the handler returns.
  if (peer_eof_ && in_.empty()) {
    // The peer already closed its side: the stream is born closed.
    upgrade_link_->host = nullptr;
    stream_handler_ = nullptr;
    state_ = ServerState::kClosing;
    handler->OnStreamClosed();
    return UpgradedStream();
  }
  return UpgradedStream(upgrade_link_);
}

void ServerConnection::WriterDropped(detail::Exchange* exchange) {
  if (exchange != exchange_.get()) return;
  ++stats_->handler_dropped;
  if (exchange->phase == Phase::kFresh) {
    WriterSend(exchange, Response::Error(kStatusInternalServerError));
  } else {
    // Mid-stream: close without the last chunk, so the client sees a truncated body.
    exchange->phase = Phase::kDone;
    exchange_.reset();
    CloseQuietly();
  }
}

void ServerConnection::FinishExchange(bool close) {
  const bool was_upgrade_request = exchange_ != nullptr && exchange_->upgrade;
  if (exchange_ != nullptr) {
    exchange_->phase = Phase::kDone;
    exchange_.reset();
  }
  output_blocked_ = false;
  if (close) {
    state_ = ServerState::kClosing;
    Notify();
    return;
  }
  state_ = ServerState::kIdle;
  phase_start_ = Now();
  if (was_upgrade_request) {
    parser_.Reset();  // the upgrade was refused: what follows is HTTP again
  } else {
    parser_.Resume();
  }
  if (!in_.empty()) ++stats_->pipelined;
  ProcessInput();  // pipelined requests (a no-op when called from inside ProcessInput)
  Notify();
}

void ServerConnection::FailRequest(int status) {
  switch (status) {
    case kStatusHeaderFieldsTooLarge:
      ++stats_->header_too_large;
      break;
    case kStatusUriTooLong:
      ++stats_->target_too_long;
      break;
    case kStatusPayloadTooLarge:
      ++stats_->body_too_large;
      break;
    case kStatusRequestTimeout:
      break;  // counted by the timer that fired
    default:
      ++stats_->bad_requests;
      break;
  }
  const Response response = Response::Error(status);
  HeadFraming framing;
  framing.content_length = response.body.size();
  framing.close = true;
  std::string bytes;
  AppendResponseHead(response.status, "", response.headers, framing, &bytes);
  bytes.append(response.body);
  in_.clear();
  state_ = ServerState::kClosing;
  Append(bytes);
}

void ServerConnection::CloseQuietly() {
  if (exchange_ != nullptr) {
    exchange_->connection = nullptr;
    exchange_->phase = Phase::kDone;
    if (exchange_->observer != nullptr) exchange_->observer->OnClosed();
    exchange_.reset();
  }
  in_.clear();
  state_ = ServerState::kClosing;
  Notify();
}

// ---- Upgraded stream -------------------------------------------------------------------------

bool ServerConnection::UpgradedWrite(ByteSpan data) {
  if (state_ != ServerState::kUpgraded) return false;
  if (data.empty()) return true;
  if (buffered_output() + data.size() > limits_.max_buffered_output) {
    ++stats_->writes_refused;
    output_blocked_ = true;
    return false;
  }
  Append(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  return true;
}

void ServerConnection::UpgradedClose() {
  if (upgrade_link_ != nullptr) upgrade_link_->host = nullptr;
  stream_handler_ = nullptr;
  if (state_ == ServerState::kUpgraded) state_ = ServerState::kClosing;
  Notify();
}

}  // namespace meshvpn::http
