// The seed's lines.
#include "server_printer.h"

#include <string>

#include "absl/strings/str_join.h"
#include "meshvpn/control/stored_node.h"

namespace meshvpn::tools {
namespace {

constexpr size_t kPeersShown = 5;     // per [Response]
constexpr size_t kTopologyNodes = 8;  // pairs printed up to this many nodes

std::string Short(const std::string& key_text) {
  // "mkey:0123456789ab..." as the seed shows keys.
  const size_t colon = key_text.find(':');
  return key_text.substr(0, colon + 1 + 12) + "...";
}

}  // namespace

void ServerPrinter::OnRegistrationRequest(const x25519::PublicKey& machine_key,
                                          const control::v1::RegisterRequest& request) {
  if (quiet_) return;
  std::fprintf(out_, "[Device] New registration request\n");
  std::fprintf(out_, "Machine key: %s\n", Short(control::MachineKeyText(machine_key)).c_str());
  auto node_key = control::KeyFromBytes(request.node_key(), "node_key");
  std::fprintf(out_, "Node key: %s\n",
               node_key.ok() ? Short(control::NodeKeyText(*node_key)).c_str() : "(malformed)");
  std::fprintf(out_, "Hostname: %s\n", request.hostinfo().hostname().c_str());
  std::fprintf(out_, "OS: %s%s%s\n", request.hostinfo().os().c_str(),
               request.hostinfo().os_version().empty() ? "" : " ",
               request.hostinfo().os_version().c_str());
  std::fprintf(out_, "[Auth] %s\n",
               request.auth_key().empty() ? "Interactive login (no pre-auth key)"
                                          : "Pre-auth key presented");
  std::fflush(out_);
}

void ServerPrinter::OnAuthUrl(const control::PendingRegistration& pending, const std::string& url) {
  std::fprintf(out_, "[Auth] Waiting for approval of %s: %s\n", pending.hostname.c_str(),
               url.c_str());
  std::fprintf(out_,
               "[Auth] Approve with: mini-headscale nodes register --user USERNAME --key %s\n",
               pending.id.c_str());
  std::fflush(out_);
}

void ServerPrinter::OnRegistered(const control::NodeRecord& node, const control::UserRecord& user,
                                 bool new_node) {
  if (quiet_ && !new_node) return;
  if (!quiet_)
    std::fprintf(out_, "[Auth] User authenticated successfully: %s\n", user.name.c_str());
  std::fprintf(out_, "[Device] %s: %s (%s)\n", new_node ? "Registered" : "Re-authenticated",
               node.given_name.c_str(), node.ipv4.c_str());
  if (!quiet_ && new_node) PrintTopology();
  std::fflush(out_);
}

void ServerPrinter::PrintTopology() {
  if (server_ == nullptr) return;
  const std::vector<control::NodeStatus> nodes = server_->ListNodes();
  std::fprintf(out_, "[Network] Topology updated:\n");
  if (nodes.size() > kTopologyNodes) {
    std::fprintf(out_, "%zu nodes\n", nodes.size());
    return;
  }
  size_t pairs = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (size_t j = i + 1; j < nodes.size(); ++j) {
      const std::string& domain = server_->config().base_domain;
      const control::v1::Node a = control::NodeToProto(nodes[i].node, domain, 0);
      const control::v1::Node b = control::NodeToProto(nodes[j].node, domain, 0);
      if (policy_ != nullptr && !policy_->CanSee(a, b) && !policy_->CanSee(b, a)) continue;
      std::fprintf(out_, "%s ↔ %s\n", a.name().c_str(), b.name().c_str());
      ++pairs;
    }
  }
  if (pairs == 0) std::fprintf(out_, "(no pairs yet)\n");
  std::fprintf(out_, "Keys exchanged: ✓\n");
}

void ServerPrinter::OnRegistrationRefused(const x25519::PublicKey& machine_key,
                                          const std::string& reason) {
  std::fprintf(out_, "[Auth] Refused %s: %s\n", Short(control::MachineKeyText(machine_key)).c_str(),
               reason.c_str());
  std::fflush(out_);
}

void ServerPrinter::OnMapRequest(const control::NodeRecord& node,
                                 const control::v1::MapRequest& request) {
  if (quiet_ || !request.stream()) return;
  std::fprintf(out_, "[Poll] %s requesting network map\n", node.given_name.c_str());
}

void ServerPrinter::OnStreamOpened(const control::NodeRecord& node) {
  if (quiet_ || server_ == nullptr) return;
  const std::string& domain = server_->config().base_domain;
  const control::v1::Node self = control::NodeToProto(node, domain, 0);
  std::fprintf(out_, "[Response] Sending:\n");
  size_t shown = 0;
  size_t total = 0;
  for (const control::NodeStatus& peer : server_->ListNodes()) {
    if (peer.node.id == node.id || peer.expired) continue;
    const control::v1::Node p = control::NodeToProto(peer.node, domain, 0);
    if (policy_ != nullptr && !policy_->CanSee(self, p)) continue;
    ++total;
    if (shown == kPeersShown) continue;
    ++shown;
    std::fprintf(out_, "- Peer: %s\n", peer.node.given_name.c_str());
    std::fprintf(out_, "- Public key: %s\n",
                 Short(control::NodeKeyText(peer.node.node_key)).c_str());
    std::fprintf(out_, "- Endpoints: [%s]\n", absl::StrJoin(peer.node.endpoints, ", ").c_str());
    std::fprintf(out_, "- AllowedIPs: %s\n", absl::StrJoin(p.allowed_ips(), ", ").c_str());
  }
  if (total == 0) std::fprintf(out_, "- (no peers yet)\n");
  if (total > shown) std::fprintf(out_, "- ... and %zu more peers\n", total - shown);
  std::fflush(out_);
}

void ServerPrinter::OnStreamClosed(const control::NodeRecord& node) {
  if (quiet_) return;
  std::fprintf(out_, "[Poll] %s disconnected (offline)\n", node.given_name.c_str());
  std::fflush(out_);
}

void ServerPrinter::OnNodeExpired(const control::NodeRecord& node) {
  std::fprintf(out_, "[Device] Key expired: %s (removed from its peers' maps)\n",
               node.given_name.c_str());
  std::fflush(out_);
}

void ServerPrinter::OnNodeDeleted(const control::NodeRecord& node, std::string_view why) {
  std::fprintf(out_, "[Device] Deleted: %s (%.*s)\n", node.given_name.c_str(),
               static_cast<int>(why.size()), why.data());
  std::fflush(out_);
}

void ServerPrinter::OnStoreError(const absl::Status& error) {
  std::fprintf(out_, "[Database] error: %s\n", std::string(error.message()).c_str());
  std::fflush(out_);
}

}  // namespace meshvpn::tools
