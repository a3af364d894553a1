// UvChannelServer: the server end of the control channel on libs/http's server. "GET /key" gives
// the server's public key; "POST /control/v1" with "Upgrade: meshvpn-control/1" and the Noise
// initiation in "X-Meshvpn-Handshake" becomes an authenticated channel whose Envelopes go to a
// ChannelAcceptor (the control server). Everything else goes to a fallback handler.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/control/noise_channel.h"
#include "meshvpn/http/response_writer.h"
#include "meshvpn/http/upgraded_stream.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::control {

inline constexpr std::string_view kControlPath = "/control/v1";
inline constexpr std::string_view kKeyPath = "/key";
inline constexpr std::string_view kControlUpgrade = "meshvpn-control/1";
inline constexpr std::string_view kHandshakeHeader = "X-Meshvpn-Handshake";

// One established channel, owned by the server; valid until OnChannelClosed returns.
class ChannelSession {
 public:
  virtual ~ChannelSession() = default;
  virtual uint64_t id() const = 0;
  // Who the client is: the machine key its handshake proved.
  virtual const x25519::PublicKey& machine_key() const = 0;
  virtual const std::string& remote_address() const = 0;
  // Queues an Envelope (or an encoded one). False, and the channel is closed, when the client
  // does not read and its queue is over the bound.
  virtual bool Send(const v1::Envelope& envelope) = 0;
  virtual bool SendEncoded(std::string_view envelope_bytes) = 0;
  // Sends an error frame with `reason` (no secrets), then closes. No OnChannelClosed follows.
  virtual void Close(std::string_view reason) = 0;
  // Bytes queued and not yet taken by the connection.
  virtual size_t pending_output() const = 0;
};

// What the control server implements. Calls come on the loop's thread.
class ChannelAcceptor {
 public:
  virtual ~ChannelAcceptor() = default;
  virtual void OnChannelOpen(ChannelSession& session) = 0;
  virtual void OnEnvelope(ChannelSession& session, v1::Envelope envelope) = 0;
  // The client closed, the channel failed (`why`), or the connection broke.
  virtual void OnChannelClosed(ChannelSession& session, const absl::Status& why) = 0;
};

struct ChannelServerStats {
  uint64_t handshakes = 0;          // channels established
  uint64_t handshake_failures = 0;  // bad or unauthenticated initiations (400/401)
  uint64_t channel_errors = 0;      // channels ended by a bad record or Envelope
  uint64_t slow_readers = 0;        // closed: output over the bound
};

struct ChannelServerOptions {
  const x25519::PrivateKey* server_key = nullptr;  // outlives the server
  ChannelAcceptor* acceptor = nullptr;
  http::RequestHandler* fallback = nullptr;  // other paths; null: 404
  // A channel whose unsent output passes this is closed (a full map of 10,000 peers is 2.6 MB).
  size_t max_pending_output = 64 << 20;
};

class UvChannelServer final : public http::RequestHandler {
 public:
  static absl::StatusOr<std::unique_ptr<UvChannelServer>> Create(uv_loop_t* loop,
                                                                 ChannelServerOptions options);
  ~UvChannelServer() override;
  UvChannelServer(const UvChannelServer&) = delete;
  UvChannelServer& operator=(const UvChannelServer&) = delete;

  void OnRequest(http::Request& request, http::ResponseWriter writer) override;

  const x25519::PublicKey& public_key() const { return public_key_; }
  size_t channel_count() const { return channels_.size(); }
  const ChannelServerStats& stats() const { return stats_; }
  // Closes every channel (shutdown), flushing what is queued; the acceptor hears
  // OnChannelClosed (Cancelled) for each, so that nothing of theirs is used afterwards.
  // (Destroying the server closes them without calling the acceptor.)
  void CloseAll();

 private:
  class Channel;
  UvChannelServer(uv_loop_t* loop, ChannelServerOptions options, x25519::PublicKey public_key);
  void ServeKey(http::ResponseWriter writer);
  void Upgrade(http::Request& request, http::ResponseWriter writer);
  void Bury(uint64_t id);
  static void OnCheck(uv_check_t* handle);

  uv_loop_t* loop_;
  ChannelServerOptions options_;
  x25519::PublicKey public_key_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Channel>> channels_;
  UvCheck check_;                                    // after each poll: frees the graveyard
  std::vector<std::unique_ptr<Channel>> graveyard_;  // closed channels, freed after their callback
  uint64_t next_id_ = 1;
  ChannelServerStats stats_;
  friend class Channel;
};

}  // namespace meshvpn::control
