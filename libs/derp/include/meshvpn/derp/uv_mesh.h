// MeshLink: one server's link to another server of its DERP region (derphttp's mesh client): a
// UvClient with the mesh key that watches the other server's connections and turns them into
// packet forwarders on the local core, and carries ForwardPacket frames for them.
#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "meshvpn/base/log.h"
#include "meshvpn/derp/server_core.h"
#include "meshvpn/derp/uv_client.h"

namespace meshvpn::derp {

struct MeshLinkStats {
  uint64_t peers_present = 0;  // keys the other server has now (forwarders on the local core)
  uint64_t connects = 0;       // handshakes completed with the other server
  uint64_t forwarded = 0;      // ForwardPacket frames sent
  uint64_t refused = 0;        // forwards refused (link down or output full)
};

class MeshLink final : public PacketForwarder, private UvClientEvents {
 public:
  // `client` says where the other server is and how its certificate is checked; its core
  // options are set here (the mesh key, WatchConns). The link uses the local server's own
  // private key, as derper does. `core` must outlive the link.
  static absl::StatusOr<std::unique_ptr<MeshLink>> Create(uv_loop_t* loop, ServerCore* core,
                                                          const PrivateKey& server_key,
                                                          const MeshKey& mesh_key,
                                                          UvClientOptions client, Logger log);
  // Removes the link's forwarders from the core and closes.
  ~MeshLink() override;
  MeshLink(const MeshLink&) = delete;
  MeshLink& operator=(const MeshLink&) = delete;

  void Start();
  // PacketForwarder.
  bool ForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet) override;
  std::string Describe() const override { return describe_; }

  const MeshLinkStats& stats() const { return stats_; }
  bool connected() const { return client_ != nullptr && client_->connected(); }
  // True once the other end turned out to be this server itself (the link then stays closed).
  bool self_connect() const { return self_connect_; }

 private:
  MeshLink(ServerCore* core, std::string describe, Logger log)
      : core_(core), describe_(std::move(describe)), log_(std::move(log)) {}

  // UvClientEvents.
  void OnReady(const PublicKey& server_key, const ServerInfo& info) override;
  void OnDisconnected(const absl::Status& why, Duration retry_in) override;
  void OnPacket(const PublicKey& source, ByteSpan data) override;
  void OnPeerGone(const PublicKey& peer, PeerGoneReason reason) override;
  void OnPeerPresent(const PeerPresentMessage& message) override;
  void ForgetPeers();

  ServerCore* core_;
  std::string describe_;
  Logger log_;
  std::unique_ptr<UvClient> client_;
  absl::flat_hash_set<PublicKey> present_;
  bool self_connect_ = false;
  MeshLinkStats stats_;
};

}  // namespace meshvpn::derp
