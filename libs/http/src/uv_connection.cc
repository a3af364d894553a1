// UvConnection: bytes between a uv_stream_t (TCP or Unix socket) and its ConnectionStack; nothing
// here knows HTTP or TLS.
#include "uv_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"

namespace meshvpn::http {
namespace {
constexpr size_t kOwnReadBuffer = 64 * 1024;
}  // namespace

std::string SocketAddressString(const struct sockaddr_storage& address) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (address.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&address);
    uv_ip4_name(a, ip, sizeof(ip));
    return absl::StrFormat("%s:%d", ip, ntohs(a->sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&address);
    uv_ip6_name(a, ip, sizeof(ip));
    return absl::StrFormat("[%s]:%d", ip, ntohs(a->sin6_port));
  }
  return "?";
}

std::string PeerAddressString(const UvStream& stream) {
  if (stream.is_tcp()) {
    sockaddr_storage address{};
    int len = sizeof(address);
    if (uv_tcp_getpeername(stream.tcp(), reinterpret_cast<sockaddr*>(&address), &len) != 0) {
      return "";
    }
    return SocketAddressString(address);
  }
  std::string out(kUnixAddressPrefix);
  if (stream.is_pipe()) {
    char name[256] = {};
    size_t size = sizeof(name);
    if (uv_pipe_getpeername(stream.pipe(), name, &size) == 0 && size > 0 && name[0] != '\0') {
      out.append(name, size);
    }
  }
  return out;
}

UvConnection::UvConnection(uv_loop_t* loop, const Clock* clock, UvStream stream,
                           std::unique_ptr<ConnectionStack> stack, std::span<char> read_buffer,
                           UvConnectionOwner* owner)
    : loop_(loop),
      clock_(clock),
      stream_(std::move(stream)),
      stack_(std::move(stack)),
      read_buffer_(read_buffer),
      owner_(owner) {
  if (read_buffer_.empty()) {
    own_read_buffer_ = std::make_unique<char[]>(kOwnReadBuffer);
    read_buffer_ = std::span<char>(own_read_buffer_.get(), kOwnReadBuffer);
  }
  stream_.set_owner(this);
  stack_->set_listener(this);
  peer_ = PeerAddressString(stream_);
}

UvConnection::~UvConnection() {
  owner_told_ = true;  // a destructor is not a close to report
  Close();
}

absl::Status UvConnection::Start() {
  auto timer = UvTimer::Create(loop_, uv_timer_init);
  if (!timer.ok()) return timer.status();
  timer_ = std::move(*timer);
  timer_.set_owner(this);
  if (stream_.is_tcp()) uv_tcp_nodelay(stream_.tcp(), 1);
  Enter();
  stack_->Start();
  Leave();
  return absl::OkStatus();
}

void UvConnection::Close() {
  if (closed_) return;
  closed_ = true;
  if (write_op_ != nullptr) write_op_->connection = nullptr;  // it frees itself when cancelled
  write_op_ = nullptr;
  if (shutdown_op_ != nullptr) shutdown_op_->connection = nullptr;
  shutdown_op_ = nullptr;
  stream_.Reset();
  timer_.Reset();
  stack_->Abort();
  if (depth_ == 0 && !owner_told_) {
    owner_told_ = true;
    owner_->OnConnectionClosed(this);  // may delete this
  }
}

void UvConnection::Leave() {
  if (--depth_ > 0) return;
  if (closed_) {
    if (!owner_told_) {
      owner_told_ = true;
      owner_->OnConnectionClosed(this);  // may delete this
    }
    return;
  }
  Pump();
}

void UvConnection::OnCoreActivity() {
  if (depth_ > 0) return;  // Leave() pumps
  Pump();
}

void UvConnection::Pump() {
  if (closed_) return;
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  ++depth_;
  do {
    pump_again_ = false;
    if (!shutting_down_) {
      StartWrite();
      if (closed_) break;
      if (write_op_ == nullptr && stack_->PendingWire().empty() && stack_->WantsClose()) {
        BeginShutdown();
        if (closed_) break;
      }
    }
    UpdateReading();
    UpdateTimer();
  } while (pump_again_ && !closed_);
  pumping_ = false;
  --depth_;
  if (closed_ && depth_ == 0 && !owner_told_) {
    owner_told_ = true;
    owner_->OnConnectionClosed(this);  // may delete this
  }
}

void UvConnection::StartWrite() {
  while (write_op_ == nullptr && !closed_) {
    const std::string_view pending = stack_->PendingWire();
    if (pending.empty()) return;
    const size_t size = std::min(pending.size(), kMaxWrite);
    uv_buf_t buf = uv_buf_init(const_cast<char*>(pending.data()), static_cast<unsigned>(size));
    const int tried = uv_try_write(stream_.get(), &buf, 1);
    if (tried > 0) {
      stack_->ConsumeWire(static_cast<size_t>(tried));  // may add more output: loop
      continue;
    }
    if (tried != UV_EAGAIN && tried != UV_ENOSYS) {
      Close();  // EPIPE, ECONNRESET: the peer is gone
      return;
    }
    // The socket is full: copy what is pending (the stack's buffer may move) and wait.
    auto* op = new WriteOp;
    op->connection = this;
    op->bytes.assign(pending.data(), size);
    op->req.data = op;
    uv_buf_t copy = uv_buf_init(op->bytes.data(), static_cast<unsigned>(op->bytes.size()));
    if (int rc = uv_write(&op->req, stream_.get(), &copy, 1, &UvConnection::OnWrite); rc < 0) {
      delete op;
      Close();
      return;
    }
    write_op_ = op;
  }
}

void UvConnection::OnWrite(uv_write_t* req, int status) {
  auto* op = static_cast<WriteOp*>(req->data);
  UvConnection* self = op->connection;
  const size_t written = op->bytes.size();
  delete op;
  if (self == nullptr) return;
  self->write_op_ = nullptr;
  self->Enter();
  if (status < 0) {
    self->Close();
  } else {
    self->stack_->ConsumeWire(written);
  }
  self->Leave();
}

void UvConnection::UpdateReading() {
  if (closed_ || eof_) return;
  const bool want = shutting_down_ || stack_->WantsRead();
  if (want == reading_) return;
  auto* stream = stream_.get();
  if (want) {
    if (uv_read_start(stream, &UvConnection::OnAlloc, &UvConnection::OnRead) == 0) {
      reading_ = true;
    }
  } else {
    uv_read_stop(stream);
    reading_ = false;
  }
}

void UvConnection::UpdateTimer() {
  if (closed_ || !timer_) return;
  if (shutting_down_) return;  // the linger timer runs
  const std::optional<MonoTime> at = stack_->NextExpiry();
  if (!at) {
    uv_timer_stop(timer_.get());
    return;
  }
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*at - clock_->Now());
  uv_timer_start(timer_.get(), &UvConnection::OnTimer,
                 static_cast<uint64_t>(std::max<int64_t>(0, wait.count())), 0);
}

void UvConnection::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<UvConnection*>(timer->data);
  if (self == nullptr) return;
  self->Enter();
  if (self->shutting_down_) {
    self->Close();  // the linger is over
  } else {
    self->stack_->HandleExpiry(self->clock_->Now());
  }
  self->Leave();
}

void UvConnection::BeginShutdown() {
  shutting_down_ = true;
  if (eof_) {
    Close();  // the peer is done too: nothing to drain
    return;
  }
  auto* op = new ShutdownOp;
  op->connection = this;
  op->req.data = op;
  if (uv_shutdown(&op->req, stream_.get(), &UvConnection::OnShutdown) < 0) {
    delete op;
    Close();
    return;
  }
  shutdown_op_ = op;
  uv_timer_start(timer_.get(), &UvConnection::OnTimer, kLinger.count(), 0);
}

void UvConnection::OnShutdown(uv_shutdown_t* req, int status) {
  auto* op = static_cast<ShutdownOp*>(req->data);
  UvConnection* self = op->connection;
  delete op;
  if (self == nullptr) return;
  self->shutdown_op_ = nullptr;
  if (status < 0) {
    self->Enter();
    self->Close();
    self->Leave();
  }
  // Otherwise keep reading until the peer's FIN or the linger timer.
}

void UvConnection::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<UvConnection*>(handle->data);
  if (self == nullptr) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(self->read_buffer_.data(), static_cast<unsigned>(self->read_buffer_.size()));
}

void UvConnection::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<UvConnection*>(stream->data);
  if (self == nullptr) return;
  self->Enter();
  self->HandleRead(nread, buf);
  self->Leave();
}

void UvConnection::HandleRead(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;  // EAGAIN
  if (nread == UV_EOF) {
    eof_ = true;
    uv_read_stop(stream_.get());
    reading_ = false;
    if (shutting_down_) {
      Close();
    } else {
      stack_->ReceiveWireEof();
    }
    return;
  }
  if (nread < 0) {
    Close();  // ECONNRESET, ETIMEDOUT...
    return;
  }
  if (shutting_down_) return;  // draining before the close
  stack_->ReceiveWire(
      ByteSpan(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)));
}

}  // namespace meshvpn::http
