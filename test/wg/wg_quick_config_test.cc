#include "meshvpn/wg/wg_quick_config.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "meshvpn/wg/uapi.h"

namespace meshvpn::wg {
namespace {

// The keys of https://www.wireguard.com/xplatform/'s example (see uapi_test.cc), in base64, so
// that a wg-quick file and a UAPI set can be compared; they are published examples, not secrets.
constexpr std::string_view kPrivate = "6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=";
constexpr std::string_view kPreshared = "GIUVCT6VL18i6GXO8wEucvi18LWYrAMJ1drM47cPz1I=";
constexpr std::string_view kPeer1 = "uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=";
constexpr std::string_view kPeer2 = "WEAuaVuhdyscyTCXVfBDJR6nf9zxD75jmJzrfhkyE3Y=";

tun::IpPrefix P(std::string_view text) {
  auto p = tun::IpPrefix::Parse(text);
  REQUIRE(p.ok());
  return *p;
}
udp::Endpoint E(std::string_view text) {
  auto e = udp::Endpoint::Parse(text);
  REQUIRE(e.ok());
  return *e;
}
std::string Message(const absl::Status& s) { return std::string(s.message()); }

// Records the names it is asked for and answers with a fixed address.
struct FakeResolver {
  std::vector<std::string>* asked;
  absl::StatusOr<udp::Endpoint> operator()(std::string_view host_port) const {
    asked->emplace_back(host_port);
    if (host_port.substr(0, 7) == "nowhere") {
      return absl::NotFoundError("resolve \"nowhere.example\": Name or service not known");
    }
    return E("192.0.2.7:51820");
  }
};

WgQuickParseOptions Options(std::vector<std::string>* asked) {
  WgQuickParseOptions options;
  options.source_name = "wg0.conf";
  options.resolve_endpoint = FakeResolver{asked};
  return options;
}

// The keys above, written out.
constexpr std::string_view kFull = R"(# A full wg-quick file.
[Interface]
PrivateKey = 6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=
Address = 10.200.100.8/24, fd00::8/64
Address = 10.200.101.8/24
ListenPort = 51820
FwMark = 0xca6c
MTU = 1420
DNS = 10.200.100.1, fd00::0:53, corp.example
Table = off
PostUp = iptables -A FORWARD -i %i -j ACCEPT   # comment
SaveConfig = true

[Peer]
PublicKey = uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=
PresharedKey = GIUVCT6VL18i6GXO8wEucvi18LWYrAMJ1drM47cPz1I=
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = demo.wireguard.com:51820
PersistentKeepalive = 25

[Peer]
PublicKey = WEAuaVuhdyscyTCXVfBDJR6nf9zxD75jmJzrfhkyE3Y=
AllowedIPs = 10.200.100.9, 10.200.102.0/24
AllowedIPs = fd00::9/128
Endpoint = [2001:db8::1]:51820
PersistentKeepalive = off
)";

TEST_CASE("wg-quick: a full file") {
  std::vector<std::string> asked;
  absl::StatusOr<WgQuickConfig> config = ParseWgQuickConfig(kFull, Options(&asked));
  REQUIRE(config.ok());
  CHECK(asked == std::vector<std::string>{"demo.wireguard.com:51820"});  // numeric ones skip it

  const DeviceConfigUpdate& device = config->device;
  REQUIRE(device.private_key.has_value());
  CHECK(device.private_key->ExportBase64ForConfig() == kPrivate);
  CHECK(device.listen_port == uint16_t{51820});
  CHECK(device.fwmark == uint32_t{0xca6c});
  CHECK(device.replace_peers);
  CHECK(config->addresses ==
        std::vector<tun::IpPrefix>{P("10.200.100.8/24"), P("fd00::8/64"), P("10.200.101.8/24")});
  CHECK(config->mtu == 1420);
  CHECK(config->dns == std::vector<std::string>{"10.200.100.1", "fd00::53"});
  CHECK(config->dns_search == std::vector<std::string>{"corp.example"});
  REQUIRE(config->ignored.size() == 3);
  CHECK(config->ignored[0].key == "Table");
  CHECK(config->ignored[0].value == "off");
  CHECK(config->ignored[0].line == 10);
  CHECK(config->ignored[1].key == "PostUp");
  CHECK(config->ignored[1].value == "iptables -A FORWARD -i %i -j ACCEPT");
  CHECK(config->ignored[2].key == "SaveConfig");

  REQUIRE(device.peers.size() == 2);
  const PeerConfigUpdate& a = device.peers[0];
  CHECK(a.public_key.ToBase64() == kPeer1);
  REQUIRE(a.preshared_key.has_value());
  CHECK(a.preshared_key->ExportBase64ForConfig() == kPreshared);
  CHECK(a.allowed_ips == std::vector<tun::IpPrefix>{P("0.0.0.0/0"), P("::/0")});
  CHECK(a.endpoint == E("192.0.2.7:51820"));
  CHECK(a.persistent_keepalive == std::chrono::seconds(25));
  CHECK(a.replace_allowed_ips);
  CHECK_FALSE(a.remove);
  CHECK_FALSE(a.update_only);
  const PeerConfigUpdate& b = device.peers[1];
  CHECK(b.public_key.ToBase64() == kPeer2);
  CHECK_FALSE(b.preshared_key.has_value());
  CHECK(b.allowed_ips ==
        std::vector<tun::IpPrefix>{P("10.200.100.9/32"), P("10.200.102.0/24"), P("fd00::9/128")});
  CHECK(b.endpoint == E("[2001:db8::1]:51820"));
  CHECK(b.persistent_keepalive == std::chrono::seconds(0));

  // What the device would be told over UAPI (`wg setconf` semantics).
  CHECK(FormatUapiSet(device) ==
        "private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
        "listen_port=51820\n"
        "fwmark=51820\n"
        "replace_peers=true\n"
        "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
        "preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52\n"
        "endpoint=192.0.2.7:51820\n"
        "persistent_keepalive_interval=25\n"
        "replace_allowed_ips=true\n"
        "allowed_ip=0.0.0.0/0\n"
        "allowed_ip=::/0\n"
        "public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
        "endpoint=[2001:db8::1]:51820\n"
        "persistent_keepalive_interval=0\n"
        "replace_allowed_ips=true\n"
        "allowed_ip=10.200.100.9/32\n"
        "allowed_ip=10.200.102.0/24\n"
        "allowed_ip=fd00::9/128\n");
}

TEST_CASE("wg-quick: case, whitespace, comments and CRLF are tolerated") {
  const std::string_view text =
      "  # leading comment\r\n"
      "[interface]   \r\n"
      "privatekey=6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=#trailing comment\r\n"
      "\tLISTENPORT\t=\t7 \r\n"
      "fwmark = OFF\r\n"
      "[ PEER ]\r\n"
      "publickey =   uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=\r\n"
      "allowedips =\r\n"
      "persistentkeepalive = Off\r\n";
  absl::StatusOr<WgQuickConfig> config = ParseWgQuickConfig(text, {"t.conf", RefuseHostNames()});
  REQUIRE(config.ok());
  CHECK(config->device.listen_port == uint16_t{7});
  CHECK(config->device.fwmark == uint32_t{0});
  REQUIRE(config->device.peers.size() == 1);
  CHECK(config->device.peers[0].allowed_ips.empty());
  CHECK(config->device.peers[0].persistent_keepalive == std::chrono::seconds(0));
  CHECK_FALSE(config->mtu.has_value());
  CHECK(config->addresses.empty());

  // A minimal file: only the private key.
  absl::StatusOr<WgQuickConfig> minimal =
      ParseWgQuickConfig("[Interface]\nPrivateKey=" + std::string(kPrivate) + "\n");
  REQUIRE(minimal.ok());
  CHECK(minimal->device.peers.empty());
  CHECK_FALSE(minimal->device.listen_port.has_value());
  CHECK_FALSE(minimal->device.fwmark.has_value());
}

TEST_CASE("wg-quick: errors name the file, line and field, never key material") {
  const std::string iface = "[Interface]\nPrivateKey = " + std::string(kPrivate) + "\n";
  const std::string peer = "[Peer]\nPublicKey = " + std::string(kPeer1) + "\n";
  const std::string priv(kPrivate);
  const std::string psk(kPreshared);
  const struct {
    std::string text;
    std::string message;
  } cases[] = {
      {iface + "ListenPort = 51820\n" + peer + "Endpoint = 192.0.2.1:51820\n" +
           "AllowedIPs = 10.0.0.1/32, 10.0.0.300/32\n",
       "wg0.conf:7: [Peer] AllowedIPs: \"10.0.0.300/32\" is not an IP prefix"},
      {iface + peer + "AllowedIPs = 10.0.0.1/32,\n",
       "wg0.conf:5: [Peer] AllowedIPs: an empty entry in the comma-separated list"},
      {"[Interface]\nPrivateKey = " + priv.substr(0, 43) + "\n",
       "wg0.conf:2: [Interface] PrivateKey: not a base64 key (x25519 private key: a base64 key is "
       "44 "
       "characters (32 bytes), got 43 characters)"},
      {"[Interface]\nPrivateKey = " + priv.substr(0, 42) + "!=\n",
       "wg0.conf:2: [Interface] PrivateKey: not a base64 key (x25519 private key: base64: invalid "
       "character at offset 42)"},
      {iface + peer + "PresharedKey = " + psk.substr(1) + "\n",
       "wg0.conf:5: [Peer] PresharedKey: not a base64 key (preshared key: a base64 key is 44 "
       "characters (32 bytes), got 43 characters)"},
      {iface + "[Peer]\nPublicKey = " + std::string(kPeer1).substr(0, 40) + "\n",
       "wg0.conf:4: [Peer] PublicKey: not a base64 key (x25519 public key: a base64 key is 44 "
       "characters "
       "(32 bytes), got 40 characters)"},
      {iface + "ListenPort = 65536\n",
       "wg0.conf:3: [Interface] ListenPort: \"65536\" is not a port (0..65535)"},
      {iface + "FwMark = 0x100000000\n",
       "wg0.conf:3: [Interface] FwMark: \"0x100000000\" is not \"off\" or a number up to "
       "4294967295 (decimal or 0x hex)"},
      {iface + "MTU = 67\n",
       "wg0.conf:3: [Interface] MTU: \"67\" is not a number from 68 to 65535"},
      {iface + "Address = 10.0.0.1/33\n",
       "wg0.conf:3: [Interface] Address: \"10.0.0.1/33\" is not an IP prefix"},
      {iface + "DNS = 1.1.1.1, bad domain\n",
       "wg0.conf:3: [Interface] DNS: \"bad domain\" is neither an IP address nor a search domain"},
      {iface + "ListenPort =\n", "wg0.conf:3: [Interface] ListenPort: no value"},
      {iface + "ListenPort = 1\nListenPort = 2\n",
       "wg0.conf:4: [Interface] ListenPort: given twice (first on line 3)"},
      {iface + "PrivateKey = " + priv + "\n",
       "wg0.conf:3: [Interface] PrivateKey: given twice (first on line 2)"},
      {iface + "Endpoint = 192.0.2.1:1\n",
       "wg0.conf:3: [Interface] Endpoint: belongs in a [Peer] section"},
      {iface + peer + "MTU = 1280\n", "wg0.conf:5: [Peer] MTU: belongs in a [Interface] section"},
      {iface + "Adress = 10.0.0.1/24\n", "wg0.conf:3: [Interface] unknown key \"Adress\""},
      {iface + "ListenPort 51820\n", "wg0.conf:3: expected \"Key = value\" or a [Section] header"},
      // A pasted key (base64 ends in '=') is neither echoed nor taken for a key name.
      {iface + priv + "\n", "wg0.conf:3: [Interface] unknown key (not shown)"},
      {iface + priv.substr(0, 43) + " = " + psk + "\n",
       "wg0.conf:3: [Interface] unknown key (not shown)"},
      {"PrivateKey = " + priv + "\n" + iface,
       "wg0.conf:1: PrivateKey before any [Interface] or [Peer] section"},
      {iface + "[Peers]\n", "wg0.conf:3: unknown section \"Peers\" (want [Interface] or [Peer])"},
      {iface + "[Peer\n", "wg0.conf:3: a section header is \"[Interface]\" or \"[Peer]\""},
      {iface + iface, "wg0.conf:3: a second [Interface] section (the first is on line 1)"},
      {peer, "wg0.conf: no [Interface] section"},
      {"", "wg0.conf: no [Interface] section"},
      {"[Interface]\nListenPort = 1\n", "wg0.conf:1: [Interface] has no PrivateKey"},
      {iface + peer + "[Peer]\nAllowedIPs = 10.0.0.0/8\n", "wg0.conf:5: [Peer] has no PublicKey"},
      {iface + peer + peer, "wg0.conf:6: [Peer] PublicKey: the same key as the [Peer] on line 3"},
      {iface + peer + "Endpoint = 192.0.2.1\n",
       "wg0.conf:5: [Peer] Endpoint: \"192.0.2.1\" is not host:port (192.0.2.1:51820, "
       "[2001:db8::1]:51820, vpn.example.com:51820)"},
      {iface + peer + "Endpoint = :51820\n",
       "wg0.conf:5: [Peer] Endpoint: \":51820\" is not host:port (192.0.2.1:51820, "
       "[2001:db8::1]:51820, vpn.example.com:51820)"},
      {iface + peer + "Endpoint = nowhere.example:51820\n",
       "wg0.conf:5: [Peer] Endpoint: resolve \"nowhere.example\": Name or service not known"},
      {iface + peer + "PersistentKeepalive = 65536\n",
       "wg0.conf:5: [Peer] PersistentKeepalive: \"65536\" is not \"off\" or a number of seconds "
       "(0..65535)"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::vector<std::string> asked;
    absl::StatusOr<WgQuickConfig> config = ParseWgQuickConfig(c.text, Options(&asked));
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Message(config.status()) == c.message);
    for (const std::string& secret : {priv, psk, priv.substr(0, 42), psk.substr(1)}) {
      CHECK(Message(config.status()).find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("wg-quick: host names go to the resolver, and RefuseHostNames refuses them") {
  const std::string text = "[Interface]\nPrivateKey = " + std::string(kPrivate) +
                           "\n[Peer]\nPublicKey = " + std::string(kPeer1) +
                           "\nEndpoint = [vpn.example]:51820\n";
  std::vector<std::string> asked;
  absl::StatusOr<WgQuickConfig> resolved = ParseWgQuickConfig(text, Options(&asked));
  REQUIRE(resolved.ok());
  CHECK(asked == std::vector<std::string>{"[vpn.example]:51820"});
  CHECK(resolved->device.peers[0].endpoint == E("192.0.2.7:51820"));

  absl::StatusOr<WgQuickConfig> refused = ParseWgQuickConfig(text, {"x.conf", RefuseHostNames()});
  REQUIRE_FALSE(refused.ok());
  CHECK(Message(refused.status()) ==
        "x.conf:5: [Peer] Endpoint: \"[vpn.example]:51820\" is not a numeric endpoint, and host "
        "names are not resolved here");
  // It still reads numeric endpoints.
  absl::StatusOr<udp::Endpoint> numeric = RefuseHostNames()("[::1]:5");
  REQUIRE(numeric.ok());
  CHECK(*numeric == E("[::1]:5"));
}

DeviceStatus SampleStatus() {
  DeviceStatus s;
  s.private_key = *x25519::PrivateKey::FromBase64(kPrivate);
  s.listen_port = 51820;
  s.fwmark = 0xca6c;
  PeerStatus& a = s.peers.emplace_back();
  a.public_key = *x25519::PublicKey::FromBase64(kPeer1);
  a.preshared_key = *x25519::PresharedKey::FromBase64(kPreshared);
  a.allowed_ips = {P("10.0.0.2/32"), P("fd00::2/128")};
  a.endpoint = E("[2001:db8::1]:51820");
  a.persistent_keepalive = std::chrono::seconds(25);
  a.rx_bytes = 99;  // not part of a configuration
  PeerStatus& b = s.peers.emplace_back();
  b.public_key = *x25519::PublicKey::FromBase64(kPeer2);
  return s;
}

TEST_CASE("wg-quick: showconf text, and it reads back") {
  const std::string text = FormatWgShowconf(SampleStatus());
  CHECK(text ==
        "[Interface]\n"
        "ListenPort = 51820\n"
        "FwMark = 0xca6c\n"
        "PrivateKey = 6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=\n"
        "\n"
        "[Peer]\n"
        "PublicKey = uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=\n"
        "PresharedKey = GIUVCT6VL18i6GXO8wEucvi18LWYrAMJ1drM47cPz1I=\n"
        "AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
        "Endpoint = [2001:db8::1]:51820\n"
        "PersistentKeepalive = 25\n"
        "\n"
        "[Peer]\n"
        "PublicKey = WEAuaVuhdyscyTCXVfBDJR6nf9zxD75jmJzrfhkyE3Y=\n");
  absl::StatusOr<WgQuickConfig> config = ParseWgQuickConfig(text, {"show", RefuseHostNames()});
  REQUIRE(config.ok());
  CHECK(config->device.listen_port == uint16_t{51820});
  CHECK(config->device.fwmark == uint32_t{0xca6c});
  REQUIRE(config->device.peers.size() == 2);
  CHECK(config->device.peers[0].allowed_ips == SampleStatus().peers[0].allowed_ips);
  CHECK(config->device.peers[0].endpoint == SampleStatus().peers[0].endpoint);
  CHECK(config->device.peers[0].persistent_keepalive == std::chrono::seconds(25));
  CHECK(config->device.peers[1].public_key == SampleStatus().peers[1].public_key);
  CHECK(config->device.peers[1].allowed_ips.empty());

  CHECK(FormatWgShowconf(DeviceStatus()) == "[Interface]\n");
}

TEST_CASE("wg-quick: LoadWgQuickConfig reads a file and names it in errors") {
  char dir_template[] = "/tmp/wg_quick_test.XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string good = dir + "/wg0.conf";
  const std::string bad = dir + "/wg1.conf";
  std::ofstream(good) << kFull;
  std::ofstream(bad) << "[Interface]\nMTU = 9\n";

  std::vector<std::string> asked;
  WgQuickParseOptions options;
  options.resolve_endpoint = FakeResolver{&asked};
  absl::StatusOr<WgQuickConfig> config = LoadWgQuickConfig(good, options);
  REQUIRE(config.ok());
  CHECK(config->device.peers.size() == 2);
  CHECK(config->mtu == 1420);

  absl::StatusOr<WgQuickConfig> failed = LoadWgQuickConfig(bad, options);
  REQUIRE_FALSE(failed.ok());
  CHECK(Message(failed.status()) ==
        bad + ":2: [Interface] MTU: \"9\" is not a number from 68 to 65535");

  absl::StatusOr<WgQuickConfig> missing = LoadWgQuickConfig(dir + "/nope.conf", options);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(Message(missing.status()).find(dir + "/nope.conf") != std::string::npos);

  absl::StatusOr<WgQuickConfig> directory = LoadWgQuickConfig(dir, options);
  REQUIRE_FALSE(directory.ok());
  CHECK(Message(directory.status()) == dir + ": not a regular file");

  std::remove(good.c_str());
  std::remove(bad.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace meshvpn::wg
