// UpgradedStream: the raw byte stream of a connection after an HTTP Upgrade (101), on the server
// or the client side, with the handler that receives its bytes (DERP and the control protocol).
#pragma once

#include <cstddef>
#include <memory>

#include "meshvpn/base/bytes.h"

namespace meshvpn::http {

// Receives an upgraded connection's bytes, on the transport's thread.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // Bytes from the peer (already decrypted under TLS); valid only during the call.
  virtual void OnStreamData(ByteSpan data) = 0;
  // The peer closed, the transport failed, or the stream was closed: no more calls follow and
  // the UpgradedStream is dead (Write returns false).
  virtual void OnStreamClosed() = 0;
  // Buffered output fell below half the bound after a Write was refused.
  virtual void OnStreamWritable() {}
};

namespace detail {
// What an UpgradedStream talks to; implemented by the server and client connections.
class UpgradeHost {
 public:
  virtual ~UpgradeHost() = default;
  virtual bool UpgradedWrite(ByteSpan data) = 0;
  virtual void UpgradedClose() = 0;
  virtual size_t UpgradedBufferedOutput() const = 0;
  virtual void UpgradedSetHandler(StreamHandler* handler) = 0;
};
struct UpgradeLink {
  UpgradeHost* host = nullptr;  // null once the connection is gone
};
}  // namespace detail

// A move-only handle on the upgraded connection. The connection (and its transport) lives until
// the peer closes, the transport fails, or the handle is closed or destroyed: dropping the last
// handle closes the connection after its buffered output is sent.
class UpgradedStream {
 public:
  UpgradedStream() = default;
  explicit UpgradedStream(std::shared_ptr<detail::UpgradeLink> link) : link_(std::move(link)) {}
  ~UpgradedStream() { Close(); }
  UpgradedStream(UpgradedStream&&) noexcept = default;
  UpgradedStream& operator=(UpgradedStream&& other) noexcept {
    if (this != &other) {
      Close();
      link_ = std::move(other.link_);
    }
    return *this;
  }

  // True while the connection is open.
  bool alive() const { return link_ && link_->host != nullptr; }
  // Queues `data` to send (encrypted under TLS). False, and nothing queued, if the stream is
  // dead or the bytes would take buffered output past the connection's bound; the handler's
  // OnStreamWritable says when to try again.
  bool Write(ByteSpan data) { return alive() && link_->host->UpgradedWrite(data); }
  // Bytes queued and not yet taken by the transport.
  size_t buffered_output() const { return alive() ? link_->host->UpgradedBufferedOutput() : 0; }
  // Replaces the handler (it must outlive the stream or be replaced).
  void set_handler(StreamHandler* handler) {
    if (alive()) link_->host->UpgradedSetHandler(handler);
  }
  // Sends what is buffered, then closes (TLS close_notify, then the socket). No handler calls
  // follow, not even OnStreamClosed: the caller knows.
  void Close() {
    if (alive()) link_->host->UpgradedClose();
    link_.reset();
  }

 private:
  std::shared_ptr<detail::UpgradeLink> link_;
};

}  // namespace meshvpn::http
