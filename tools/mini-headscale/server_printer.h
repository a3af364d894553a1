// ServerPrinter: mini-headscale serve's progress lines (the seed's [Device] / [Auth] / [Network]
// / [Poll] / [Response] lines) from the control server's events. Never prints a secret.
#pragma once

#include <cstdio>
#include <functional>

#include "meshvpn/control/map_policy.h"
#include "meshvpn/control/uv_control_server.h"

namespace meshvpn::tools {

class ServerPrinter final : public control::ControlServerEvents {
 public:
  // `quiet`: registrations and errors only (benchmarks: 10,000 nodes).
  ServerPrinter(std::FILE* out, bool quiet) : out_(out), quiet_(quiet) {}
  // Set once the server exists: the [Response] lines list the peers it serves.
  void set_server(const control::ControlServer* server, const control::MapPolicy* policy) {
    server_ = server;
    policy_ = policy;
  }

  void OnRegistrationRequest(const x25519::PublicKey& machine_key,
                             const control::v1::RegisterRequest& request) override;
  void OnAuthUrl(const control::PendingRegistration& pending, const std::string& url) override;
  void OnRegistered(const control::NodeRecord& node, const control::UserRecord& user,
                    bool new_node) override;
  void OnRegistrationRefused(const x25519::PublicKey& machine_key,
                             const std::string& reason) override;
  void OnMapRequest(const control::NodeRecord& node,
                    const control::v1::MapRequest& request) override;
  void OnStreamOpened(const control::NodeRecord& node) override;
  void OnStreamClosed(const control::NodeRecord& node) override;
  void OnNodeExpired(const control::NodeRecord& node) override;
  void OnNodeDeleted(const control::NodeRecord& node, std::string_view why) override;
  void OnStoreError(const absl::Status& error) override;
  void OnInventoryChanged() override {
    if (on_inventory_changed_) on_inventory_changed_();
  }
  // What to do when the nodes change (recompile the policy).
  void set_on_inventory_changed(std::function<void()> fn) { on_inventory_changed_ = std::move(fn); }
  void set_policy(const control::MapPolicy* policy) { policy_ = policy; }

 private:
  void PrintTopology();

  std::FILE* out_;
  bool quiet_;
  const control::ControlServer* server_ = nullptr;
  const control::MapPolicy* policy_ = nullptr;
  std::function<void()> on_inventory_changed_;
};

}  // namespace meshvpn::tools
