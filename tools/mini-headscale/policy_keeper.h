// The tailnet policy of a running mini-headscale: loaded from its file at start and on SIGHUP,
// recompiled over the nodes when they change, and swapped into the control server so that every
// node hears the difference as a delta. A policy that does not parse or whose tests fail is
// refused, and the one in force stays.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "meshvpn/acl/policy.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/control/acl_map_policy.h"
#include "meshvpn/control/uv_control_server.h"
#include "server_printer.h"

namespace meshvpn::tools {

// Parses `text` and runs its tests against `inventory`; the error lists every problem.
absl::StatusOr<std::shared_ptr<const acl::Policy>> CheckPolicyText(
    const std::string& text, const acl::Inventory& inventory = acl::Inventory());

class PolicyKeeper final : public control::PolicyAdmin {
 public:
  PolicyKeeper(uv_loop_t* loop, std::string path, std::FILE* out, ServerPrinter* printer);

  // Reads and checks the file (before the server exists); an error stops the start.
  absl::Status LoadInitial();
  // Compiles the policy over the server's nodes and puts it in force.
  void Attach(control::ControlServer* server);
  // SIGHUP: reads the file again; a bad policy is reported and the old one stays.
  absl::Status Reload();
  // The nodes changed: recompile soon (changes within 50 ms are compiled once).
  void InventoryChanged();

  // The admin API (GET/PUT /api/v1/policy): a new text is checked against the current nodes,
  // written to the file (replacing it whole), and put in force.
  control::PolicyRecord GetPolicy() const override { return {text_, updated_ms_}; }
  absl::Status SetPolicyText(std::string_view text) override;

  const std::string& path() const { return path_; }

 private:
  void Rebuild();
  absl::Status Adopt(std::string text, const char* how);
  static void OnTimer(uv_timer_t* timer);

  uv_loop_t* loop_;
  std::string path_;
  std::FILE* out_;
  ServerPrinter* printer_;
  control::ControlServer* server_ = nullptr;
  std::shared_ptr<const acl::Policy> policy_;
  std::string text_;
  int64_t updated_ms_ = 0;
  // The policy in force and the one before it (the server may still be reading it).
  std::unique_ptr<control::AclMapPolicy> current_, previous_;
  UvHandle<uv_timer_t> timer_;
  bool timer_armed_ = false;
};

}  // namespace meshvpn::tools
