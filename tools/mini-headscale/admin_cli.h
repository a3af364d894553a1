// The admin commands (users, preauthkeys, nodes, apikeys) as HTTP calls to a running server's
// API: over the admin socket in --state-dir, or to --server URL with --api-key. Prints tables,
// or the API's JSON with -o json.
#pragma once

#include <string>
#include <vector>

namespace meshvpn::tools {

struct AdminOptions {
  std::string state_dir;  // the local server's admin socket is STATE_DIR/mini-headscale.sock
  std::string server;     // a remote server's URL ("https://hs.example.com"): needs api_key
  std::string api_key;
  std::string output = "table";  // "table" | "json"
  // The commands' own flags.
  std::string user;
  std::string display_name;
  bool reusable = false;
  bool ephemeral = false;
  std::string expiration;  // a duration ("24h")
  std::vector<std::string> tags;
  std::string key;         // nodes register: the registration key; preauthkeys expire: the key
  std::string identifier;  // a node id
  std::string prefix;      // apikeys expire
};

// `args`: the command and its positional arguments ("nodes", "rename", "NEWNAME"). Returns the
// exit status: 0 done, 1 the server refused or could not be reached (message printed), 2 usage.
int RunAdmin(const std::vector<std::string>& args, const AdminOptions& options);

}  // namespace meshvpn::tools
