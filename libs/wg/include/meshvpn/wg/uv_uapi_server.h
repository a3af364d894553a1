// The UAPI socket of a userspace WireGuard device on a libuv loop: listens on
// /var/run/wireguard/<iface>.sock, as wireguard-go does, so the standard `wg` tool drives it.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/wg/uapi.h"

namespace meshvpn::wg {

// Answers the requests (usually the device driver). Called on the loop thread.
class UapiHandler {
 public:
  virtual ~UapiHandler() = default;
  // The get=1 reply body (FormatUapiGet), without the errno trailer.
  virtual std::string HandleUapiGet() = 0;
  // Applies a set=1 body; the status becomes the errno of the reply (UapiErrno).
  virtual absl::Status HandleUapiSet(std::string_view body) = 0;
};

// The directory wireguard-go and `wg` use for the sockets.
inline constexpr std::string_view kUapiSocketDirectory = "/var/run/wireguard";
// "/var/run/wireguard/<iface>.sock"
std::string UapiSocketPath(std::string_view interface_name);

// Each connection may carry several requests; every reply ends in "errno=N\n\n". A malformed
// request gets an errno reply and the connection is closed. The socket file is created with mode
// 0600 (root's `wg` only: replies carry private keys) and removed on destruction.
class UvUapiServer {
 public:
  static absl::StatusOr<std::unique_ptr<UvUapiServer>> Listen(uv_loop_t* loop,
                                                              const std::string& path,
                                                              UapiHandler* handler,
                                                              Logger logger = {});
  ~UvUapiServer();
  UvUapiServer(const UvUapiServer&) = delete;
  UvUapiServer& operator=(const UvUapiServer&) = delete;

  const std::string& path() const { return path_; }
  size_t connections() const { return connections_.size(); }

 private:
  struct Connection;
  UvUapiServer(uv_loop_t* loop, std::string path, UapiHandler* handler, Logger logger);
  static void OnConnection(uv_stream_t* server, int status);
  void Accept();
  void OnRead(Connection* connection, ssize_t nread, const uv_buf_t* buf);
  void Reply(Connection* connection, std::string text);
  void Close(Connection* connection);

  uv_loop_t* loop_;
  std::string path_;
  UapiHandler* handler_;
  Logger logger_;
  UvPipe listener_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace meshvpn::wg
