// StreamCore: the sans-I/O interface of a protocol core over one byte stream (the HTTP server and
// client connections), which a transport (plain TCP, TLS, a test's memory pipe) drives.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"

namespace meshvpn::http {

// Told when a core has new output or a new expiry outside a Receive/HandleExpiry call (a
// streaming handler wrote from its own timer): the transport should pump soon. May be called
// from inside a core method; the transport must not re-enter the core's Receive from it.
class CoreListener {
 public:
  virtual ~CoreListener() = default;
  virtual void OnCoreActivity() = 0;
};

// The contract, for every core:
//   * Receive() takes bytes the peer sent (all of them; a core that is not reading buffers or
//     drops them, within its bounds); ReceiveEof() says the peer will send no more.
//   * PendingOutput() is what to send next; ConsumeOutput(n) says n bytes of it were taken.
//   * WantsRead() false asks the transport to stop reading for now (back-pressure).
//   * WantsClose() true: close the transport once PendingOutput() is empty.
//   * NextExpiry()/HandleExpiry(now): the core's timers, on the Clock the core was given.
//   * Abort(): the transport failed or was closed; the core tells its handlers and goes quiet.
//     AbortWithError(why): the same, with the reason (a TLS failure) for the handlers.
class StreamCore {
 public:
  virtual ~StreamCore() = default;

  virtual void Receive(ByteSpan data) = 0;
  virtual void ReceiveEof() = 0;
  virtual std::string_view PendingOutput() const = 0;
  virtual void ConsumeOutput(size_t n) = 0;
  virtual bool WantsRead() const = 0;
  virtual bool WantsClose() const = 0;
  virtual std::optional<MonoTime> NextExpiry() const = 0;
  virtual void HandleExpiry(MonoTime now) = 0;
  virtual void Abort() = 0;
  // Abort() because of `why` (a TLS failure: the certificate check, an alert); a core whose
  // handlers report errors passes it on. The default just aborts.
  virtual void AbortWithError(const absl::Status& why) {
    (void)why;
    Abort();
  }

  void set_listener(CoreListener* listener) { listener_ = listener; }

 protected:
  void NotifyActivity() {
    if (listener_ != nullptr) listener_->OnCoreActivity();
  }

 private:
  CoreListener* listener_ = nullptr;
};

}  // namespace meshvpn::http
