#include "meshvpn/wg/uv_uapi_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_format.h"
#include "meshvpn/base/errno_status.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/uv_status.h"

namespace meshvpn::wg {

std::string UapiSocketPath(std::string_view interface_name) {
  return absl::StrFormat("%s/%s.sock", kUapiSocketDirectory, interface_name);
}

struct UvUapiServer::Connection {
  UvUapiServer* server = nullptr;
  UvPipe pipe;
  UapiRequestReader reader;
  bool closing = false;
  char read_buffer[4096];
};

namespace {

// A reply in flight: libuv needs the bytes until the write callback.
struct PendingWrite {
  uv_write_t request{};
  std::string text;
  ~PendingWrite() {
    SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(text.data()), text.size()));
  }
};

void OnWritten(uv_write_t* request, int) { delete static_cast<PendingWrite*>(request->data); }

}  // namespace

UvUapiServer::UvUapiServer(uv_loop_t* loop, std::string path, UapiHandler* handler, Logger logger)
    : loop_(loop), path_(std::move(path)), handler_(handler), logger_(std::move(logger)) {}

absl::StatusOr<std::unique_ptr<UvUapiServer>> UvUapiServer::Listen(uv_loop_t* loop,
                                                                   const std::string& path,
                                                                   UapiHandler* handler,
                                                                   Logger logger) {
  const std::string directory = path.substr(0, path.rfind('/'));
  if (!directory.empty() && ::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, absl::StrFormat("mkdir %s", directory));
  }
  // A stale socket of a process that died keeps the name; wireguard-go also replaces it.
  ::unlink(path.c_str());
  std::unique_ptr<UvUapiServer> server(new UvUapiServer(loop, path, handler, std::move(logger)));
  absl::StatusOr<UvPipe> pipe = UvPipe::Create(loop, uv_pipe_init, 0);
  if (!pipe.ok()) return pipe.status();
  server->listener_ = *std::move(pipe);
  server->listener_.set_owner(server.get());
  const mode_t old_mask = ::umask(0077);
  const int rc = uv_pipe_bind(server->listener_.get(), path.c_str());
  ::umask(old_mask);
  if (rc < 0) return UvToStatus(rc, absl::StrFormat("bind %s", path));
  if (int lrc = uv_listen(reinterpret_cast<uv_stream_t*>(server->listener_.get()), 16,
                          &UvUapiServer::OnConnection);
      lrc < 0) {
    return UvToStatus(lrc, absl::StrFormat("listen %s", path));
  }
  return server;
}

UvUapiServer::~UvUapiServer() {
  for (auto& connection : connections_) connection->pipe.Reset();
  connections_.clear();
  listener_.Reset();
  ::unlink(path_.c_str());
}

void UvUapiServer::OnConnection(uv_stream_t* stream, int status) {
  auto* self = static_cast<UvUapiServer*>(stream->data);
  if (self == nullptr || status < 0) return;
  self->Accept();
}

void UvUapiServer::Accept() {
  auto connection = std::make_unique<Connection>();
  connection->server = this;
  absl::StatusOr<UvPipe> pipe = UvPipe::Create(loop_, uv_pipe_init, 0);
  if (!pipe.ok()) return;
  connection->pipe = *std::move(pipe);
  connection->pipe.set_owner(connection.get());
  auto* client = reinterpret_cast<uv_stream_t*>(connection->pipe.get());
  if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_.get()), client) < 0) return;
  const int rc = uv_read_start(
      client,
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* c = static_cast<Connection*>(handle->data);
        *buf = uv_buf_init(c->read_buffer, sizeof c->read_buffer);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* c = static_cast<Connection*>(s->data);
        if (c != nullptr) c->server->OnRead(c, nread, buf);
      });
  if (rc < 0) return;
  connections_.push_back(std::move(connection));
}

void UvUapiServer::OnRead(Connection* connection, ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) return Close(connection);  // EOF or error
  if (nread == 0) return;
  absl::Status fed = connection->reader.Feed(
      ByteSpan(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)));
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(buf->base), static_cast<size_t>(nread)));
  while (std::optional<UapiRequest> request = connection->reader.Next()) {
    if (request->kind == UapiRequest::Kind::kGet) {
      Reply(connection, handler_->HandleUapiGet() + UapiErrnoLine(0));
    } else {
      absl::Status status = handler_->HandleUapiSet(request->body);
      SecureWipe(
          MutableByteSpan(reinterpret_cast<uint8_t*>(request->body.data()), request->body.size()));
      if (!status.ok()) logger_.Warning("uapi set: %s", status.message());
      Reply(connection, UapiErrnoLine(UapiErrno(status)));
    }
  }
  if (!fed.ok()) {
    logger_.Warning("uapi: %s", fed.message());
    Reply(connection, UapiErrnoLine(UapiErrno(fed)));
    Close(connection);
  }
}

void UvUapiServer::Reply(Connection* connection, std::string text) {
  auto* write = new PendingWrite;
  write->text = std::move(text);
  write->request.data = write;
  uv_buf_t buf = uv_buf_init(write->text.data(), static_cast<unsigned>(write->text.size()));
  if (uv_write(&write->request, reinterpret_cast<uv_stream_t*>(connection->pipe.get()), &buf, 1,
               &OnWritten) < 0) {
    delete write;
  }
}

void UvUapiServer::Close(Connection* connection) {
  auto it = std::find_if(connections_.begin(), connections_.end(),
                         [&](const auto& c) { return c.get() == connection; });
  if (it == connections_.end()) return;
  // libuv cancels writes still queued when the handle closes (UV_ECANCELED; OnWritten frees
  // them). A reply written just before usually went out at once: uv_write tries immediately.
  (*it)->pipe.Reset();
  connections_.erase(it);
}

}  // namespace meshvpn::wg
