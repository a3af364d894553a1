// wg-quick(8) configuration files (/etc/wireguard/wg0.conf): parsed into the update `wg setconf`
// applies plus the interface settings wg-quick applies itself (addresses, MTU, DNS); and a device
// written back as `wg showconf` text.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/tun/ip_address.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/wg/device_config.h"

namespace meshvpn::wg {

// Turns a [Peer] Endpoint that is not numeric ("vpn.example.com:51820", "[name]:51820") into an
// address. Called only for such endpoints; numeric ones are parsed without it.
using EndpointResolver = std::function<absl::StatusOr<udp::Endpoint>(std::string_view host_port)>;

// A resolver that does no DNS: it refuses every host name (InvalidArgument). For fuzzers, tests and
// callers that must not block.
EndpointResolver RefuseHostNames();

struct WgQuickParseOptions {
  // Names the text in error messages ("wg0.conf:7: ..."); "config" when empty. LoadWgQuickConfig
  // uses the path when this is empty.
  std::string source_name;
  // Empty: udp::Resolve, which blocks in getaddrinfo.
  EndpointResolver resolve_endpoint;
};

// A line wg-quick acts on by running commands or changing routing, which this parser accepts and
// records but does not act on: Table, PreUp, PostUp, PreDown, PostDown, SaveConfig.
struct WgQuickIgnoredSetting {
  int line = 0;
  std::string key;    // canonical spelling: "PostUp"
  std::string value;  // as written, trimmed
};

struct WgQuickConfig {
  // What `wg setconf` applies: the private key, ListenPort and FwMark when given, replace_peers,
  // and per [Peer] (in file order) its keys, endpoint, keepalive and allowed IPs with
  // replace_allowed_ips set.
  DeviceConfigUpdate device;
  std::vector<tun::IpPrefix> addresses;  // Address, every entry in order (host bits kept)
  std::optional<int> mtu;                // MTU
  // DNS: wg-quick treats entries that are IP addresses as servers and the others as search
  // domains; so does this split. Servers are in canonical form ("fd00::53").
  std::vector<std::string> dns;
  std::vector<std::string> dns_search;
  std::vector<WgQuickIgnoredSetting> ignored;
};

// Parses a wg-quick file. The format, as wg(8) and wg-quick(8) read it:
//   - "[Interface]" (exactly one) and "[Peer]" (any number) sections; names and keys are
//     case-insensitive; "#" starts a comment anywhere; blank lines and whitespace around keys,
//     values, "=" and list entries are ignored; "\r\n" line ends are fine.
//   - [Interface]: PrivateKey (base64, required), ListenPort (0..65535), FwMark (decimal, 0x hex
//     or "off"), Address (comma-separated, repeatable), DNS (comma-separated, repeatable), MTU
//     (68..65535), and Table, PreUp, PostUp, PreDown, PostDown, SaveConfig (recorded in `ignored`).
//   - [Peer]: PublicKey (base64, required, unique), PresharedKey (base64), Endpoint (numeric, or
//     host:port through options.resolve_endpoint), AllowedIPs (comma-separated, repeatable; a bare
//     address is a host prefix; an empty value adds none), PersistentKeepalive (0..65535 or "off").
// Errors are InvalidArgument naming the place and the field, e.g.
//   wg0.conf:7: [Peer] AllowedIPs: "10.0.0.300/32" is not an IP prefix
// and never contain key material: for PrivateKey, PresharedKey and PublicKey they say only what is
// wrong. Also errors: unknown sections and keys, a key outside any section or in the wrong one, a
// single-valued key given twice in a section, a second [Interface], a missing PrivateKey or
// PublicKey, two peers with the same PublicKey.
absl::StatusOr<WgQuickConfig> ParseWgQuickConfig(std::string_view text,
                                                 const WgQuickParseOptions& options = {});

// Reads the file at `path` (at most 1 MiB) and parses it; the bytes read are wiped afterwards.
// Errors reading name the path ("open /etc/wireguard/wg0.conf: No such file or directory").
absl::StatusOr<WgQuickConfig> LoadWgQuickConfig(const std::string& path,
                                                const WgQuickParseOptions& options = {});

// The device as `wg showconf` prints it: [Interface] with ListenPort (if nonzero), FwMark (hex, if
// nonzero) and PrivateKey (if set and nonzero), then per peer [Peer] with PublicKey, PresharedKey
// (if nonzero), AllowedIPs (comma-separated, if any), Endpoint (if known) and PersistentKeepalive
// (if nonzero). ParseWgQuickConfig reads it back. The text holds the private and preshared keys:
// wipe it once written.
std::string FormatWgShowconf(const DeviceStatus& status);

}  // namespace meshvpn::wg
