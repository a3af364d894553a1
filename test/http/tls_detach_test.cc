// A server TlsSession that detaches from OpenSSL after the TLS 1.3 handshake, against a plain
// OpenSSL client (memory BIOs, so the test can pick cipher suites and send KeyUpdates): the
// same bytes as OpenSSL's own record layer, both ways, in every cipher suite.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>
#include <string>

#include "meshvpn/http/tls_session.h"
#include "tls_test_util.h"

namespace meshvpn::http {
namespace {

const CertificateAndKey& Cert() {
  static const CertificateAndKey cert = test::TestCertificate({"derp.example"});
  return cert;
}

std::shared_ptr<TlsContext> DetachingServer(bool detach = true) {
  TlsServerOptions options;
  options.pem = Cert();
  options.alpn = {"derp", "http/1.1"};
  options.detach_after_handshake = detach;
  return test::ServerContext(options);
}

// An OpenSSL client over memory BIOs, no verification (the server's code is under test).
class RawClient {
 public:
  explicit RawClient(const char* suites, int max_version = TLS1_3_VERSION) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    REQUIRE(ctx_ != nullptr);
    SSL_CTX_set_max_proto_version(ctx_, max_version);
    if (suites != nullptr) REQUIRE(SSL_CTX_set_ciphersuites(ctx_, suites) == 1);
    static const unsigned char alpn[] = {4, 'd', 'e', 'r', 'p'};
    REQUIRE(SSL_CTX_set_alpn_protos(ctx_, alpn, sizeof alpn) == 0);
    ssl_ = SSL_new(ctx_);
    REQUIRE(ssl_ != nullptr);
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);
    BIO_set_mem_eof_return(wbio_, -1);
    SSL_set_bio(ssl_, rbio_, wbio_);
    SSL_set_tlsext_host_name(ssl_, "derp.example");
    SSL_set_connect_state(ssl_);
  }
  ~RawClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  SSL* ssl() { return ssl_; }
  bool Handshake() { return SSL_do_handshake(ssl_) == 1; }

  // The client's ciphertext into the server, the server's into the client; true if any moved.
  bool Exchange(TlsSession& server) {
    bool moved = false;
    std::string out(BIO_ctrl_pending(wbio_), '\0');
    if (!out.empty()) {
      REQUIRE(BIO_read(wbio_, out.data(), static_cast<int>(out.size())) ==
              static_cast<int>(out.size()));
      server.ReceiveCiphertext(AsBytes(out));
      moved = true;
    }
    const std::string in(server.PendingCiphertext());
    if (!in.empty()) {
      server.ConsumeCiphertext(in.size());
      REQUIRE(BIO_write(rbio_, in.data(), static_cast<int>(in.size())) ==
              static_cast<int>(in.size()));
      moved = true;
    }
    return moved;
  }
  // Handshakes, exchanges and reads on both sides until nothing moves.
  void Pump(TlsSession& server, std::string* server_got, std::string* client_got) {
    for (int round = 0; round < 10000; ++round) {
      if (SSL_is_init_finished(ssl_) == 0) Handshake();
      bool moved = Exchange(server);
      moved |= test::Drain(server, server_got);
      moved |= ReadAll(client_got);
      if (!moved) return;
    }
    FAIL("still moving after 10000 rounds");
  }
  void Write(std::string_view data) {
    size_t written = 0;
    REQUIRE(SSL_write_ex(ssl_, data.data(), data.size(), &written) == 1);
    REQUIRE(written == data.size());
  }
  bool ReadAll(std::string* got) {
    bool any = false;
    char buf[16384];
    size_t n = 0;
    while (SSL_read_ex(ssl_, buf, sizeof buf, &n) == 1) {
      if (got != nullptr) got->append(buf, n);
      any = true;
    }
    ERR_clear_error();
    return any;
  }
  int LastReadError() {
    char buf[1];
    size_t n = 0;
    const int r = SSL_read_ex(ssl_, buf, sizeof buf, &n);
    const int e = SSL_get_error(ssl_, r);
    ERR_clear_error();
    return e;
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
};

std::unique_ptr<TlsSession> NewServer(std::shared_ptr<TlsContext> ctx) {
  absl::StatusOr<std::unique_ptr<TlsSession>> s = TlsSession::NewServer(std::move(ctx));
  REQUIRE(s.ok());
  return *std::move(s);
}

TEST_CASE("detached server: every TLS 1.3 AEAD suite, data both ways against OpenSSL",
          "[tls][detach]") {
  const char* suite =
      GENERATE("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
  INFO(suite);
  auto server = NewServer(DetachingServer());
  RawClient client(suite);
  client.Pump(*server, nullptr, nullptr);
  INFO(server->error().ToString());
  REQUIRE(server->established());
  REQUIRE(server->detached());
  CHECK(server->version() == "TLSv1.3");
  CHECK(server->alpn() == "derp");
  CHECK(server->server_name() == "derp.example");
  CHECK(std::string(SSL_CIPHER_get_name(SSL_get_current_cipher(client.ssl()))) == suite);

  const std::string up = test::RandomBytes((1 << 20) + 3, 7);
  const std::string down = test::RandomBytes((1 << 20) + 5, 8);
  std::string server_got, client_got;
  for (size_t at = 0; at < up.size() || at < down.size(); at += 40009) {
    if (at < up.size()) client.Write(std::string_view(up).substr(at, 40009));
    if (at < down.size()) {
      const std::string_view piece = std::string_view(down).substr(at, 40009);
      REQUIRE(server->WritePlaintext(AsBytes(piece)) == piece.size());
    }
    client.Exchange(*server);
    test::Drain(*server, &server_got);
    client.ReadAll(&client_got);
  }
  client.Pump(*server, &server_got, &client_got);
  REQUIRE(server_got.size() == up.size());
  REQUIRE(client_got.size() == down.size());
  CHECK(server_got == up);
  CHECK(client_got == down);
  CHECK(server->established());

  SECTION("an empty write sends nothing; a one-byte write one record") {
    CHECK(server->WritePlaintext(ByteSpan()) == 0);
    CHECK(server->PendingCiphertext().empty());
    REQUIRE(server->WritePlaintext(AsBytes("x")) == 1);
    CHECK(server->PendingCiphertext().size() == 5 + 1 + 1 + 16);
    std::string got;
    client.Pump(*server, nullptr, &got);
    CHECK(got == "x");
  }
  SECTION("the client's records fed to the server one byte at a time") {
    client.Write("slowly, byte by byte");
    BIO* w = SSL_get_wbio(client.ssl());
    std::string wire(BIO_ctrl_pending(w), '\0');
    REQUIRE(BIO_read(w, wire.data(), static_cast<int>(wire.size())) ==
            static_cast<int>(wire.size()));
    std::string got;
    for (char c : wire) {
      server->ReceiveCiphertext(AsBytes(std::string_view(&c, 1)));
      test::Drain(*server, &got);
    }
    CHECK(got == "slowly, byte by byte");
  }
}

TEST_CASE("detached server: the request sent with the client's Finished is not lost",
          "[tls][detach]") {
  auto server = NewServer(DetachingServer());
  RawClient client(nullptr);
  // ClientHello -> server flight -> client Finished; the client writes before the server has
  // seen its Finished, so Finished and the first request arrive in one read.
  client.Handshake();
  client.Exchange(*server);
  REQUIRE(client.Handshake());
  client.Write("GET /derp HTTP/1.1\r\n\r\n");
  std::string server_got;
  client.Pump(*server, &server_got, nullptr);
  REQUIRE(server->detached());
  CHECK(server_got == "GET /derp HTTP/1.1\r\n\r\n");
}

TEST_CASE("detached server: KeyUpdate from the client, asked and not asked", "[tls][detach]") {
  auto server = NewServer(DetachingServer());
  RawClient client(nullptr);
  client.Pump(*server, nullptr, nullptr);
  REQUIRE(server->detached());
  for (int i = 0; i < 3; ++i) {
    const int kind = i == 1 ? SSL_KEY_UPDATE_NOT_REQUESTED : SSL_KEY_UPDATE_REQUESTED;
    REQUIRE(SSL_key_update(client.ssl(), kind) == 1);
    const std::string up = "after update " + std::to_string(i);
    const std::string down = "reply " + std::to_string(i);
    client.Write(up);  // sends the KeyUpdate first, then the data under the new key
    std::string server_got, client_got;
    client.Pump(*server, &server_got, nullptr);
    CHECK(server_got == up);
    REQUIRE(server->WritePlaintext(AsBytes(down)) == down.size());
    client.Pump(*server, nullptr, &client_got);
    INFO(server->error().ToString());
    CHECK(client_got == down);
    CHECK(server->established());
  }
}

TEST_CASE("detached server: close_notify both ways", "[tls][detach]") {
  auto server = NewServer(DetachingServer());
  RawClient client(nullptr);
  client.Pump(*server, nullptr, nullptr);
  REQUIRE(server->detached());

  SECTION("client closes after data: the server reads the data, then kPeerClosed") {
    client.Write("last words");
    REQUIRE(SSL_shutdown(client.ssl()) == 0);
    std::string got;
    client.Pump(*server, &got, nullptr);
    CHECK(got == "last words");
    CHECK(server->state() == TlsState::kPeerClosed);
    // The server may still answer before its own close.
    REQUIRE(server->WritePlaintext(AsBytes("bye")) == 3);
    server->Shutdown();
    CHECK(server->state() == TlsState::kShutdown);
    std::string client_got;
    client.Pump(*server, nullptr, &client_got);
    CHECK(client_got == "bye");
    CHECK(client.LastReadError() == SSL_ERROR_ZERO_RETURN);
  }
  SECTION("server closes: the client sees close_notify") {
    server->Shutdown();
    CHECK(server->state() == TlsState::kShutdown);
    CHECK(server->WritePlaintext(AsBytes("too late")) == 0);
    client.Exchange(*server);
    CHECK(client.LastReadError() == SSL_ERROR_ZERO_RETURN);
  }
}

TEST_CASE("detached server: bad records fail the session with a reason", "[tls][detach]") {
  auto server = NewServer(DetachingServer());
  RawClient client(nullptr);
  client.Pump(*server, nullptr, nullptr);
  REQUIRE(server->detached());
  std::string wire;
  SECTION("a flipped ciphertext byte") {
    client.Write("tampered");
    BIO* w = SSL_get_wbio(client.ssl());
    wire.resize(BIO_ctrl_pending(w));
    REQUIRE(BIO_read(w, wire.data(), static_cast<int>(wire.size())) > 0);
    wire[7] ^= 1;
  }
  SECTION("a plaintext handshake record") { wire = std::string("\x16\x03\x03\x00\x01\x01", 6); }
  SECTION("a record longer than 2^14 + 256") { wire = std::string("\x17\x03\x03\x41\x01", 5); }
  SECTION("a record too short for its tag") {
    wire = std::string("\x17\x03\x03\x00\x03\x01\x02\x03", 8);
  }
  server->ReceiveCiphertext(AsBytes(wire));
  std::string got;
  test::Drain(*server, &got);
  CHECK(got.empty());
  CHECK(server->state() == TlsState::kFailed);
  CHECK_FALSE(server->error().ok());
  INFO(server->error().ToString());
  CHECK(server->error().message().find("TLS record") != absl::string_view::npos);
  // Dead for good: nothing more is taken or produced.
  CHECK(server->WritePlaintext(AsBytes("x")) == 0);
}

TEST_CASE("detaching context: TLS 1.2 and CCM clients stay on OpenSSL and still work",
          "[tls][detach]") {
  std::unique_ptr<RawClient> client;
  SECTION("TLS 1.2") { client = std::make_unique<RawClient>(nullptr, TLS1_2_VERSION); }
  SECTION("TLS_AES_128_CCM_SHA256") {
    client = std::make_unique<RawClient>("TLS_AES_128_CCM_SHA256");
  }
  TlsServerOptions options;
  options.pem = Cert();
  options.alpn = {"derp"};
  options.detach_after_handshake = true;
  auto ctx = test::ServerContext(options);
  // CCM is not in OpenSSL's default server list; allow it for this context.
  REQUIRE(SSL_CTX_set_ciphersuites(ctx->ssl_ctx(),
                                   "TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256") == 1);
  auto server = NewServer(ctx);
  std::string server_got, client_got;
  client->Pump(*server, nullptr, nullptr);
  INFO(server->error().ToString());
  REQUIRE(server->established());
  CHECK_FALSE(server->detached());
  client->Write("ping");
  REQUIRE(server->WritePlaintext(AsBytes("pong")) == 4);
  client->Pump(*server, &server_got, &client_got);
  CHECK(server_got == "ping");
  CHECK(client_got == "pong");
}

TEST_CASE("a context without detach keeps the SSL", "[tls][detach]") {
  auto server = NewServer(DetachingServer(/*detach=*/false));
  RawClient client(nullptr);
  client.Pump(*server, nullptr, nullptr);
  REQUIRE(server->established());
  CHECK_FALSE(server->detached());
}

}  // namespace
}  // namespace meshvpn::http
