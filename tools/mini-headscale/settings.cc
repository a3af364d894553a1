// Settings: defaults, the config file, the state directory.
#include "settings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "meshvpn/control/admin_api.h"

namespace meshvpn::tools {

std::string DefaultStateDir() {
  if (::geteuid() == 0) return "/var/lib/meshvpn/mini-headscale";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/state/meshvpn/mini-headscale";
}

absl::Status ApplyConfigFile(const std::string& path, ServeSettings* s) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read it"));
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty()) continue;
    const size_t sep = text.find_first_of(":=");
    auto fail = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": ", why));
    };
    if (sep == absl::string_view::npos) return fail("expected \"name: value\"");
    const std::string name =
        absl::StrReplaceAll(absl::StripAsciiWhitespace(text.substr(0, sep)), {{"_", "-"}});
    std::string value(absl::StripAsciiWhitespace(text.substr(sep + 1)));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    auto duration = [&](std::chrono::milliseconds* out) -> absl::Status {
      auto d = control::ParseAdminDuration(value);
      if (!d.ok()) return fail(d.status().message());
      *out = *d;
      return absl::OkStatus();
    };
    if (name == "listen") {
      s->listen = value;
    } else if (name == "server-url") {
      s->server_url = value;
    } else if (name == "state-dir") {
      s->state_dir = value;
    } else if (name == "db") {
      s->db = value;
    } else if (name == "prefix-v4") {
      s->prefix_v4 = value;
    } else if (name == "prefix-v6") {
      s->prefix_v6 = value;
    } else if (name == "derp-map") {
      s->derp_map = value;
    } else if (name == "tls-cert") {
      s->tls_cert = value;
    } else if (name == "tls-key") {
      s->tls_key = value;
    } else if (name == "base-domain") {
      s->base_domain = value;
    } else if (name == "metrics-listen") {
      s->metrics_listen = value;
    } else if (name == "policy") {
      s->policy = value;
    } else if (name == "node-key-expiry") {
      if (absl::Status st = duration(&s->node_key_expiry); !st.ok()) return st;
    } else if (name == "ephemeral-timeout") {
      if (absl::Status st = duration(&s->ephemeral_timeout); !st.ok()) return st;
    } else if (name == "stun-port") {
      if (!absl::SimpleAtoi(value, &s->stun_port) || s->stun_port < 0 || s->stun_port > 65535) {
        return fail("stun-port is 0..65535");
      }
    } else {
      return fail(absl::StrCat("unknown setting \"", name, "\""));
    }
  }
  return absl::OkStatus();
}

absl::Status PrepareStateDir(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", part, ": ", std::strerror(errno)));
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  }
  if ((st.st_mode & 022) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " may be written by others (mode ", mode,
                     "): it holds the server's keys; chmod 700 it"));
  }
  return absl::OkStatus();
}

}  // namespace meshvpn::tools
