// A DERP server's mesh link to another server of its region.
#include "meshvpn/derp/uv_mesh.h"

#include "absl/strings/str_cat.h"

namespace meshvpn::derp {

absl::StatusOr<std::unique_ptr<MeshLink>> MeshLink::Create(uv_loop_t* loop, ServerCore* core,
                                                           const PrivateKey& server_key,
                                                           const MeshKey& mesh_key,
                                                           UvClientOptions client, Logger log) {
  if (mesh_key.IsZero()) return absl::InvalidArgumentError("a mesh link needs the mesh key");
  std::string describe = absl::StrCat(client.host, ":", client.port);
  std::unique_ptr<MeshLink> link(new MeshLink(core, std::move(describe), std::move(log)));
  client.core.mesh_key = mesh_key;
  client.core.watch_conns = true;
  client.core.app_name = "meshvpn derp_server mesh";
  auto created = UvClient::Create(loop, server_key, std::move(client), link.get());
  if (!created.ok()) return created.status();
  link->client_ = std::move(*created);
  return link;
}

MeshLink::~MeshLink() {
  core_->RemoveForwarder(this);
  client_.reset();
}

void MeshLink::Start() {
  if (!self_connect_) client_->Start();
}

bool MeshLink::ForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet) {
  if (client_->ForwardPacket(src, dst, packet)) {
    ++stats_.forwarded;
    return true;
  }
  ++stats_.refused;
  return false;
}

void MeshLink::OnReady(const PublicKey& server_key, const ServerInfo&) {
  if (server_key == core_->public_key()) {
    // derphttp RunWatchConnectionLoop: "detected self-connect; ignoring host".
    self_connect_ = true;
    log_.Info("mesh %s is this server itself; ignoring it", describe_.c_str());
    client_->Close();
    return;
  }
  ++stats_.connects;
  log_.Info("mesh %s connected (server %s)", describe_.c_str(), ShortKey(server_key).c_str());
}

void MeshLink::OnDisconnected(const absl::Status& why, Duration retry_in) {
  // Whatever the other server had is unreachable through this link until it tells us again.
  ForgetPeers();
  log_.Info("mesh %s: %s; retrying in %lld ms", describe_.c_str(),
            std::string(why.message()).c_str(),
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(retry_in).count()));
}

void MeshLink::OnPacket(const PublicKey&, ByteSpan) {
  // A mesh link sends packets on; the other server has no reason to send it any.
}

void MeshLink::OnPeerPresent(const PeerPresentMessage& message) {
  if (message.peer == core_->public_key()) return;  // our own link, seen from the other side
  if (present_.insert(message.peer).second) {
    core_->AddPacketForwarder(message.peer, this);
    stats_.peers_present = present_.size();
  }
}

void MeshLink::OnPeerGone(const PublicKey& peer, PeerGoneReason) {
  if (present_.erase(peer) == 0) return;
  core_->RemovePacketForwarder(peer, this);
  stats_.peers_present = present_.size();
}

void MeshLink::ForgetPeers() {
  if (present_.empty()) return;
  present_.clear();
  stats_.peers_present = 0;
  core_->RemoveForwarder(this);
}

}  // namespace meshvpn::derp
