// TlsSession for real: a server and a client session wired through their memory BIOs, pumping
// each one's PendingCiphertext into the other until quiet.
#include "meshvpn/http/tls_session.h"

#include <openssl/ssl.h>

#include <catch2/catch.hpp>
#include <string>

#include "tls_test_util.h"

namespace meshvpn::http {
namespace {

using test::Handshake;
using test::HasNoKeyText;
using test::PinOf;
using test::RandomBytes;
using test::SessionPair;

const CertificateAndKey& DerpCert() {
  static const CertificateAndKey cert =
      test::TestCertificate({"derp.example", "127.0.0.1", "::1", "*.wild.example"});
  return cert;
}
const CertificateAndKey& OtherCert() {
  static const CertificateAndKey cert = test::TestCertificate({"derp.example"});
  return cert;
}

std::shared_ptr<TlsContext> PinnedClient(std::vector<std::string> alpn = {"http/1.1"}) {
  TlsClientOptions options;
  options.pins = {PinOf(DerpCert())};
  options.alpn = std::move(alpn);
  return test::ClientContext(options);
}

std::shared_ptr<TlsContext> CaClient(std::string ca_pem) {
  TlsClientOptions options;
  options.ca_pem = std::move(ca_pem);
  return test::ClientContext(options);
}

void RequireEstablished(const SessionPair& p) {
  INFO("server: " << p.server->error().ToString() << "; client: " << p.client->error().ToString());
  REQUIRE(p.server->state() == TlsState::kEstablished);
  REQUIRE(p.client->state() == TlsState::kEstablished);
  CHECK(p.server->established());
  CHECK(p.client->established());
  CHECK(p.server->error().ok());
  CHECK(p.client->error().ok());
}

// Writes all of `data` through `s`, checking that it was all taken.
void WriteAll(TlsSession& s, std::string_view data) {
  REQUIRE(s.WritePlaintext(AsBytes(data)) == data.size());
}

TEST_CASE("TLS 1.3 handshake with a pinned self-signed certificate carries data both ways",
          "[tls]") {
  auto server_ctx = test::ServerContext(DerpCert(), {"derp", "http/1.1"});
  auto client_ctx = PinnedClient({"http/1.1", "derp"});
  SessionPair p = test::NewPair(server_ctx, client_ctx, "derp.example");
  CHECK(p.server->is_server());
  CHECK_FALSE(p.client->is_server());
  CHECK(p.client->state() == TlsState::kHandshaking);
  CHECK(p.client->version().empty());
  CHECK_FALSE(p.client->PendingCiphertext().empty());  // the ClientHello
  CHECK(p.server->PendingCiphertext().empty());
  // Nothing can be written before the handshake is done.
  CHECK(p.client->WritePlaintext(AsBytes("early")) == 0);
  p.Pump();
  RequireEstablished(p);

  CHECK(p.server->version() == "TLSv1.3");
  CHECK(p.client->version() == "TLSv1.3");
  // The server's preference wins among what the client offered.
  CHECK(p.server->alpn() == "derp");
  CHECK(p.client->alpn() == "derp");
  CHECK(p.server->server_name() == "derp.example");
  CHECK(p.client->server_name() == "derp.example");

  SECTION("a message each way") {
    WriteAll(*p.client, "GET / HTTP/1.1\r\n\r\n");
    WriteAll(*p.server, "HTTP/1.1 200 OK\r\n\r\n");
    std::string server_got, client_got;
    p.Pump(&server_got, &client_got);
    CHECK(server_got == "GET / HTTP/1.1\r\n\r\n");
    CHECK(client_got == "HTTP/1.1 200 OK\r\n\r\n");
  }
  SECTION("1 MiB each way in pieces, pumping between pieces") {
    const std::string up = RandomBytes(1 << 20, 1);
    const std::string down = RandomBytes(1 << 20, 2);
    std::string server_got, client_got;
    size_t up_pos = 0, down_pos = 0;
    while (up_pos < up.size() || down_pos < down.size()) {
      // Odd sizes so that pieces and records do not line up.
      const size_t up_n = std::min<size_t>(10007, up.size() - up_pos);
      const size_t down_n = std::min<size_t>(65536 + 13, down.size() - down_pos);
      if (up_n > 0) WriteAll(*p.client, std::string_view(up).substr(up_pos, up_n));
      if (down_n > 0) WriteAll(*p.server, std::string_view(down).substr(down_pos, down_n));
      up_pos += up_n;
      down_pos += down_n;
      // One step each way (not to quiet), so that reads and writes interleave.
      test::Transfer(*p.client, *p.server);
      test::Drain(*p.server, &server_got);
      test::Transfer(*p.server, *p.client);
      test::Drain(*p.client, &client_got);
    }
    p.Pump(&server_got, &client_got);
    REQUIRE(server_got.size() == up.size());
    REQUIRE(client_got.size() == down.size());
    CHECK(server_got == up);
    CHECK(client_got == down);
    RequireEstablished(p);
  }
  SECTION("ciphertext consumed a byte at a time") {
    WriteAll(*p.client, "slowly");
    std::string wire(p.client->PendingCiphertext());
    p.client->ConsumeCiphertext(wire.size());
    std::string got;
    for (char c : wire) {
      p.server->ReceiveCiphertext(AsBytes(std::string_view(&c, 1)));
      test::Drain(*p.server, &got);
    }
    CHECK(got == "slowly");
  }
}

TEST_CASE("an IP literal server name sends no SNI", "[tls]") {
  auto server_ctx = test::ServerContext(DerpCert());
  for (const char* name : {"127.0.0.1", "::1", "[::1]"}) {
    INFO(name);
    SessionPair p = Handshake(server_ctx, PinnedClient(), name);
    RequireEstablished(p);
    CHECK(p.server->server_name().empty());
    CHECK(p.client->server_name() == name);
  }
  SessionPair p = Handshake(server_ctx, PinnedClient(), "");
  RequireEstablished(p);
  CHECK(p.server->server_name().empty());
}

TEST_CASE("ALPN: none offered, none matching, and require_alpn_match", "[tls]") {
  SECTION("the client offers nothing: no ALPN, even with require_alpn_match") {
    TlsServerOptions options;
    options.pem = DerpCert();
    options.alpn = {"derp"};
    options.require_alpn_match = true;
    SessionPair p = Handshake(test::ServerContext(options), PinnedClient({}), "derp.example");
    RequireEstablished(p);
    CHECK(p.server->alpn().empty());
    CHECK(p.client->alpn().empty());
  }
  SECTION("no match, not required: established without ALPN") {
    SessionPair p =
        Handshake(test::ServerContext(DerpCert(), {"derp"}), PinnedClient({"h2"}), "derp.example");
    RequireEstablished(p);
    CHECK(p.server->alpn().empty());
    CHECK(p.client->alpn().empty());
  }
  SECTION("no match, required: no_application_protocol fails both sides") {
    TlsServerOptions options;
    options.pem = DerpCert();
    options.alpn = {"derp"};
    options.require_alpn_match = true;
    SessionPair p =
        Handshake(test::ServerContext(options), PinnedClient({"http/1.1", "h2"}), "derp.example");
    CHECK(p.server->state() == TlsState::kFailed);
    CHECK(p.client->state() == TlsState::kFailed);
    CHECK_THAT(std::string(p.server->error().message()),
               Catch::Contains("application protocol", Catch::CaseSensitive::No));
    CHECK_THAT(std::string(p.client->error().message()),
               Catch::Contains("application protocol", Catch::CaseSensitive::No));
  }
  SECTION("a server with no ALPN list ignores the offer") {
    SessionPair p =
        Handshake(test::ServerContext(DerpCert(), {}), PinnedClient({"http/1.1"}), "derp.example");
    RequireEstablished(p);
    CHECK(p.client->alpn().empty());
  }
}

TEST_CASE("TLS versions: 1.2 when allowed, refused by a TLS 1.3-only server", "[tls]") {
  auto client_ctx = PinnedClient({"http/1.1"});
  REQUIRE(SSL_CTX_set_max_proto_version(client_ctx->ssl_ctx(), TLS1_2_VERSION) == 1);
  SECTION("TLS 1.2 against a server that allows it") {
    SessionPair p = Handshake(test::ServerContext(DerpCert()), client_ctx, "derp.example");
    RequireEstablished(p);
    CHECK(p.server->version() == "TLSv1.2");
    CHECK(p.client->version() == "TLSv1.2");
    CHECK(p.server->alpn() == "http/1.1");
    CHECK(p.server->server_name() == "derp.example");
    WriteAll(*p.client, "over 1.2");
    std::string got;
    p.Pump(&got);
    CHECK(got == "over 1.2");
  }
  SECTION("a TLS 1.3-only server refuses it") {
    TlsServerOptions options;
    options.pem = DerpCert();
    options.allow_tls12 = false;
    SessionPair p = Handshake(test::ServerContext(options), client_ctx, "derp.example");
    CHECK(p.server->state() == TlsState::kFailed);
    CHECK(p.client->state() == TlsState::kFailed);
    CHECK_THAT(std::string(p.server->error().message()),
               Catch::Contains("protocol", Catch::CaseSensitive::No));
    CHECK_THAT(std::string(p.client->error().message()),
               Catch::Contains("protocol version", Catch::CaseSensitive::No));
  }
}

TEST_CASE("client verification: CA file, CA PEM, host names, pins, insecure", "[tls]") {
  auto server_ctx = test::ServerContext(DerpCert());
  auto require_verify_failure = [&](const SessionPair& p, std::string_view reason) {
    INFO("client: " << p.client->error().ToString());
    REQUIRE(p.client->state() == TlsState::kFailed);
    CHECK(absl::IsUnauthenticated(p.client->error()));
    const std::string message(p.client->error().message());
    CHECK_THAT(message, Catch::Contains("certificate verify failed"));
    CHECK_THAT(message, Catch::Contains(std::string(reason)));
    // The client's alert fails the server too.
    CHECK(p.server->state() == TlsState::kFailed);
    CHECK_FALSE(p.server->error().ok());
    CHECK(p.client->WritePlaintext(AsBytes("x")) == 0);
  };

  SECTION("the certificate as a CA file, the right host name") {
    test::TempDir dir;
    TlsClientOptions options;
    options.ca_file = dir.Write("ca.pem", DerpCert().cert_pem);
    auto client_ctx = test::ClientContext(options);
    CHECK(client_ctx->checks_hostname());
    RequireEstablished(Handshake(server_ctx, client_ctx, "derp.example"));
    RequireEstablished(Handshake(server_ctx, client_ctx, "a.wild.example"));
  }
  SECTION("the certificate as CA PEM, names and addresses") {
    auto client_ctx = CaClient(DerpCert().cert_pem);
    RequireEstablished(Handshake(server_ctx, client_ctx, "derp.example"));
    RequireEstablished(Handshake(server_ctx, client_ctx, "127.0.0.1"));
    RequireEstablished(Handshake(server_ctx, client_ctx, "::1"));
  }
  SECTION("a wrong host name fails") {
    SessionPair p = Handshake(server_ctx, CaClient(DerpCert().cert_pem), "evil.example");
    require_verify_failure(p, "hostname mismatch");
    CHECK_THAT(std::string(p.client->error().message()), Catch::Contains("evil.example"));
  }
  SECTION("a wildcard covers one label only") {
    SessionPair p = Handshake(server_ctx, CaClient(DerpCert().cert_pem), "a.b.wild.example");
    require_verify_failure(p, "hostname mismatch");
  }
  SECTION("a wrong IP address fails") {
    SessionPair p = Handshake(server_ctx, CaClient(DerpCert().cert_pem), "127.0.0.2");
    require_verify_failure(p, "IP address mismatch");
  }
  SECTION("an unknown CA fails") {
    SessionPair p = Handshake(server_ctx, CaClient(OtherCert().cert_pem), "derp.example");
    require_verify_failure(p, "self-signed");
  }
  SECTION("the system's roots do not know a self-signed certificate") {
    SessionPair p = Handshake(server_ctx, test::ClientContext(TlsClientOptions{}), "derp.example");
    require_verify_failure(p, "certificate verify failed");
  }
  SECTION("verify_hostname = false accepts any name from a trusted CA") {
    TlsClientOptions options;
    options.ca_pem = DerpCert().cert_pem;
    options.verify_hostname = false;
    auto client_ctx = test::ClientContext(options);
    CHECK_FALSE(client_ctx->checks_hostname());
    RequireEstablished(Handshake(server_ctx, client_ctx, "evil.example"));
  }
  SECTION("a pin checks the key, not the name") {
    auto client_ctx = PinnedClient();
    CHECK_FALSE(client_ctx->checks_hostname());
    RequireEstablished(Handshake(server_ctx, client_ctx, "any.name.at.all"));
  }
  SECTION("a wrong pin fails") {
    TlsClientOptions options;
    options.pins = {PinOf(OtherCert())};
    SessionPair p = Handshake(server_ctx, test::ClientContext(options), "derp.example");
    require_verify_failure(p, "pinned");
  }
  SECTION("one matching pin among several is enough") {
    TlsClientOptions options;
    options.pins = {PinOf(OtherCert()), PinOf(DerpCert())};
    RequireEstablished(Handshake(server_ctx, test::ClientContext(options), "derp.example"));
  }
  SECTION("CA and pins together: both must hold") {
    TlsClientOptions options;
    options.ca_pem = DerpCert().cert_pem;
    options.pins = {PinOf(DerpCert())};
    RequireEstablished(Handshake(server_ctx, test::ClientContext(options), "derp.example"));
    options.pins = {PinOf(OtherCert())};
    require_verify_failure(Handshake(server_ctx, test::ClientContext(options), "derp.example"),
                           "pinned");
    options.pins = {PinOf(DerpCert())};
    require_verify_failure(Handshake(server_ctx, test::ClientContext(options), "evil.example"),
                           "hostname mismatch");
  }
  SECTION("insecure_skip_verify accepts anything") {
    TlsClientOptions options;
    options.insecure_skip_verify = true;
    options.ca_pem = OtherCert().cert_pem;  // ignored
    options.pins = {PinOf(OtherCert())};    // ignored
    auto client_ctx = test::ClientContext(options);
    RequireEstablished(Handshake(server_ctx, client_ctx, "evil.example"));
    RequireEstablished(Handshake(server_ctx, client_ctx, "10.9.9.9"));
    RequireEstablished(Handshake(test::ServerContext(OtherCert()), client_ctx, ""));
  }
  SECTION("hostname verification needs a name") {
    auto s = TlsSession::NewClient(CaClient(DerpCert().cert_pem), "");
    REQUIRE_FALSE(s.ok());
    CHECK(absl::IsInvalidArgument(s.status()));
  }
}

TEST_CASE("close_notify: the peer sees kPeerClosed and reads 0", "[tls]") {
  SessionPair p = Handshake(test::ServerContext(DerpCert()), PinnedClient(), "derp.example");
  RequireEstablished(p);
  // Plaintext written before the close arrives before it.
  WriteAll(*p.client, "last words");
  p.client->Shutdown();
  CHECK(p.client->state() == TlsState::kShutdown);
  CHECK(p.client->WritePlaintext(AsBytes("too late")) == 0);
  const size_t after_first = p.client->PendingCiphertext().size();
  p.client->Shutdown();  // once only
  CHECK(p.client->PendingCiphertext().size() == after_first);

  std::string server_got;
  p.Pump(&server_got);
  CHECK(server_got == "last words");
  CHECK(p.server->state() == TlsState::kPeerClosed);
  CHECK(p.server->error().ok());
  uint8_t buf[64];
  CHECK(p.server->ReadPlaintext(buf) == 0);
  CHECK(p.server->state() == TlsState::kPeerClosed);

  SECTION("the other direction stays open until the server closes too") {
    WriteAll(*p.server, "reply after close");
    p.server->Shutdown();
    CHECK(p.server->state() == TlsState::kShutdown);
    std::string client_got;
    p.Pump(nullptr, &client_got);
    CHECK(client_got == "reply after close");
    CHECK(p.client->ReadPlaintext(buf) == 0);
    CHECK(p.client->state() == TlsState::kShutdown);
    CHECK(p.client->error().ok());
    CHECK(p.server->error().ok());
  }
  SECTION("Shutdown during the handshake sends nothing") {
    SessionPair q = test::NewPair(test::ServerContext(DerpCert()), PinnedClient(), "x");
    const size_t hello = q.client->PendingCiphertext().size();
    q.client->Shutdown();
    CHECK(q.client->state() == TlsState::kShutdown);
    CHECK(q.client->PendingCiphertext().size() == hello);
  }
}

TEST_CASE("garbage ciphertext fails the session, never crashes, never leaks the key", "[tls]") {
  auto server_ctx = test::ServerContext(DerpCert(), {"http/1.1"});
  auto client_ctx = PinnedClient();
  const std::string& key = DerpCert().key_pem;
  auto require_failed = [&](const TlsSession& s) {
    INFO(ToString(s.state()));
    REQUIRE(s.state() == TlsState::kFailed);
    REQUIRE_FALSE(s.error().ok());
    CHECK_FALSE(s.error().message().empty());
    CHECK(HasNoKeyText(s.error().message(), key));
  };

  SECTION("plain HTTP to a TLS server") {
    auto server = *TlsSession::NewServer(server_ctx);
    server->ReceiveCiphertext(AsBytes("GET / HTTP/1.1\r\nHost: derp.example\r\n\r\n"));
    require_failed(*server);
    CHECK_THAT(std::string(server->error().message()), Catch::Contains("http request"));
    // A failed session takes nothing more and gives nothing.
    server->ReceiveCiphertext(AsBytes("more"));
    uint8_t buf[16];
    CHECK(server->ReadPlaintext(buf) == 0);
    CHECK(server->WritePlaintext(AsBytes("x")) == 0);
    server->Shutdown();
    CHECK(server->state() == TlsState::kFailed);
  }
  SECTION("random bytes to a server and to a client mid-handshake") {
    for (uint32_t seed = 0; seed < 300; ++seed) {
      INFO("seed " << seed);
      const std::string junk = RandomBytes(1 + seed * 7 % 3000, seed);
      auto server = *TlsSession::NewServer(server_ctx);
      server->ReceiveCiphertext(AsBytes(junk));
      if (server->state() == TlsState::kFailed) {
        require_failed(*server);
      } else {
        CHECK(server->state() == TlsState::kHandshaking);  // a plausible header: waiting
      }
      auto client = *TlsSession::NewClient(client_ctx, "derp.example");
      client->Start();
      client->ReceiveCiphertext(AsBytes(junk));
      if (client->state() == TlsState::kFailed) {
        require_failed(*client);
      } else {
        CHECK(client->state() == TlsState::kHandshaking);
      }
    }
  }

  SessionPair p = Handshake(server_ctx, client_ctx, "derp.example");
  RequireEstablished(p);
  WriteAll(*p.client, "first record");
  const std::string first(p.client->PendingCiphertext());
  p.client->ConsumeCiphertext(first.size());
  WriteAll(*p.client, "second record");
  const std::string second(p.client->PendingCiphertext());
  p.client->ConsumeCiphertext(second.size());
  uint8_t buf[256];

  SECTION("a record with one bit flipped") {
    std::string bad = first;
    bad[bad.size() / 2] ^= 0x04;
    p.server->ReceiveCiphertext(AsBytes(bad));
    CHECK(p.server->ReadPlaintext(buf) == 0);
    require_failed(*p.server);
    CHECK_THAT(std::string(p.server->error().message()), Catch::Contains("bad record mac"));
    // Its alert fails the client as well.
    p.Pump();
    require_failed(*p.client);
  }
  SECTION("a truncated record waits; what follows is read as its rest and fails") {
    p.server->ReceiveCiphertext(AsBytes(std::string_view(first).substr(0, first.size() - 3)));
    CHECK(p.server->ReadPlaintext(buf) == 0);
    CHECK(p.server->state() == TlsState::kEstablished);  // only EOF could tell
    p.server->ReceiveCiphertext(AsBytes(second));
    CHECK(p.server->ReadPlaintext(buf) == 0);
    require_failed(*p.server);
  }
  SECTION("a well-framed record of random bytes") {
    std::string bad = "\x17\x03\x03\x00\x40" + RandomBytes(64, 9);
    p.server->ReceiveCiphertext(AsBytes(bad));
    CHECK(p.server->ReadPlaintext(buf) == 0);
    require_failed(*p.server);
  }
  SECTION("random bytes after the handshake") {
    for (uint32_t seed = 0; seed < 100; ++seed) {
      INFO("seed " << seed);
      SessionPair q = Handshake(server_ctx, client_ctx, "derp.example");
      q.server->ReceiveCiphertext(AsBytes(RandomBytes(1 + seed * 13 % 2000, 1000 + seed)));
      CHECK(q.server->ReadPlaintext(buf) == 0);
      if (q.server->state() == TlsState::kFailed) {
        require_failed(*q.server);
      } else {
        CHECK(q.server->state() == TlsState::kEstablished);
      }
    }
  }
  SECTION("the intact records still read fine") {
    p.server->ReceiveCiphertext(AsBytes(first + second));
    std::string got;
    test::Drain(*p.server, &got);
    CHECK(got == "first recordsecond record");
  }
}

TEST_CASE("TlsState names", "[tls]") {
  CHECK(ToString(TlsState::kHandshaking) == "handshaking");
  CHECK(ToString(TlsState::kEstablished) == "established");
  CHECK(ToString(TlsState::kPeerClosed) == "peer-closed");
  CHECK(ToString(TlsState::kShutdown) == "shutdown");
  CHECK(ToString(TlsState::kFailed) == "failed");
}

}  // namespace
}  // namespace meshvpn::http
