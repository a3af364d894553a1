// UvChannelClient: the client end of the control channel: fetches the server's key from /key
// (unless one is pinned), then "POST /control/v1" with the Noise initiation in a header, and
// carries Envelopes both ways over the upgraded connection. One connection per Connect(); the
// control client above it reconnects with backoff.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "meshvpn/control/noise_channel.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/uv_client.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::control {

struct ChannelClientOptions {
  std::string host;                                 // "127.0.0.1", "control.example"
  uint16_t port = 0;                                // 0: 443 with TLS, 80 without
  std::shared_ptr<const http::TlsContext> tls;      // null: plain HTTP (labs, tests)
  std::string server_name;                          // SNI / certificate name; default: host
  const x25519::PrivateKey* machine_key = nullptr;  // outlives the client
  // The server's key, pinned; without one the first Connect fetches /key and pins what it got
  // (server_key() then says which).
  std::optional<x25519::PublicKey> server_key;
};

// Calls come on the loop's thread.
class ChannelClientEvents {
 public:
  virtual ~ChannelClientEvents() = default;
  virtual void OnChannelUp(const x25519::PublicKey& server_key) = 0;
  virtual void OnEnvelope(v1::Envelope envelope) = 0;
  // The attempt or the channel ended: `why` says how (the server's error frame text, an HTTP
  // status, a broken connection). Connect() may be called again.
  virtual void OnChannelDown(const absl::Status& why) = 0;
};

class UvChannelClient {
 public:
  UvChannelClient(uv_loop_t* loop, ChannelClientOptions options, ChannelClientEvents* events);
  ~UvChannelClient();
  UvChannelClient(const UvChannelClient&) = delete;
  UvChannelClient& operator=(const UvChannelClient&) = delete;

  // Starts an attempt (no-op while one is running or the channel is up).
  void Connect();
  // Queues an Envelope; false if the channel is not up (or the message is refused).
  bool Send(const v1::Envelope& envelope);
  // Ends the channel or the attempt; no OnChannelDown follows.
  void Close();

  bool up() const { return channel_.has_value(); }
  bool connecting() const { return attempt_ != nullptr && !up(); }
  const std::optional<x25519::PublicKey>& server_key() const { return options_.server_key; }
  // Bytes queued for the server and not yet written.
  size_t pending_output() const;

 private:
  class Attempt;
  void FetchKeyThenUpgrade();
  void StartUpgrade();
  void OnUpgraded(http::UpgradedStream stream, std::string buffered);
  void OnStreamData(ByteSpan data);
  void Down(absl::Status why);
  void Flush();

  uv_loop_t* loop_;
  ChannelClientOptions options_;
  ChannelClientEvents* events_;
  std::unique_ptr<http::UvClient> http_;
  std::vector<std::unique_ptr<Attempt>> attempts_;  // kept until the HTTP client is done with them
  Attempt* attempt_ = nullptr;
  std::optional<ClientHandshake> handshake_;
  std::string first_frame_;  // the server's response frame as it arrives
  std::optional<NoiseChannel> channel_;
  http::UpgradedStream stream_;
  std::string out_;
  size_t out_pos_ = 0;
  uint64_t generation_ = 0;  // bumps on Close/Down: a /key answer for an old attempt is dropped
};

}  // namespace meshvpn::control
