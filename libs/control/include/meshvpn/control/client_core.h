// ControlClientCore: the control client's logic without I/O: what to send when the channel comes
// up (registration, then the map stream), how registration and the map stream advance, the
// netmap the stream builds, reports of endpoints and home DERP region, and the reconnection
// backoff with jitter. UvControlClient (uv_control_client.h) drives it over UvChannelClient.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "meshvpn/control/netmap.h"
#include "meshvpn/control/v1/control.pb.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::control {

enum class ClientState {
  kStopped,           // not started, or stopped for good (see last_error)
  kConnecting,        // waiting for the channel
  kRegistering,       // RegisterRequest sent
  kAwaitingApproval,  // the server gave an auth URL; an admin must approve
  kStreaming,         // registered, map stream open
  kBackoff,           // the channel went down; a retry is scheduled
  kNeedsLogin,  // the server refused for good (expired node key, bad auth key): new key needed
};
std::string_view ToString(ClientState state);

// What the application hears (the mesh client, a test, the benchmark's driver).
class ControlClientEvents {
 public:
  virtual ~ControlClientEvents() = default;
  virtual void OnStateChanged(ClientState /*state*/) {}
  // Interactive registration: show this to a person.
  virtual void OnAuthUrl(const std::string& /*url*/) {}
  virtual void OnRegistered(const v1::RegisterResponse& /*response*/) {}
  // The netmap after each map message (full or delta); `change` says what moved.
  virtual void OnNetmap(const Netmap& /*netmap*/, const NetmapChange& /*change*/) {}
  // Something went wrong (the state says whether it will retry).
  virtual void OnError(const absl::Status& /*error*/) {}
};

struct ControlClientConfig {
  x25519::PublicKey node_key;
  // Set when node_key replaces this one (key rotation): the server keeps the node and its
  // addresses without a new login. Zero: not rotating.
  x25519::PublicKey old_node_key;
  x25519::PublicKey disco_key;  // may be zero until magicsock has one
  v1::Hostinfo hostinfo;
  std::string auth_key;  // a pre-auth key; empty: interactive (OnAuthUrl)
  bool ephemeral = false;
  // Reconnection: the delay doubles from `backoff_initial` to `backoff_max`, each delay drawn
  // from [0.5, 1.0] of it (jitter, so 10,000 nodes do not come back in step).
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  // Keep the netmap (the benchmark's simulated clients may count and drop it instead).
  bool keep_netmap = true;
  uint32_t seed = 0;  // for the jitter; 0: random
};

class ControlClientCore {
 public:
  ControlClientCore(ControlClientConfig config, ControlClientEvents* events);

  // Start: the driver connects. Stop: no more sending or retrying.
  void Start();
  void Stop();
  // The channel is up: the messages to send (the RegisterRequest).
  std::vector<v1::Envelope> OnChannelUp();
  // A message from the server: the replies to send.
  std::vector<v1::Envelope> OnEnvelope(const v1::Envelope& envelope);
  // The channel is down (or the attempt failed): how long to wait before connecting again, or
  // nullopt to stay down (stopped or needing a new login).
  std::optional<std::chrono::milliseconds> OnChannelDown(const absl::Status& why);

  // What the node reports about itself; sent at once while streaming, else with the next map
  // request. Each returns the message to send now, if any.
  std::optional<v1::Envelope> SetEndpoints(std::vector<std::string> endpoints);
  std::optional<v1::Envelope> SetHomeDerpRegion(int32_t region);
  std::optional<v1::Envelope> SetDiscoKey(const x25519::PublicKey& key);
  // A new pre-auth key after kNeedsLogin (call Start again).
  void SetAuthKey(std::string auth_key) { config_.auth_key = std::move(auth_key); }

  ClientState state() const { return state_; }
  const Netmap& netmap() const { return netmap_; }
  const absl::Status& last_error() const { return last_error_; }
  uint64_t map_messages() const { return map_messages_; }
  uint64_t reconnects() const { return reconnects_; }

 private:
  void SetState(ClientState s);
  v1::Envelope RegisterRequest(bool followup) const;
  v1::Envelope MapRequest(bool stream) const;
  std::vector<v1::Envelope> OnRegisterResponse(const v1::RegisterResponse& r);
  std::vector<v1::Envelope> OnMapResponse(const v1::MapResponse& r);
  std::optional<v1::Envelope> ReportIfStreaming();

  ControlClientConfig config_;
  ControlClientEvents* events_;
  ClientState state_ = ClientState::kStopped;
  Netmap netmap_;
  std::vector<std::string> endpoints_;
  int32_t home_derp_region_ = 0;
  bool waiting_for_approval_ = false;  // survives reconnects: the next request is a followup
  absl::Status last_error_;
  std::chrono::milliseconds next_backoff_;
  std::mt19937 rng_;
  uint64_t map_messages_ = 0;
  uint64_t reconnects_ = 0;
};

}  // namespace meshvpn::control
