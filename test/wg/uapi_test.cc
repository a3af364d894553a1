#include "meshvpn/wg/uapi.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshvpn::wg {
namespace {

// The example exchange of https://www.wireguard.com/xplatform/ ("Configuration Protocol"). The set
// request is the page's example as wgctrl-go reproduces it in internal/wguser/client_test.go (MIT;
// "with some slight modifications to use all fields": update_only added, lines reordered); the get
// reply is the page's example as wireguard-rs reproduces it in its UAPI tests (MIT), key order and
// all. The keys are the page's published example keys, not secrets.
constexpr std::string_view kXplatformSet =
    "set=1\n"
    "private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
    "listen_port=12912\n"
    "fwmark=0\n"
    "replace_peers=true\n"
    "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
    "preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52\n"
    "endpoint=[abcd:23::33%2]:51820\n"
    "replace_allowed_ips=true\n"
    "allowed_ip=192.168.4.4/32\n"
    "public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
    "update_only=true\n"
    "endpoint=182.122.22.19:3233\n"
    "persistent_keepalive_interval=111\n"
    "replace_allowed_ips=true\n"
    "allowed_ip=192.168.4.6/32\n"
    "public_key=662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58\n"
    "endpoint=5.152.198.39:51820\n"
    "replace_allowed_ips=true\n"
    "allowed_ip=192.168.4.10/32\n"
    "allowed_ip=192.168.4.11/32\n"
    "public_key=e818b58db5274087fcc1be5dc728cf53d3b5726b4cef6b9bab8f8f8c2452c25c\n"
    "remove=true\n"
    "\n";
constexpr std::string_view kXplatformSetReply = "errno=0\n\n";

constexpr std::string_view kXplatformGetReply =
    "private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
    "listen_port=12912\n"
    "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
    "preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52\n"
    "allowed_ip=192.168.4.4/32\n"
    "endpoint=[abcd:23::33%2]:51820\n"
    "public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
    "tx_bytes=38333\n"
    "rx_bytes=2224\n"
    "allowed_ip=192.168.4.6/32\n"
    "persistent_keepalive_interval=111\n"
    "endpoint=182.122.22.19:3233\n"
    "public_key=662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58\n"
    "endpoint=5.152.198.39:51820\n"
    "allowed_ip=192.168.4.10/32\n"
    "allowed_ip=192.168.4.11/32\n"
    "tx_bytes=1212111\n"
    "rx_bytes=1929999999\n"
    "protocol_version=1\n"
    "errno=0\n"
    "\n";

constexpr std::string_view kPrivateHex =
    "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a";
constexpr std::string_view kPresharedHex =
    "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52";
constexpr std::string_view kPeer1Hex =
    "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33";
constexpr std::string_view kPeer2Hex =
    "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376";
constexpr std::string_view kPeer3Hex =
    "662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58";
constexpr std::string_view kPeer4Hex =
    "e818b58db5274087fcc1be5dc728cf53d3b5726b4cef6b9bab8f8f8c2452c25c";

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
x25519::PublicKey Pub(std::string_view hex) {
  auto k = x25519::PublicKey::FromHex(hex);
  REQUIRE(k.ok());
  return *k;
}
std::string Message(const absl::Status& s) { return std::string(s.message()); }

// Feeds a whole exchange to a reader and returns the one request it holds.
UapiRequest Frame(std::string_view text) {
  UapiRequestReader reader;
  REQUIRE(reader.Feed(AsBytes(text)).ok());
  std::optional<UapiRequest> request = reader.Next();
  REQUIRE(request.has_value());
  CHECK_FALSE(reader.Next().has_value());
  CHECK(reader.idle());
  return std::move(*request);
}

TEST_CASE("uapi: the xplatform set example parses into the update it describes") {
  const UapiRequest request = Frame(kXplatformSet);
  REQUIRE(request.kind == UapiRequest::Kind::kSet);
  CHECK(request.body.substr(0, 12) == "private_key=");
  CHECK(request.body.back() == '\n');
  CHECK(request.body.find("\n\n") == std::string::npos);

  absl::StatusOr<DeviceConfigUpdate> update = ParseUapiSet(request.body);
  REQUIRE(update.ok());
  REQUIRE(update->private_key.has_value());
  CHECK(update->private_key->ExportHexForUapi() == kPrivateHex);
  CHECK(update->listen_port == uint16_t{12912});
  CHECK(update->fwmark == uint32_t{0});
  CHECK(update->replace_peers);
  REQUIRE(update->peers.size() == 4);

  const PeerConfigUpdate& p1 = update->peers[0];
  CHECK(p1.public_key == Pub(kPeer1Hex));
  REQUIRE(p1.preshared_key.has_value());
  CHECK(p1.preshared_key->ExportHexForUapi() == kPresharedHex);
  CHECK(p1.endpoint == E("[abcd:23::33%2]:51820"));
  CHECK(p1.endpoint->scope_id() == 2);
  CHECK(p1.replace_allowed_ips);
  CHECK(p1.allowed_ips == std::vector<tun::IpPrefix>{P("192.168.4.4/32")});
  CHECK_FALSE(p1.remove);
  CHECK_FALSE(p1.update_only);
  CHECK_FALSE(p1.persistent_keepalive.has_value());

  const PeerConfigUpdate& p2 = update->peers[1];
  CHECK(p2.public_key == Pub(kPeer2Hex));
  CHECK(p2.update_only);
  CHECK(p2.endpoint == E("182.122.22.19:3233"));
  CHECK(p2.persistent_keepalive == std::chrono::seconds(111));
  CHECK(p2.allowed_ips == std::vector<tun::IpPrefix>{P("192.168.4.6/32")});
  CHECK_FALSE(p2.preshared_key.has_value());

  const PeerConfigUpdate& p3 = update->peers[2];
  CHECK(p3.public_key == Pub(kPeer3Hex));
  CHECK(p3.endpoint == E("5.152.198.39:51820"));
  CHECK(p3.allowed_ips == std::vector<tun::IpPrefix>{P("192.168.4.10/32"), P("192.168.4.11/32")});

  const PeerConfigUpdate& p4 = update->peers[3];
  CHECK(p4.public_key == Pub(kPeer4Hex));
  CHECK(p4.remove);
  CHECK(p4.allowed_ips.empty());

  // The reply the page shows for it.
  CHECK(UapiErrnoLine(UapiErrno(absl::OkStatus())) == kXplatformSetReply);
}

TEST_CASE("uapi: the xplatform get reply parses, keys in any order") {
  absl::StatusOr<DeviceStatus> status = ParseUapiGet(kXplatformGetReply);
  REQUIRE(status.ok());
  REQUIRE(status->private_key.has_value());
  CHECK(status->private_key->ExportHexForUapi() == kPrivateHex);
  CHECK(status->listen_port == 12912);
  CHECK(status->fwmark == 0);
  REQUIRE(status->peers.size() == 3);

  const PeerStatus& p1 = status->peers[0];
  CHECK(p1.public_key == Pub(kPeer1Hex));
  CHECK(p1.preshared_key.ExportHexForUapi() == kPresharedHex);
  CHECK(p1.allowed_ips == std::vector<tun::IpPrefix>{P("192.168.4.4/32")});
  CHECK(p1.endpoint == E("[abcd:23::33%2]:51820"));
  CHECK(p1.tx_bytes == 0);
  CHECK_FALSE(p1.last_handshake.has_value());

  const PeerStatus& p2 = status->peers[1];
  CHECK(p2.public_key == Pub(kPeer2Hex));
  CHECK(p2.preshared_key.IsZero());
  CHECK(p2.tx_bytes == 38333);
  CHECK(p2.rx_bytes == 2224);
  CHECK(p2.persistent_keepalive == std::chrono::seconds(111));
  CHECK(p2.endpoint == E("182.122.22.19:3233"));

  const PeerStatus& p3 = status->peers[2];
  CHECK(p3.tx_bytes == 1212111);
  CHECK(p3.rx_bytes == 1929999999);
  CHECK(p3.allowed_ips == std::vector<tun::IpPrefix>{P("192.168.4.10/32"), P("192.168.4.11/32")});

  // Written back in wireguard-go's order.
  CHECK(FormatUapiGet(*status) ==
        "private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
        "listen_port=12912\n"
        "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
        "preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52\n"
        "protocol_version=1\n"
        "endpoint=[abcd:23::33%2]:51820\n"
        "last_handshake_time_sec=0\n"
        "last_handshake_time_nsec=0\n"
        "tx_bytes=0\n"
        "rx_bytes=0\n"
        "persistent_keepalive_interval=0\n"
        "allowed_ip=192.168.4.4/32\n"
        "public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
        "preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
        "protocol_version=1\n"
        "endpoint=182.122.22.19:3233\n"
        "last_handshake_time_sec=0\n"
        "last_handshake_time_nsec=0\n"
        "tx_bytes=38333\n"
        "rx_bytes=2224\n"
        "persistent_keepalive_interval=111\n"
        "allowed_ip=192.168.4.6/32\n"
        "public_key=662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58\n"
        "preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
        "protocol_version=1\n"
        "endpoint=5.152.198.39:51820\n"
        "last_handshake_time_sec=0\n"
        "last_handshake_time_nsec=0\n"
        "tx_bytes=1212111\n"
        "rx_bytes=1929999999\n"
        "persistent_keepalive_interval=0\n"
        "allowed_ip=192.168.4.10/32\n"
        "allowed_ip=192.168.4.11/32\n");
}

DeviceStatus SampleStatus() {
  DeviceStatus s;
  s.private_key = *x25519::PrivateKey::FromHex(kPrivateHex);
  s.listen_port = 51820;
  s.fwmark = 0xca6c;
  PeerStatus& a = s.peers.emplace_back();
  a.public_key = Pub(kPeer1Hex);
  a.preshared_key = *x25519::PresharedKey::FromHex(kPresharedHex);
  a.endpoint = E("[2001:db8::1]:51820");
  a.persistent_keepalive = std::chrono::seconds(25);
  a.allowed_ips = {P("10.0.0.2/32"), P("fd00::2/128")};
  a.last_handshake =
      WallTime(std::chrono::seconds(1700000000) + std::chrono::nanoseconds(123456789));
  a.rx_bytes = 1;
  a.tx_bytes = UINT64_MAX;
  PeerStatus& b = s.peers.emplace_back();
  b.public_key = Pub(kPeer2Hex);
  return s;
}

TEST_CASE("uapi: get=1 formatting follows wireguard-go and reads back") {
  const DeviceStatus status = SampleStatus();
  const std::string text = FormatUapiGet(status);
  CHECK(text ==
        "private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
        "listen_port=51820\n"
        "fwmark=51820\n"
        "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
        "preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52\n"
        "protocol_version=1\n"
        "endpoint=[2001:db8::1]:51820\n"
        "last_handshake_time_sec=1700000000\n"
        "last_handshake_time_nsec=123456789\n"
        "tx_bytes=18446744073709551615\n"
        "rx_bytes=1\n"
        "persistent_keepalive_interval=25\n"
        "allowed_ip=10.0.0.2/32\n"
        "allowed_ip=fd00::2/128\n"
        "public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
        "preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
        "protocol_version=1\n"
        "last_handshake_time_sec=0\n"
        "last_handshake_time_nsec=0\n"
        "tx_bytes=0\n"
        "rx_bytes=0\n"
        "persistent_keepalive_interval=0\n");

  // The round trip, as the socket server sends it (with the trailer) and a client reads it.
  absl::StatusOr<DeviceStatus> back = ParseUapiGet(text + UapiErrnoLine(0));
  REQUIRE(back.ok());
  CHECK(FormatUapiGet(*back) == text);
  REQUIRE(back->peers.size() == 2);
  CHECK(back->peers[0].last_handshake == status.peers[0].last_handshake);
  CHECK(back->peers[0].endpoint == status.peers[0].endpoint);
  CHECK(back->peers[0].allowed_ips == status.peers[0].allowed_ips);
  CHECK_FALSE(back->peers[1].last_handshake.has_value());
  CHECK_FALSE(back->peers[1].endpoint.has_value());
}

TEST_CASE("uapi: get=1 leaves out an unset private key, port and fwmark") {
  DeviceStatus status;
  CHECK(FormatUapiGet(status).empty());
  status.private_key = x25519::PrivateKey();  // all zeros: "no key", as wireguard-go
  CHECK(FormatUapiGet(status).empty());
  status.listen_port = 1;
  CHECK(FormatUapiGet(status) == "listen_port=1\n");
}

TEST_CASE("uapi: set=1 formatting reads back to the same update") {
  absl::StatusOr<DeviceConfigUpdate> update = ParseUapiSet(Frame(kXplatformSet).body);
  REQUIRE(update.ok());
  const std::string text = FormatUapiSet(*update);
  // The example's lines already are in the canonical order.
  CHECK(text == kXplatformSet.substr(6, kXplatformSet.size() - 7));
  absl::StatusOr<DeviceConfigUpdate> again = ParseUapiSet(text);
  REQUIRE(again.ok());
  CHECK(FormatUapiSet(*again) == text);
  CHECK(again->peers.size() == 4);
  CHECK(again->peers[1].update_only);
  CHECK(again->peers[3].remove);
}

TEST_CASE("uapi: set=1 applies lines in order like wireguard-go") {
  const std::string body =
      "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
      "allowed_ip=10.0.0.1/32\n"
      "persistent_keepalive_interval=5\n"
      "replace_allowed_ips=true\n"  // drops 10.0.0.1/32 again
      "allowed_ip=10.0.0.2/32\n"
      "persistent_keepalive_interval=0\n"
      "preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
      "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
      "protocol_version=1\n";
  absl::StatusOr<DeviceConfigUpdate> update = ParseUapiSet(body);
  REQUIRE(update.ok());
  CHECK_FALSE(update->private_key.has_value());
  CHECK_FALSE(update->replace_peers);
  REQUIRE(update->peers.size() == 2);  // the same key twice: two updates, applied in order
  CHECK(update->peers[0].replace_allowed_ips);
  CHECK(update->peers[0].allowed_ips == std::vector<tun::IpPrefix>{P("10.0.0.2/32")});
  CHECK(update->peers[0].persistent_keepalive == std::chrono::seconds(0));
  REQUIRE(update->peers[0].preshared_key.has_value());
  CHECK(update->peers[0].preshared_key->IsZero());  // removes the preshared key
  CHECK(update->peers[1].allowed_ips.empty());

  // Removing the private key, an empty set, CRLF lines and a trailing blank line.
  absl::StatusOr<DeviceConfigUpdate> zero = ParseUapiSet(
      "private_key=0000000000000000000000000000000000000000000000000000000000000000\r\n"
      "listen_port=0\r\n"
      "fwmark=4294967295\r\n"
      "\r\n");
  REQUIRE(zero.ok());
  REQUIRE(zero->private_key.has_value());
  CHECK(zero->private_key->IsZero());
  CHECK(zero->listen_port == uint16_t{0});
  CHECK(zero->fwmark == uint32_t{4294967295});
  absl::StatusOr<DeviceConfigUpdate> empty = ParseUapiSet("");
  REQUIRE(empty.ok());
  CHECK(empty->peers.empty());
  CHECK_FALSE(empty->listen_port.has_value());
}

TEST_CASE("uapi: set=1 errors name the line and key, never a key's value") {
  const std::string pub(kPeer1Hex);
  const std::string priv(kPrivateHex);
  const std::string psk(kPresharedHex);
  const struct {
    std::string body;
    std::string message;  // the whole message
    int error_number;
  } cases[] = {
      {"listen_port=51820\nbogus\n", "line 2: not a key=value line", EPROTO},
      {"listen_port=65536\n",
       "line 1: listen_port: \"65536\" is not a decimal number from 0 to 65535", EINVAL},
      {"listen_port=-1\n", "line 1: listen_port: \"-1\" is not a decimal number from 0 to 65535",
       EINVAL},
      {"listen_port= 1\n", "line 1: listen_port: \" 1\" is not a decimal number from 0 to 65535",
       EINVAL},
      {"fwmark=4294967296\n",
       "line 1: fwmark: \"4294967296\" is not a decimal number from 0 to 4294967295", EINVAL},
      {"replace_peers=false\n", "line 1: replace_peers: the only value is \"true\"", EINVAL},
      {"private_key=" + priv.substr(0, 63) + "\n",
       "line 1: private_key: not a hex key (x25519 private key: a hex key is 64 characters (32 "
       "bytes), "
       "got 63 characters)",
       EINVAL},
      {"private_key=" + priv.substr(0, 62) + "zz\n",
       "line 1: private_key: not a hex key (x25519 private key: hex: invalid character at offset "
       "62)",
       EINVAL},
      {"preshared_key=" + psk + "\n",
       "line 1: preshared_key: a peer key before the first public_key", EINVAL},
      {"public_key=" + pub + "\npreshared_key=" + psk.substr(0, 63) + "g\n",
       "line 2: preshared_key: not a hex key (preshared key: hex: invalid character at offset "
       "63)",
       EINVAL},
      {"public_key=" + pub + "\nlisten_port=1\n",
       "line 2: listen_port: a device key after the first public_key", EINVAL},
      {"public_key=" + pub.substr(2) + "\n",
       "line 1: public_key: not a hex key (x25519 public key: a hex key is 64 characters (32 "
       "bytes), "
       "got 62 characters)",
       EINVAL},
      {"public_key=" + pub + "\nendpoint=example.com:51820\n",
       "line 2: endpoint: \"example.com:51820\" is not a numeric endpoint like 192.0.2.1:51820 "
       "or [2001:db8::1]:51820",
       EINVAL},
      {"public_key=" + pub + "\nendpoint=:51820\n",
       "line 2: endpoint: \":51820\" is not a numeric endpoint like 192.0.2.1:51820 or "
       "[2001:db8::1]:51820",
       EINVAL},
      {"public_key=" + pub + "\nallowed_ip=10.0.0.300/32\n",
       "line 2: allowed_ip: \"10.0.0.300/32\" is not an IP prefix like 10.0.0.0/24 or fd00::/64",
       EINVAL},
      {"public_key=" + pub + "\nallowed_ip=10.0.0.1\n",
       "line 2: allowed_ip: \"10.0.0.1\" is not an IP prefix like 10.0.0.0/24 or fd00::/64",
       EINVAL},
      {"public_key=" + pub + "\npersistent_keepalive_interval=65536\n",
       "line 2: persistent_keepalive_interval: \"65536\" is not a decimal number from 0 to 65535",
       EINVAL},
      {"public_key=" + pub + "\nprotocol_version=2\n",
       "line 2: protocol_version: only version 1 exists", EINVAL},
      {"public_key=" + pub + "\nremove=1\n", "line 2: remove: the only value is \"true\"", EINVAL},
      {"public_key=" + pub + "\nupdate_only=yes\n",
       "line 2: update_only: the only value is \"true\"", EINVAL},
      {"public_key=" + pub + "\nreplace_allowed_ips=\n",
       "line 2: replace_allowed_ips: the only value is \"true\"", EINVAL},
      {"listen_port=1\nprivate_kee=" + priv + "\n", "line 2: unknown key \"private_kee\"", EINVAL},
      // A line made of a pasted key is not echoed, not even as a key name.
      {priv + "=" + psk + "\n", "line 1: unknown key (not shown)", EINVAL},
      {"Listen_Port=1\n", "line 1: unknown key \"Listen_Port\"", EINVAL},
      {"listen_port=1\n\nlisten_port=2\n",
       "line 2: a blank line ends the request, but more follows", EINVAL},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    absl::StatusOr<DeviceConfigUpdate> update = ParseUapiSet(c.body);
    REQUIRE_FALSE(update.ok());
    CHECK(update.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Message(update.status()) == c.message);
    CHECK(UapiErrno(update.status()) == c.error_number);
    for (const std::string& secret : {priv, psk, priv.substr(0, 62), psk.substr(0, 63)}) {
      CHECK(Message(update.status()).find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("uapi: get replies: errors, a server's errno, skipped keys") {
  absl::StatusOr<DeviceStatus> failed = ParseUapiGet("errno=-22\n\n");
  REQUIRE_FALSE(failed.ok());
  CHECK(UapiErrno(failed.status()) == EINVAL);
  CHECK(failed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(UapiErrno(ParseUapiGet("errno=98\n\n").status()) == EADDRINUSE);

  absl::StatusOr<DeviceStatus> newer =
      ParseUapiGet("listen_port=7\nsomething_new=1\npublic_key=" + std::string(kPeer1Hex) +
                   "\nalso_new=x\ntx_bytes=5\n");
  REQUIRE(newer.ok());
  CHECK(newer->listen_port == 7);
  REQUIRE(newer->peers.size() == 1);
  CHECK(newer->peers[0].tx_bytes == 5);

  const struct {
    std::string reply;
    std::string message;
  } cases[] = {
      {"tx_bytes=1\n", "line 1: tx_bytes: a peer key before the first public_key"},
      {"public_key=" + std::string(kPeer1Hex) + "\nlisten_port=1\n",
       "line 2: listen_port: a device key after the first public_key"},
      {"public_key=" + std::string(kPeer1Hex) + "\nlast_handshake_time_nsec=1000000000\n",
       "line 2: last_handshake_time_nsec: \"1000000000\" is not a decimal number from 0 to "
       "999999999"},
      {"public_key=" + std::string(kPeer1Hex) + "\nrx_bytes=18446744073709551616\n",
       "line 2: rx_bytes: \"18446744073709551616\" is not a decimal number from 0 to "
       "18446744073709551615"},
      {"errno=0\nlisten_port=1\n", "line 2: errno must be the last line before the blank one"},
      {"errno=x\n\n", "line 1: errno: \"x\" is not an errno"},
      {"listen_port\n", "line 1: not a key=value line"},
  };
  for (const auto& c : cases) {
    INFO(c.reply);
    absl::StatusOr<DeviceStatus> status = ParseUapiGet(c.reply);
    REQUIRE_FALSE(status.ok());
    CHECK(Message(status.status()) == c.message);
  }
}

TEST_CASE("uapi: errno lines and the errno of a status") {
  CHECK(UapiErrnoLine(0) == "errno=0\n\n");
  CHECK(UapiErrnoLine(EINVAL) == "errno=-22\n\n");
  CHECK(UapiErrnoLine(-EPROTO) == "errno=-71\n\n");
  CHECK(UapiErrno(absl::OkStatus()) == 0);
  CHECK(UapiErrno(absl::InvalidArgumentError("x")) == EINVAL);
  CHECK(UapiErrno(absl::OutOfRangeError("x")) == EINVAL);
  CHECK(UapiErrno(absl::AlreadyExistsError("bind")) == EADDRINUSE);
  CHECK(UapiErrno(absl::InternalError("x")) == EIO);
  const absl::Status tagged = WithUapiErrno(absl::UnavailableError("bind"), EADDRINUSE);
  CHECK(tagged.code() == absl::StatusCode::kUnavailable);
  CHECK(tagged.message() == "bind");
  CHECK(UapiErrno(tagged) == EADDRINUSE);
  CHECK(WithUapiErrno(absl::OkStatus(), EINVAL).ok());
}

TEST_CASE("uapi: the request reader frames byte by byte as well as all at once") {
  const std::string stream = "get=1\n\n" + std::string(kXplatformSet) + "set=1\n\nget=1\n\n" +
                             "set=1\r\nlisten_port=1\r\n\r\n";
  // "set=1\r\n" is not an operation line (wireguard-go compares "set=1\n" exactly), so the last
  // request fails; the four before it are complete.
  for (const size_t chunk : {stream.size(), size_t{1}, size_t{7}}) {
    INFO(chunk);
    UapiRequestReader reader;
    absl::Status status;
    for (size_t i = 0; i < stream.size() && status.ok(); i += chunk) {
      status = reader.Feed(AsBytes(std::string_view(stream).substr(i, chunk)));
    }
    std::vector<UapiRequest> requests;
    while (std::optional<UapiRequest> r = reader.Next()) requests.push_back(std::move(*r));
    REQUIRE(requests.size() == 4);
    CHECK(requests[0].kind == UapiRequest::Kind::kGet);
    CHECK(requests[0].body.empty());
    CHECK(requests[1].kind == UapiRequest::Kind::kSet);
    CHECK(requests[1].body ==
          kXplatformSet.substr(6, kXplatformSet.size() - 7));  // without set=1 and the blank line
    CHECK(requests[2].kind == UapiRequest::Kind::kSet);
    CHECK(requests[2].body.empty());
    CHECK(requests[3].kind == UapiRequest::Kind::kGet);
    REQUIRE_FALSE(status.ok());
    CHECK(UapiErrno(status) == EPROTO);
    CHECK(reader.status() == status);
  }
}

TEST_CASE("uapi: the request reader accepts a CRLF blank line and reports partial requests") {
  UapiRequestReader reader;
  CHECK(reader.idle());
  REQUIRE(reader.Feed(AsBytes("set=1\nlisten_port=1\r\n")).ok());
  CHECK_FALSE(reader.idle());
  CHECK_FALSE(reader.Next().has_value());
  REQUIRE(reader.Feed(AsBytes("\r")).ok());
  CHECK_FALSE(reader.Next().has_value());
  REQUIRE(reader.Feed(AsBytes("\n")).ok());
  std::optional<UapiRequest> request = reader.Next();
  REQUIRE(request.has_value());
  CHECK(request->body == "listen_port=1\r\n");
  CHECK(reader.idle());
  absl::StatusOr<DeviceConfigUpdate> update = ParseUapiSet(request->body);
  REQUIRE(update.ok());
  CHECK(update->listen_port == uint16_t{1});
}

TEST_CASE("uapi: the request reader refuses bad operations, get with data, and huge requests") {
  const struct {
    std::string input;
    absl::StatusCode code;
    int error_number;
    std::string message;
  } cases[] = {
      {"G", absl::StatusCode::kInvalidArgument, EPROTO,
       "uapi: the first line is neither get=1 nor set=1"},
      {"get=2\n", absl::StatusCode::kInvalidArgument, EPROTO,
       "uapi: the first line is neither get=1 nor set=1"},
      {"set=1 \n", absl::StatusCode::kInvalidArgument, EPROTO,
       "uapi: the first line is neither get=1 nor set=1"},
      {"\n", absl::StatusCode::kInvalidArgument, EPROTO,
       "uapi: the first line is neither get=1 nor set=1"},
      {"get=1\nx", absl::StatusCode::kInvalidArgument, EINVAL,
       "uapi: get=1 must be followed by a blank line"},
      {"set=1\n" + std::string(UapiRequestReader::kMaxRequestSize, 'a'),
       absl::StatusCode::kResourceExhausted, EMSGSIZE,
       "uapi: a request longer than 1048576 bytes (no blank line yet)"},
  };
  for (const auto& c : cases) {
    INFO(c.input.substr(0, 16));
    UapiRequestReader reader;
    const absl::Status status = reader.Feed(AsBytes(c.input));
    REQUIRE_FALSE(status.ok());
    CHECK(status.code() == c.code);
    CHECK(UapiErrno(status) == c.error_number);
    CHECK(Message(status) == c.message);
    CHECK(reader.idle());  // the partial request was dropped (and wiped)
    // Failed for good: even a valid request is refused now.
    CHECK(reader.Feed(AsBytes("get=1\n\n")) == status);
    CHECK_FALSE(reader.Next().has_value());
  }

  // Exactly the limit is fine; one byte more is not.
  constexpr size_t kMax = UapiRequestReader::kMaxRequestSize;
  const std::string line = "allowed_ip=10.0.0.0/8\n";
  std::string body;
  while (body.size() + 2 * line.size() < kMax - 7) body += line;
  body += "x=" + std::string(kMax - 7 - body.size() - 3, 'a') + "\n";
  const std::string request = "set=1\n" + body + "\n";
  REQUIRE(request.size() == kMax);
  UapiRequestReader reader;
  REQUIRE(reader.Feed(AsBytes(request)).ok());
  std::optional<UapiRequest> taken = reader.Next();
  REQUIRE(taken.has_value());
  CHECK(taken->body == body);

  UapiRequestReader over;
  const absl::Status status = over.Feed(AsBytes("set=1\na" + body + "\n"));
  CHECK(status.code() == absl::StatusCode::kResourceExhausted);
  CHECK_FALSE(over.Next().has_value());
}

}  // namespace
}  // namespace meshvpn::wg
