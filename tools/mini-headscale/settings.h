// mini-headscale's settings: the serve flags, the same settings read from a config file
// ("name: value" lines, names as the flags'), and where the state directory is.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace meshvpn::tools {

struct ServeSettings {
  std::string listen = "127.0.0.1:8080";
  std::string server_url;  // default: http(s)://LISTEN
  std::string state_dir;   // default: DefaultStateDir()
  std::string db;          // default: sqlite:STATE_DIR/db.sqlite
  std::string prefix_v4 = "100.64.0.0/10";
  std::string prefix_v6 = "fd7a:115c:a1e0::/48";
  std::string derp_map;  // a DERP map file: the embedded region is off
  std::string tls_cert;
  std::string tls_key;
  std::string base_domain = "mesh.internal";
  std::chrono::milliseconds node_key_expiry = std::chrono::hours(24 * 180);
  std::chrono::milliseconds ephemeral_timeout = std::chrono::minutes(30);
  int stun_port = 3478;  // the embedded DERP region's STUN server; 0: none
  std::string metrics_listen;
  std::string policy;  // a tailnet policy file (HuJSON); empty: every node sees every node
};

// /var/lib/meshvpn/mini-headscale as root, else ~/.local/state/meshvpn/mini-headscale.
std::string DefaultStateDir();

// Applies the settings of `path` to `settings`. Lines: "name: value" or "name = value" (the
// flags' names, dashes or underscores), '#' comments, blank lines. Unknown names and bad values
// are errors naming the line.
absl::Status ApplyConfigFile(const std::string& path, ServeSettings* settings);

// Creates `dir` and its parents (mode 0700); refuses a state directory others can write to.
absl::Status PrepareStateDir(const std::string& dir);

}  // namespace meshvpn::tools
