// Fuzzes wg's wg-quick file parser, with host names refused (no DNS): no crash, no read outside the
// input; errors are InvalidArgument naming the source and never contain a PrivateKey or
// PresharedKey value of the input; a parsed file's `wg showconf` text parses back to the same
// configuration, and its UAPI set form reads back through the UAPI parser.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "meshvpn/wg/uapi.h"
#include "meshvpn/wg/wg_quick_config.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' ||
                        s.front() == '\v' || s.front() == '\f')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                        s.back() == '\v' || s.back() == '\f')) {
    s.remove_suffix(1);
  }
  return s;
}

// The PrivateKey / PresharedKey values of the input that look like keys (32 or more base64
// characters) and occur only once in it (so that an error message quoting some other value cannot
// contain them by coincidence).
bool Base64Only(std::string_view s) {
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
          c == '/' || c == '=')) {
      return false;
    }
  }
  return true;
}

std::vector<std::string_view> SecretValues(std::string_view text) {
  std::vector<std::string_view> secrets;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    line = line.substr(0, line.find('#'));
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    std::string key(Trim(line.substr(0, equals)));
    for (char& c : key) c = Lower(c);
    const std::string_view value = Trim(line.substr(equals + 1));
    if ((key == "privatekey" || key == "presharedkey") && value.size() >= 32 && Base64Only(value) &&
        text.find(value) == text.rfind(value)) {
      secrets.push_back(value);
    }
  }
  return secrets;
}

meshvpn::wg::DeviceStatus ToStatus(const meshvpn::wg::DeviceConfigUpdate& update) {
  meshvpn::wg::DeviceStatus status;
  status.private_key = update.private_key;
  status.listen_port = update.listen_port.value_or(0);
  status.fwmark = update.fwmark.value_or(0);
  for (const meshvpn::wg::PeerConfigUpdate& peer : update.peers) {
    meshvpn::wg::PeerStatus& p = status.peers.emplace_back();
    p.public_key = peer.public_key;
    if (peer.preshared_key) p.preshared_key = *peer.preshared_key;
    p.endpoint = peer.endpoint;
    p.persistent_keepalive = peer.persistent_keepalive.value_or(std::chrono::seconds(0));
    p.allowed_ips = peer.allowed_ips;
  }
  return status;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  meshvpn::wg::WgQuickParseOptions options;
  options.source_name = "fuzz.conf";
  options.resolve_endpoint = meshvpn::wg::RefuseHostNames();

  const absl::StatusOr<meshvpn::wg::WgQuickConfig> config =
      meshvpn::wg::ParseWgQuickConfig(input, options);
  if (!config.ok()) {
    Check(config.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string message(config.status().message());
    Check(message.substr(0, 9) == "fuzz.conf");
    for (const std::string_view secret : SecretValues(input)) {
      Check(message.find(secret) == std::string::npos);
    }
    return 0;
  }
  Check(config->device.private_key.has_value());
  Check(config->device.replace_peers);

  // The UAPI form of the update reads back to the same text.
  const std::string set = meshvpn::wg::FormatUapiSet(config->device);
  const absl::StatusOr<meshvpn::wg::DeviceConfigUpdate> update = meshvpn::wg::ParseUapiSet(set);
  Check(update.ok());
  Check(meshvpn::wg::FormatUapiSet(*update) == set);

  // showconf -> parse -> showconf is stable (a zero private key is not shown, so the second
  // parse would rightly miss it).
  if (config->device.private_key->IsZero()) return 0;
  const std::string shown = meshvpn::wg::FormatWgShowconf(ToStatus(config->device));
  const absl::StatusOr<meshvpn::wg::WgQuickConfig> again =
      meshvpn::wg::ParseWgQuickConfig(shown, options);
  Check(again.ok());
  Check(again->device.peers.size() == config->device.peers.size());
  Check(meshvpn::wg::FormatWgShowconf(ToStatus(again->device)) == shown);
  return 0;
}
