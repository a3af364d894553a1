// Fuzzes the server's TLS record path: a ConnectionStack of a server TlsSession (a self-signed
// certificate context made once) over a ServerConnection. Two modes, by the first input byte:
//   even: the rest is ciphertext from a peer that never completes a handshake, delivered in
//         pieces (size from the first byte). The session is only ever kHandshaking or kFailed,
//         its pending ciphertext stays bounded (one server flight), the stack stops reading once
//         it failed, and after EOF (and the header timer) it wants to close.
//   odd:  an in-process client first completes a real handshake; the rest is a script of
//         records: [op][length][bytes]: plaintext the client encrypts (HTTP requests to a
//         Router), raw bytes injected into the ciphertext stream (corrupt, truncated, forged
//         records), the client reading what the server sent, clock steps, close_notify, EOF.
//         The session never goes back to kHandshaking, pending ciphertext stays bounded, and
//         after EOF the stack wants to close. Bit 1 set: the server detaches from OpenSSL after
//         the handshake, so the records go through our own TLS 1.3 record layer.
// No crash and no leak in either mode.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "meshvpn/base/clock.h"
#include "meshvpn/http/connection_stack.h"
#include "meshvpn/http/router.h"
#include "meshvpn/http/self_signed.h"
#include "meshvpn/http/server_connection.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/tls_session.h"

namespace {

using meshvpn::AsBytes;
using meshvpn::ByteSpan;
using meshvpn::FakeClock;
using namespace meshvpn::http;  // NOLINT: the fuzzer drives most of the library's types

void Check(bool condition) {
  if (!condition) std::abort();
}

struct Contexts {
  std::shared_ptr<const TlsContext> server;
  std::shared_ptr<const TlsContext> detaching_server;  // detach_after_handshake
  std::shared_ptr<const TlsContext> client;
};

// Made once per process: certificate generation and SSL_CTX setup are not what is fuzzed.
const Contexts& GetContexts() {
  static const Contexts* contexts = [] {
    auto cert = MakeSelfSignedCertificate({"localhost", "127.0.0.1"});
    Check(cert.ok());
    TlsServerOptions server_options;
    server_options.pem = *cert;
    auto server = TlsContext::NewServer(server_options);
    Check(server.ok());
    server_options.detach_after_handshake = true;
    auto detaching = TlsContext::NewServer(server_options);
    Check(detaching.ok());
    TlsClientOptions client_options;
    client_options.insecure_skip_verify = true;
    client_options.alpn = {"http/1.1"};
    auto client = TlsContext::NewClient(client_options);
    Check(client.ok());
    return new Contexts{*std::move(server), *std::move(detaching), *std::move(client)};
  }();
  return *contexts;
}

Router& GetRouter() {
  static Router* router = [] {
    auto* r = new Router;
    r->Exact("GET", "/", [](Request&, ResponseWriter w) {
      w.Send(Response::Text(kStatusOk, "Hello, world\n"));
    });
    r->Prefix("POST", "/api/", [](Request& req, ResponseWriter w) {
      w.Send(Response::Text(kStatusOk, std::string(req.body.size() % 4096, 'r')));
    });
    r->Exact("GET", "/stream", [](Request&, ResponseWriter w) {
      if (w.StartStream(kStatusOk, {})) {
        w.Write("one");
        w.End();
      }
    });
    return r;
  }();
  return *router;
}

// Whole responses here are small; the stack encrypts while under kMaxPendingCiphertext, and one
// encryption takes all of the core's output (bounded by max_buffered_output plus one response).
constexpr size_t kMaxPendingWire =
    ConnectionStack::kMaxPendingCiphertext + kDefaultMaxBufferedOutput + 64 * 1024;
// A server's first flight (ServerHello .. Finished with one small certificate), with room.
constexpr size_t kMaxFlight = 16 * 1024;

struct Server {
  explicit Server(bool detaching = false) {
    auto session =
        TlsSession::NewServer(detaching ? GetContexts().detaching_server : GetContexts().server);
    Check(session.ok());
    auto core = std::make_unique<ServerConnection>(&clock, &GetRouter(), ServerLimits{}, &stats);
    conn = core.get();
    stack = std::make_unique<ConnectionStack>(std::move(core), *std::move(session));
    stack->Start();
  }
  // Everything the stack wants to send, handed to `sink` (or dropped).
  template <typename Sink>
  void Flush(Sink&& sink) {
    for (int i = 0; i < 64; ++i) {
      const std::string_view wire = stack->PendingWire();
      if (wire.empty()) return;
      Check(wire.size() <= kMaxPendingWire);
      sink(wire);
      stack->ConsumeWire(wire.size());
    }
  }
  // EOF, the timers, and a peer that reads: the stack must end up wanting to close.
  template <typename Sink>
  void Finish(Sink&& sink) {
    stack->ReceiveWireEof();
    for (int round = 0; round < 16 && !stack->WantsClose(); ++round) {
      Flush(sink);
      if (stack->WantsClose()) break;
      clock.Advance(std::chrono::seconds(61));
      stack->HandleExpiry(clock.Now());
    }
    Flush(sink);
    Check(stack->WantsClose());
  }

  FakeClock clock;
  ServerStats stats;
  ServerConnection* conn = nullptr;
  std::unique_ptr<ConnectionStack> stack;
};

// Mode 0: ciphertext from a peer that cannot know the handshake keys.
void FuzzHandshake(uint8_t split, const uint8_t* data, size_t size, bool read_output) {
  Server server;
  TlsSession* tls = server.stack->tls();
  const size_t piece = split == 0 ? size : static_cast<size_t>(split) * split;
  size_t pos = 0;
  while (pos < size) {
    const size_t n = std::min(piece, size - pos);
    if (!server.stack->WantsRead()) break;  // a transport stops reading
    server.stack->ReceiveWire(ByteSpan(data + pos, n));
    pos += n;
    const TlsState state = tls->state();
    Check(state == TlsState::kHandshaking || state == TlsState::kFailed);
    Check(tls->PendingCiphertext().size() <= kMaxFlight);
    if (state == TlsState::kFailed) {
      Check(!server.stack->WantsRead());
      Check(!tls->error().ok());
    }
    if (read_output) server.Flush([](std::string_view) {});
  }
  Check(server.stats.requests == 0);  // nothing decrypted, nothing dispatched
  server.Finish([](std::string_view) {});
}

// Mode 1: a real client, then a script of plaintext, forged records and events.
void FuzzEstablished(const uint8_t* data, size_t size, bool detaching) {
  Server server(detaching);
  auto made = TlsSession::NewClient(GetContexts().client, "localhost");
  Check(made.ok());
  std::unique_ptr<TlsSession> client = *std::move(made);
  client->Start();
  auto to_client = [&](std::string_view wire) { client->ReceiveCiphertext(AsBytes(wire)); };
  auto to_server = [&] {
    const std::string_view wire = client->PendingCiphertext();
    if (wire.empty() || !server.stack->WantsRead()) return;
    const std::string copy(wire);
    client->ConsumeCiphertext(copy.size());
    server.stack->ReceiveWire(AsBytes(copy));
  };
  for (int i = 0; i < 16 && !(client->established() && server.stack->tls()->established()); ++i) {
    to_server();
    server.Flush(to_client);
  }
  Check(client->established());
  Check(server.stack->tls()->established());
  Check(server.stack->tls()->detached() == detaching);  // TLS 1.3, AES-128-GCM

  uint8_t plaintext[16 * 1024];
  auto client_reads = [&] {
    server.Flush(to_client);
    while (client->ReadPlaintext(plaintext) > 0) {
    }
    to_server();  // KeyUpdate replies and the like
  };

  size_t pos = 0;
  bool eof = false;
  while (pos + 2 <= size && !eof) {
    const uint8_t op = data[pos];
    const size_t len = std::min<size_t>(data[pos + 1] * (op & 0x80 ? 64 : 1), size - pos - 2);
    const ByteSpan bytes(data + pos + 2, len);
    pos += 2 + len;
    switch (op & 7) {
      case 0:
      case 1:  // the client sends plaintext (HTTP), encrypted
        client->WritePlaintext(bytes);
        to_server();
        break;
      case 2:  // raw bytes spliced into the ciphertext stream
        to_server();
        if (server.stack->WantsRead()) server.stack->ReceiveWire(bytes);
        break;
      case 3:
        client_reads();
        break;
      case 4:  // time passes
        server.clock.Advance(std::chrono::milliseconds(250) * (1 + len));
        server.stack->HandleExpiry(server.clock.Now());
        break;
      case 5:  // close_notify from the client
        client->Shutdown();
        to_server();
        break;
      case 6:
        eof = true;
        break;
      case 7:  // a peer that reads some of the server's output, not all
        if (const std::string_view wire = server.stack->PendingWire(); !wire.empty()) {
          const size_t n = std::min(wire.size(), len + 1);
          client->ReceiveCiphertext(AsBytes(wire.substr(0, n)));
          server.stack->ConsumeWire(n);
        }
        break;
    }
    const TlsState state = server.stack->tls()->state();
    Check(state != TlsState::kHandshaking);
    Check(server.stack->PendingWire().size() <= kMaxPendingWire);
    Check(server.conn->buffered_input() <= kDefaultMaxBufferedInput + 64 * 1024);
    Check(server.stats.responses <= server.stats.requests);
    if (state == TlsState::kFailed) Check(!server.stack->WantsRead());
  }
  server.Finish(to_client);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  GetContexts();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  if ((mode & 1) == 0) {
    FuzzHandshake(static_cast<uint8_t>(mode >> 2), data + 1, size - 1, (mode & 2) != 0);
  } else {
    FuzzEstablished(data + 1, size - 1, (mode & 2) != 0);
  }
  return 0;
}
