// UvControlClient: the control client on a libuv loop: ControlClientCore over a UvChannelClient,
// with the reconnection timer. What the mesh client and the benchmark's simulated nodes use;
// several can share one loop.
#pragma once

#include <uv.h>

#include <memory>

#include "absl/status/statusor.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/control/client_core.h"
#include "meshvpn/control/uv_channel_client.h"

namespace meshvpn::control {

class UvControlClient final : private ChannelClientEvents {
 public:
  // `channel.machine_key` and `events` outlive the client.
  static absl::StatusOr<std::unique_ptr<UvControlClient>> Create(uv_loop_t* loop,
                                                                 ChannelClientOptions channel,
                                                                 ControlClientConfig config,
                                                                 ControlClientEvents* events);
  ~UvControlClient() override;
  UvControlClient(const UvControlClient&) = delete;
  UvControlClient& operator=(const UvControlClient&) = delete;

  // Connects (and reconnects after failures until Stop or a refusal).
  void Start();
  void Stop();
  // Reports, sent while streaming (else with the next map request).
  void SetEndpoints(std::vector<std::string> endpoints);
  void SetHomeDerpRegion(int32_t region);
  void SetDiscoKey(const x25519::PublicKey& key);

  const ControlClientCore& core() const { return core_; }
  ClientState state() const { return core_.state(); }
  const Netmap& netmap() const { return core_.netmap(); }
  // The server key in use (pinned, or fetched from /key on the first connection).
  const std::optional<x25519::PublicKey>& server_key() const { return channel_->server_key(); }

 private:
  UvControlClient(uv_loop_t* loop, ChannelClientOptions channel, ControlClientConfig config,
                  ControlClientEvents* events);
  // ChannelClientEvents.
  void OnChannelUp(const x25519::PublicKey& server_key) override;
  void OnEnvelope(v1::Envelope envelope) override;
  void OnChannelDown(const absl::Status& why) override;

  void SendAll(const std::vector<v1::Envelope>& envelopes);
  void SendMaybe(const std::optional<v1::Envelope>& envelope);
  static void OnRetryTimer(uv_timer_t* timer);

  ControlClientCore core_;
  std::unique_ptr<UvChannelClient> channel_;
  UvTimer retry_;
};

}  // namespace meshvpn::control
