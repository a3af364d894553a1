// ConnectionStack: the sans-I/O stack of one TCP connection, an optional TlsSession under an HTTP
// StreamCore; a driver (or a test) moves wire bytes in and out and nothing else.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/http/stream_core.h"
#include "meshvpn/http/tls_session.h"

namespace meshvpn::http {

// Plain: wire bytes are the core's bytes (no copy). TLS: received ciphertext is decrypted in
// 16 KiB pieces straight into the core; the core's output is encrypted while the session's
// pending ciphertext is under kMaxPendingCiphertext, so a slow peer back-pressures the core
// (whose own bounds then refuse writes). When the core wants to close, close_notify goes out
// first. A TLS failure aborts the core (its handlers hear OnClosed / an error).
class ConnectionStack final : private CoreListener {
 public:
  static constexpr size_t kMaxPendingCiphertext = 64 * 1024;

  // `tls` null: plain TCP.
  ConnectionStack(std::unique_ptr<StreamCore> core, std::unique_ptr<TlsSession> tls);
  ~ConnectionStack() override;
  ConnectionStack(const ConnectionStack&) = delete;
  ConnectionStack& operator=(const ConnectionStack&) = delete;

  // Client TLS: the ClientHello (and any request queued before it).
  void Start();
  void ReceiveWire(ByteSpan data);
  void ReceiveWireEof();
  std::string_view PendingWire() const;
  void ConsumeWire(size_t n);
  bool WantsRead() const;
  // Close the socket once PendingWire() is empty.
  bool WantsClose() const;
  std::optional<MonoTime> NextExpiry() const;
  void HandleExpiry(MonoTime now);
  // The socket failed or is being closed.
  void Abort();

  // Told when the core has output outside a call made through the stack (see CoreListener).
  void set_listener(CoreListener* listener) { listener_ = listener; }
  StreamCore* core() const { return core_.get(); }
  TlsSession* tls() const { return tls_.get(); }

 private:
  void OnCoreActivity() override;
  void Pump();
  void DeliverPlaintext();

  std::unique_ptr<StreamCore> core_;
  std::unique_ptr<TlsSession> tls_;
  CoreListener* listener_ = nullptr;
  bool tls_failed_reported_ = false;
  bool eof_ = false;
  bool close_notify_sent_ = false;
  bool aborted_ = false;
  int depth_ = 0;
};

}  // namespace meshvpn::http
