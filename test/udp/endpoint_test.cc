#include "meshvpn/udp/endpoint.h"

#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <string>
#include <unordered_set>

#include "absl/container/flat_hash_set.h"
#include "meshvpn/udp/resolve.h"

namespace meshvpn::udp {
namespace {

struct ParseCase {
  const char* text;
  const char* canonical;  // ToString() of the result; nullptr: the text must be rejected
  AddressFamily family;
  uint16_t port;
};

TEST_CASE("Endpoint::Parse accepts numeric endpoints and rejects everything else") {
  const ParseCase cases[] = {
      {"1.2.3.4:4000", "1.2.3.4:4000", AddressFamily::kIpv4, 4000},
      {"0.0.0.0:0", "0.0.0.0:0", AddressFamily::kIpv4, 0},
      {"255.255.255.255:65535", "255.255.255.255:65535", AddressFamily::kIpv4, 65535},
      {"127.0.0.1:00080", "127.0.0.1:80", AddressFamily::kIpv4, 80},
      {":4000", "[::]:4000", AddressFamily::kIpv6, 4000},
      {"[::1]:4000", "[::1]:4000", AddressFamily::kIpv6, 4000},
      {"[::]:53", "[::]:53", AddressFamily::kIpv6, 53},
      {"[2001:DB8:0:0:0:0:0:1]:53", "[2001:db8::1]:53", AddressFamily::kIpv6, 53},
      {"[fe80::1%3]:51820", "[fe80::1%3]:51820", AddressFamily::kIpv6, 51820},
      // An IPv4-mapped IPv6 address is the IPv4 peer it stands for.
      {"[::ffff:10.0.0.1]:9", "10.0.0.1:9", AddressFamily::kIpv4, 9},
      {"", nullptr},
      {"1.2.3.4", nullptr},
      {"1.2.3.4:", nullptr},
      {"1.2.3.4:65536", nullptr},
      {"1.2.3.4:-1", nullptr},
      {"1.2.3.4:+80", nullptr},
      {"1.2.3.4:80 ", nullptr},
      {"1.2.3:80", nullptr},
      {"256.1.1.1:80", nullptr},
      {"::1:4000", nullptr},
      {"[::1]", nullptr},
      {"[::1]4000", nullptr},
      {"[::1:4000", nullptr},
      {"[1.2.3.4]:80", nullptr},
      {"[fe80::1%eth0]:80", nullptr},
      {"localhost:80", nullptr},
      {":", nullptr},
      {":99999", nullptr},
  };
  for (const ParseCase& c : cases) {
    INFO("input \"" << c.text << "\"");
    absl::StatusOr<Endpoint> e = Endpoint::Parse(c.text);
    if (c.canonical == nullptr) {
      CHECK_FALSE(e.ok());
      if (!e.ok()) {
        CHECK(e.status().code() == absl::StatusCode::kInvalidArgument);
        CHECK(std::string(e.status().message()).find(c.text) != std::string::npos);
      }
      continue;
    }
    REQUIRE(e.ok());
    CHECK(e->ToString() == c.canonical);
    CHECK(e->family() == c.family);
    CHECK(e->port() == c.port);
    // What ToString prints parses back to the same value.
    absl::StatusOr<Endpoint> again = Endpoint::Parse(e->ToString());
    REQUIRE(again.ok());
    CHECK(*again == *e);
  }
}

TEST_CASE("a parse error says what is wrong") {
  CHECK(Endpoint::Parse("::1:4000").status().message() ==
        "endpoint \"::1:4000\": an IPv6 address needs brackets, as in [2001:db8::1]:4000");
  CHECK(Endpoint::Parse("1.2.3.4:70000").status().message() ==
        "endpoint \"1.2.3.4:70000\": port must be a number from 0 to 65535");
}

TEST_CASE("endpoints compare and hash by address, port, family and scope") {
  const Endpoint a = *Endpoint::Parse("10.0.0.1:4000");
  CHECK(a == *Endpoint::Parse("10.0.0.1:4000"));
  CHECK_FALSE(a == *Endpoint::Parse("10.0.0.1:4001"));
  CHECK_FALSE(a == *Endpoint::Parse("10.0.0.2:4000"));
  // The same 4 bytes as the start of an IPv6 address are a different endpoint.
  CHECK_FALSE(*Endpoint::Parse("[a00:1::]:4000") == a);
  CHECK_FALSE(*Endpoint::Parse("[fe80::1%1]:4000") == *Endpoint::Parse("[fe80::1%2]:4000"));
  CHECK(Endpoint::V4({10, 0, 0, 1}, 4000) == a);

  absl::flat_hash_set<Endpoint> absl_set;
  std::unordered_set<Endpoint> std_set;
  for (const char* text : {"10.0.0.1:4000", "10.0.0.1:4001", "[::1]:4000", "[::ffff:10.0.0.1]:4000",
                           "10.0.0.1:4000"}) {
    absl_set.insert(*Endpoint::Parse(text));
    std_set.insert(*Endpoint::Parse(text));
  }
  CHECK(absl_set.size() == 3);
  CHECK(std_set.size() == 3);
}

TEST_CASE("sockaddr conversion maps IPv4 onto dual-stack sockets and back") {
  const Endpoint v4 = *Endpoint::Parse("192.0.2.7:5353");
  sockaddr_storage ss;
  socklen_t len = v4.ToSockaddr(AddressFamily::kIpv4, &ss);
  REQUIRE(len == sizeof(sockaddr_in));
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
  CHECK(sin->sin_family == AF_INET);
  CHECK(ntohs(sin->sin_port) == 5353);
  CHECK(ntohl(sin->sin_addr.s_addr) == 0xC0000207u);
  CHECK(Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), len) == v4);

  // On an IPv6 socket the IPv4 endpoint becomes ::ffff:192.0.2.7, and reads back as IPv4.
  len = v4.ToSockaddr(AddressFamily::kIpv6, &ss);
  REQUIRE(len == sizeof(sockaddr_in6));
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  CHECK(sin6->sin6_family == AF_INET6);
  char text[INET6_ADDRSTRLEN];
  REQUIRE(inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text)) != nullptr);
  CHECK(std::string(text) == "::ffff:192.0.2.7");
  CHECK(Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), len) == v4);

  // An IPv6 endpoint cannot be reached from an IPv4 socket.
  const Endpoint v6 = *Endpoint::Parse("[fe80::2%7]:9");
  CHECK(v6.ToSockaddr(AddressFamily::kIpv4, &ss) == 0);
  len = v6.ToSockaddr(AddressFamily::kIpv6, &ss);
  CHECK(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_scope_id == 7);
  CHECK(Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), len) == v6);

  // Too short, or not IP: no endpoint.
  CHECK_FALSE(Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), 8).has_value());
  sockaddr unix_addr{};
  unix_addr.sa_family = AF_UNIX;
  CHECK_FALSE(Endpoint::FromSockaddr(&unix_addr, sizeof(unix_addr)).has_value());
  CHECK_FALSE(Endpoint::FromSockaddr(nullptr, 0).has_value());
}

TEST_CASE("wildcard and loopback endpoints") {
  CHECK(Endpoint::Any(AddressFamily::kIpv4, 7).ToString() == "0.0.0.0:7");
  CHECK(Endpoint::Any(AddressFamily::kIpv6, 7).ToString() == "[::]:7");
  CHECK(Endpoint::Any(AddressFamily::kIpv6, 7).IsUnspecified());
  CHECK_FALSE(Endpoint::Loopback(AddressFamily::kIpv6, 7).IsUnspecified());
  CHECK(Endpoint::Loopback(AddressFamily::kIpv4, 7).ToString() == "127.0.0.1:7");
  CHECK(Endpoint::Loopback(AddressFamily::kIpv6, 7).ToString() == "[::1]:7");
  CHECK(Endpoint::Parse("127.8.9.10:1")->IsLoopback());
  CHECK(Endpoint::Parse("[::1]:1")->IsLoopback());
  CHECK_FALSE(Endpoint::Parse("[::2]:1")->IsLoopback());
  CHECK(Endpoint::Parse("10.0.0.1:1")->WithPort(2).ToString() == "10.0.0.1:2");
  CHECK(Endpoint::Parse("10.0.0.1:1")->address().size() == 4);
  CHECK(Endpoint::Parse("[::1]:1")->address().size() == 16);
}

TEST_CASE("Resolve takes numeric endpoints and names from /etc/hosts") {
  CHECK(Resolve("10.1.2.3:9")->ToString() == "10.1.2.3:9");
  CHECK(Resolve("[::1]:9")->ToString() == "[::1]:9");
  // "localhost" is in /etc/hosts on every Debian system; ask for IPv4 to get a fixed answer.
  absl::StatusOr<Endpoint> local = Resolve("localhost:4000", AddressFamily::kIpv4);
  REQUIRE(local.ok());
  CHECK(local->ToString() == "127.0.0.1:4000");
  CHECK(Resolve("localhost:99999").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Resolve("localhost").status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meshvpn::udp
