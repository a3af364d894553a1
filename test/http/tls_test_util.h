// Helpers for the TLS tests: two TlsSessions wired through their memory BIOs, self-signed
// certificates, a temporary directory.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/http/self_signed.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/tls_session.h"

namespace meshvpn::http::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/meshvpn-tls-XXXXXX";
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `content` to `name` inside the directory and returns the file's path.
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string path = path_ + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    REQUIRE(out.good());
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline CertificateAndKey TestCertificate(const std::vector<std::string>& names) {
  absl::StatusOr<CertificateAndKey> cert = MakeSelfSignedCertificate(names);
  REQUIRE(cert.ok());
  return *std::move(cert);
}

inline SpkiPin PinOf(const CertificateAndKey& cert) {
  absl::StatusOr<SpkiPin> pin = SpkiPinOfCertificate(cert.cert_pem);
  REQUIRE(pin.ok());
  return *pin;
}

inline std::shared_ptr<TlsContext> ServerContext(const TlsServerOptions& options) {
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx = TlsContext::NewServer(options);
  INFO(ctx.status().ToString());
  REQUIRE(ctx.ok());
  return *ctx;
}

inline std::shared_ptr<TlsContext> ServerContext(const CertificateAndKey& cert,
                                                 std::vector<std::string> alpn = {"http/1.1"}) {
  TlsServerOptions options;
  options.pem = cert;
  options.alpn = std::move(alpn);
  return ServerContext(options);
}

inline std::shared_ptr<TlsContext> ClientContext(const TlsClientOptions& options) {
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx = TlsContext::NewClient(options);
  INFO(ctx.status().ToString());
  REQUIRE(ctx.ok());
  return *ctx;
}

// Moves `from`'s pending ciphertext into `to`. True if there was any.
inline bool Transfer(TlsSession& from, TlsSession& to) {
  const std::string_view pending = from.PendingCiphertext();
  if (pending.empty()) return false;
  const std::string copy(pending);
  from.ConsumeCiphertext(copy.size());
  to.ReceiveCiphertext(AsBytes(copy));
  return true;
}

// Reads every plaintext byte available, appending it to `got` (when not null). True if any.
inline bool Drain(TlsSession& s, std::string* got) {
  bool any = false;
  uint8_t buf[16384];
  while (const size_t n = s.ReadPlaintext(buf)) {
    if (got != nullptr) got->append(reinterpret_cast<const char*>(buf), n);
    any = true;
  }
  return any;
}

// Moves ciphertext both ways and reads plaintext on both sides until nothing moves.
inline void Pump(TlsSession& a, TlsSession& b, std::string* a_got = nullptr,
                 std::string* b_got = nullptr) {
  for (int round = 0; round < 10000; ++round) {
    bool moved = Transfer(a, b);
    moved |= Transfer(b, a);
    moved |= Drain(a, a_got);
    moved |= Drain(b, b_got);
    if (!moved && a.PendingCiphertext().empty() && b.PendingCiphertext().empty()) return;
  }
  FAIL("Pump: still moving after 10000 rounds");
}

// A server and a client session, the client started (its ClientHello pending).
struct SessionPair {
  std::unique_ptr<TlsSession> server;
  std::unique_ptr<TlsSession> client;

  void Pump(std::string* server_got = nullptr, std::string* client_got = nullptr) {
    test::Pump(*server, *client, server_got, client_got);
  }
};

inline SessionPair NewPair(std::shared_ptr<TlsContext> server_ctx,
                           std::shared_ptr<TlsContext> client_ctx, std::string_view server_name) {
  SessionPair pair;
  absl::StatusOr<std::unique_ptr<TlsSession>> server = TlsSession::NewServer(server_ctx);
  REQUIRE(server.ok());
  absl::StatusOr<std::unique_ptr<TlsSession>> client =
      TlsSession::NewClient(client_ctx, server_name);
  INFO(client.status().ToString());
  REQUIRE(client.ok());
  pair.server = *std::move(server);
  pair.client = *std::move(client);
  pair.client->Start();
  pair.server->Start();  // a no-op for servers, called to show it is harmless
  return pair;
}

// NewPair, then the handshake pumped to its end (whatever the end is).
inline SessionPair Handshake(std::shared_ptr<TlsContext> server_ctx,
                             std::shared_ptr<TlsContext> client_ctx, std::string_view server_name) {
  SessionPair pair = NewPair(std::move(server_ctx), std::move(client_ctx), server_name);
  pair.Pump();
  return pair;
}

inline std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// True if `text` holds no trace of the private key in `key_pem`: no PEM armour and no 16-character
// run of its base64 body.
inline bool HasNoKeyText(absl::string_view message, std::string_view key_pem) {
  const std::string_view text(message.data(), message.size());
  if (text.find("PRIVATE KEY") != std::string_view::npos) return false;
  std::string body;
  size_t pos = 0;
  while (pos < key_pem.size()) {
    size_t end = key_pem.find('\n', pos);
    if (end == std::string_view::npos) end = key_pem.size();
    const std::string_view line = key_pem.substr(pos, end - pos);
    if (!line.starts_with("-----")) body.append(line);
    pos = end + 1;
  }
  for (size_t i = 0; i + 16 <= body.size(); ++i) {
    if (text.find(std::string_view(body).substr(i, 16)) != std::string_view::npos) return false;
  }
  return true;
}

}  // namespace meshvpn::http::test
