// UvServer: the listener, the connection limit and graceful shutdown; UvConnection moves bytes.
#include "meshvpn/http/uv_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "meshvpn/base/errno_status.h"
#include "meshvpn/base/uv_status.h"
#include "meshvpn/http/address.h"
#include "meshvpn/http/connection_stack.h"
#include "uv_connection.h"

namespace meshvpn::http {
namespace {

constexpr std::string_view kUnixListenPrefix = "unix:";

// Whether something answers a connect on the socket file at `path`: true (a server listens),
// false (ECONNREFUSED: a stale socket), or an error that says neither.
absl::StatusOr<bool> SocketAnswers(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, "http server: socket(AF_UNIX)");
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int error = errno;
  close(fd);
  if (rc == 0 || error == EAGAIN || error == EINPROGRESS) return true;  // EAGAIN: backlog full
  if (error == ECONNREFUSED) return false;
  return ErrnoToStatus(error, absl::StrFormat("http server: probe unix:%s", path));
}

}  // namespace

// The server's side of its connections: counts them and unlinks them when they close.
class UvServer::Owner final : public UvConnectionOwner {
 public:
  explicit Owner(UvServer* server) : server_(server) {}
  void OnConnectionClosed(UvConnection* connection) override {
    server_->OnConnectionClosed(connection);
  }

 private:
  UvServer* server_;
};

absl::StatusOr<std::unique_ptr<UvServer>> UvServer::Listen(uv_loop_t* loop, UvServerOptions options,
                                                           RequestHandler* handler) {
  if (options.tls != nullptr && !options.tls->is_server()) {
    return absl::InvalidArgumentError("http server: the TLS context is a client context");
  }
  if (options.tls != nullptr && options.listen.starts_with(kUnixListenPrefix)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("http server: TLS is not offered on a Unix socket (%s)", options.listen));
  }
  std::unique_ptr<UvServer> server(new UvServer(loop, std::move(options), handler));
  if (absl::Status s = server->Bind(); !s.ok()) return s;
  return server;
}

UvServer::UvServer(uv_loop_t* loop, UvServerOptions options, RequestHandler* handler)
    : loop_(loop),
      options_(std::move(options)),
      handler_(handler),
      clock_(options_.clock != nullptr ? options_.clock : &RealClock::Instance()),
      log_(options_.log, "http"),
      owner_(std::make_unique<Owner>(this)),
      read_buffer_(std::make_unique<char[]>(kReadBufferSize)) {}

UvServer::~UvServer() {
  StopListening();
  grace_timer_.Reset();
  while (connections_ != nullptr) {
    UvConnection* c = connections_;
    Unlink(c);
    delete c;  // closes its handles and aborts its stack; the owner is not told
  }
}

absl::Status UvServer::Bind() {
  if (options_.listen.starts_with(kUnixListenPrefix)) {
    return BindUnix(options_.listen.substr(kUnixListenPrefix.size()));
  }
  return BindTcp();
}

absl::Status UvServer::BindTcp() {
  auto address = ParseHostPort(options_.listen);
  if (!address.ok()) return address.status();
  std::string host = address->host;
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_storage storage{};
  if (uv_ip4_addr(host.c_str(), address->port, reinterpret_cast<sockaddr_in*>(&storage)) != 0 &&
      uv_ip6_addr(host.c_str(), address->port, reinterpret_cast<sockaddr_in6*>(&storage)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("http server: listen address %s is not an IP address", options_.listen));
  }
  auto tcp = UvTcp::Create(loop_, uv_tcp_init);
  if (!tcp.ok()) return tcp.status();
  listener_ = std::move(*tcp);
  listener_.set_owner(this);
  if (int rc = uv_tcp_bind(listener_.tcp(), reinterpret_cast<const sockaddr*>(&storage), 0);
      rc < 0) {
    return UvToStatus(rc, absl::StrFormat("http server: bind %s", options_.listen));
  }
  if (int rc = uv_listen(listener_.get(), options_.backlog, &UvServer::OnConnection); rc < 0) {
    return UvToStatus(rc, absl::StrFormat("http server: listen on %s", options_.listen));
  }
  sockaddr_storage bound{};
  int len = sizeof(bound);
  uv_tcp_getsockname(listener_.tcp(), reinterpret_cast<sockaddr*>(&bound), &len);
  local_address_ = SocketAddressString(bound);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  log_.Info("listening on %s (%s)", local_address_, options_.tls != nullptr ? "https" : "http");
  return absl::OkStatus();
}

absl::Status UvServer::BindUnix(const std::string& path) {
  unix_ = true;
  if (path.empty()) {
    return absl::InvalidArgumentError("http server: listen \"unix:\" names no socket path");
  }
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {  // libuv would truncate it silently
    return absl::InvalidArgumentError(
        absl::StrFormat("http server: the socket path %s is longer than %d bytes", path,
                        sizeof(sockaddr_un{}.sun_path) - 1));
  }
  // Replace only a socket nobody answers on; never a live server's, never another kind of file.
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrFormat("http server: %s exists and is not a socket; not replacing it", path));
    }
    auto answers = SocketAnswers(path);
    if (!answers.ok()) return answers.status();
    if (*answers) {
      return absl::AlreadyExistsError(
          absl::StrFormat("http server: another server is listening on unix:%s", path));
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoToStatus(errno, absl::StrFormat("http server: remove the stale socket %s", path));
    }
    log_.Info("removed the stale socket %s", path);
  } else if (errno != ENOENT) {
    return ErrnoToStatus(errno, absl::StrFormat("http server: stat %s", path));
  }

  auto pipe = UvPipe::Create(loop_, uv_pipe_init, 0);
  if (!pipe.ok()) return pipe.status();
  listener_ = std::move(*pipe);
  listener_.set_owner(this);
  // bind() creates the file with 0777 & ~umask: under umask 0177 it is born 0600, so it is never
  // open to others, not even for a moment. The umask is the process's: restored at once.
  const mode_t old_umask = umask(0177);
  const int rc = uv_pipe_bind(listener_.pipe(), path.c_str());
  umask(old_umask);
  if (rc < 0) return UvToStatus(rc, absl::StrFormat("http server: bind unix:%s", path));
  if (lstat(path.c_str(), &st) == 0) {
    unix_path_ = path;  // ours now: StopListening removes it
    unix_device_ = st.st_dev;
    unix_inode_ = st.st_ino;
  }
  // A default ACL on the directory overrides the umask: make sure of the mode.
  if (chmod(path.c_str(), 0600) != 0) {
    return ErrnoToStatus(errno, absl::StrFormat("http server: chmod 0600 %s", path));
  }
  if (int rc2 = uv_listen(listener_.get(), options_.backlog, &UvServer::OnConnection); rc2 < 0) {
    return UvToStatus(rc2, absl::StrFormat("http server: listen on unix:%s", path));
  }
  local_address_ = std::string(kUnixListenPrefix) + path;
  port_ = 0;
  log_.Info("listening on %s (http)", local_address_);
  return absl::OkStatus();
}

void UvServer::StopListening() {
  listener_.Reset();  // libuv unlinks the file of a bound pipe as it closes it
  if (unix_path_.empty()) return;
  // In case it did not: remove the file if it is still the one we bound (not a successor's).
  struct stat st {};
  if (lstat(unix_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == unix_device_ &&
      st.st_ino == unix_inode_) {
    unlink(unix_path_.c_str());
  }
  unix_path_.clear();
}

void UvServer::OnConnection(uv_stream_t* listener, int status) {
  auto* self = static_cast<UvServer*>(listener->data);
  if (self != nullptr) self->HandleConnection(status);
}

void UvServer::HandleConnection(int status) {
  if (status < 0) {
    log_.Warning("accept: %s", uv_strerror(status));
    return;
  }
  UvStream stream;
  if (unix_) {
    auto pipe = UvPipe::Create(loop_, uv_pipe_init, 0);
    if (!pipe.ok()) return;
    stream = std::move(*pipe);
  } else {
    auto tcp = UvTcp::Create(loop_, uv_tcp_init);
    if (!tcp.ok()) return;
    stream = std::move(*tcp);
  }
  if (uv_accept(listener_.get(), stream.get()) != 0) return;
  if (shutting_down_ || connection_count_ >= options_.max_connections) {
    ++stats_.rejected_connections;
    return;  // `stream` closes as it goes out of scope
  }
  std::unique_ptr<TlsSession> tls;
  if (options_.tls != nullptr) {
    auto session = TlsSession::NewServer(options_.tls);
    if (!session.ok()) {
      ++stats_.tls_failures;
      log_.Warning("tls session: %s", session.status().message());
      return;
    }
    tls = std::move(*session);
  }
  auto core = std::make_unique<ServerConnection>(clock_, handler_, options_.limits, &stats_.http);
  core->set_remote_address(PeerAddressString(stream));
  auto stack = std::make_unique<ConnectionStack>(std::move(core), std::move(tls));
  auto* connection =
      new UvConnection(loop_, clock_, std::move(stream), std::move(stack),
                       std::span<char>(read_buffer_.get(), kReadBufferSize), owner_.get());
  ++stats_.accepted;
  ++connection_count_;
  connection->next = connections_;
  if (connections_ != nullptr) connections_->prev = connection;
  connections_ = connection;
  log_.Debug("connection from %s", connection->peer());
  if (absl::Status s = connection->Start(); !s.ok()) connection->Close();
}

void UvServer::Unlink(UvConnection* connection) {
  if (connection->prev != nullptr) connection->prev->next = connection->next;
  if (connection->next != nullptr) connection->next->prev = connection->prev;
  if (connections_ == connection) connections_ = connection->next;
  connection->prev = connection->next = nullptr;
  --connection_count_;
}

void UvServer::OnConnectionClosed(UvConnection* connection) {
  if (const TlsSession* tls = connection->stack().tls();
      tls != nullptr && tls->state() == TlsState::kFailed) {
    ++stats_.tls_failures;
    log_.Debug("tls from %s failed: %s", connection->peer(), tls->error().message());
  }
  ++stats_.closed;
  Unlink(connection);
  delete connection;
  CheckShutdownDone();
}

void UvServer::Shutdown(Duration grace, std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_done_ = std::move(done);
  StopListening();
  // Tell every connection; some close at once (and unlink themselves), so walk a copy.
  std::vector<UvConnection*> live;
  for (UvConnection* c = connections_; c != nullptr; c = c->next) live.push_back(c);
  for (UvConnection* c : live) {
    static_cast<ServerConnection*>(c->stack().core())->Shutdown();
  }
  // Shutdown() above queued output or a close; drive the connections that are still here.
  live.clear();
  for (UvConnection* c = connections_; c != nullptr; c = c->next) live.push_back(c);
  for (UvConnection* c : live) c->Poke();
  if (connection_count_ > 0) {
    auto timer = UvTimer::Create(loop_, uv_timer_init);
    if (timer.ok()) {
      grace_timer_ = std::move(*timer);
      grace_timer_.set_owner(this);
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(grace).count();
      uv_timer_start(grace_timer_.get(), &UvServer::OnGraceTimer,
                     static_cast<uint64_t>(std::max<int64_t>(0, ms)), 0);
    }
  }
  CheckShutdownDone();
}

void UvServer::OnGraceTimer(uv_timer_t* timer) {
  auto* self = static_cast<UvServer*>(timer->data);
  if (self == nullptr) return;
  self->log_.Info("shutdown grace over: closing %d connection(s)", self->connection_count_);
  while (self->connections_ != nullptr) self->connections_->Close();  // each unlinks itself
}

void UvServer::CheckShutdownDone() {
  if (!shutting_down_ || connection_count_ > 0 || !shutdown_done_) return;
  grace_timer_.Reset();
  std::function<void()> done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  done();
}

}  // namespace meshvpn::http
