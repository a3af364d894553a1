// Tests of HostPort formatting, ParseHostPort, IsIpLiteral and ParseUrl.
#include "meshvpn/http/address.h"

#include <catch2/catch.hpp>

namespace meshvpn::http {
namespace {

TEST_CASE("HostPort::ToString brackets IPv6 literals only") {
  CHECK(HostPort{"127.0.0.1", 80}.ToString() == "127.0.0.1:80");
  CHECK(HostPort{"::1", 443}.ToString() == "[::1]:443");
  CHECK(HostPort{"example.com", 8080}.ToString() == "example.com:8080");
  CHECK(HostPort{"", 8080}.ToString() == ":8080");
}

TEST_CASE("HostPort::HostField leaves out the default port") {
  CHECK(HostPort{"example.com", 80}.HostField(80) == "example.com");
  CHECK(HostPort{"example.com", 8080}.HostField(80) == "example.com:8080");
  CHECK(HostPort{"::1", 443}.HostField(443) == "[::1]");
  CHECK(HostPort{"::1", 80}.HostField(443) == "[::1]:80");
}

TEST_CASE("ParseHostPort accepts the documented forms") {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  };
  const Case cases[] = {
      {"127.0.0.1:80", "127.0.0.1", 80},     {"[::1]:443", "::1", 443},
      {"localhost:8080", "localhost", 8080}, {":8080", "", 8080},
      {"[fe80::1:2]:0", "fe80::1:2", 0},     {"my_host.example:65535", "my_host.example", 65535},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const auto parsed = ParseHostPort(c.text);
    REQUIRE(parsed.ok());
    CHECK(parsed->host == c.host);
    CHECK(parsed->port == c.port);
    // Round trip.
    CHECK(parsed->ToString() == c.text);
  }
}

TEST_CASE("ParseHostPort rejects what is not host:port") {
  const char* bad[] = {"",        "localhost", "127.0.0.1", "::1:80",       "[::1]",   "[::1]80",
                       "[::1:80", "[zz]:80",   "h:",        "h:65536",      "h:-1",    "h: 80",
                       "h:80x",   "a b:80",    "h/x:80",    "[1.2.3.4]:80", "h:123456"};
  for (const char* text : bad) {
    INFO(text);
    const auto parsed = ParseHostPort(text);
    CHECK_FALSE(parsed.ok());
    if (!parsed.ok()) CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("IsIpLiteral knows IPv4 and IPv6 and nothing else") {
  CHECK(IsIpLiteral("127.0.0.1"));
  CHECK(IsIpLiteral("::1"));
  CHECK(IsIpLiteral("2001:db8::8:800:200c:417a"));
  CHECK(IsIpLiteral("::ffff:1.2.3.4"));
  CHECK_FALSE(IsIpLiteral(""));
  CHECK_FALSE(IsIpLiteral("localhost"));
  CHECK_FALSE(IsIpLiteral("[::1]"));
  CHECK_FALSE(IsIpLiteral("1.2.3"));
  CHECK_FALSE(IsIpLiteral("256.1.1.1"));
  CHECK_FALSE(IsIpLiteral(std::string_view("1.2.3.4\0", 8)));
}

TEST_CASE("ParseUrl splits http and https URLs") {
  struct Case {
    const char* url;
    bool tls;
    const char* host;
    uint16_t port;
    const char* target;
  };
  const Case cases[] = {
      {"http://example.com", false, "example.com", 80, "/"},
      {"https://example.com", true, "example.com", 443, "/"},
      {"http://example.com:8080/a/b?x=1&y=2", false, "example.com", 8080, "/a/b?x=1&y=2"},
      {"https://[::1]:8443/derp", true, "::1", 8443, "/derp"},
      {"http://[::1]/", false, "::1", 80, "/"},
      {"HTTPS://127.0.0.1/key?v=71", true, "127.0.0.1", 443, "/key?v=71"},
      {"http://h/p#frag", false, "h", 80, "/p"},
      {"http://h?q=1", false, "h", 80, "/?q=1"},
  };
  for (const Case& c : cases) {
    INFO(c.url);
    const auto url = ParseUrl(c.url);
    REQUIRE(url.ok());
    CHECK(url->tls == c.tls);
    CHECK(url->address.host == c.host);
    CHECK(url->address.port == c.port);
    CHECK(url->target == c.target);
  }
}

TEST_CASE("ParseUrl rejects other schemes, relative URLs and user information") {
  const char* bad[] = {"",
                       "/just/a/path",
                       "ftp://example.com/",
                       "example.com:80",
                       "http://",
                       "http://user:pw@example.com/",
                       "http://h:99999/",
                       "ws://h/"};
  for (const char* text : bad) {
    INFO(text);
    const auto url = ParseUrl(text);
    CHECK_FALSE(url.ok());
  }
}

}  // namespace
}  // namespace meshvpn::http
