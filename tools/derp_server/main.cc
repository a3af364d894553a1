// derp_server: a DERP relay (Tailscale's protocol version 2) over HTTPS, with a STUN server beside
// it. With no flags it runs on loopback with a self-signed certificate, for labs.
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/host_port.h"
#include "common/stderr_log_sink.h"
#include "common/tool_init.h"
#include "common/tool_metrics.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/derp/keys.h"
#include "meshvpn/derp/server_metrics.h"
#include "meshvpn/derp/uv_mesh.h"
#include "meshvpn/derp/uv_server.h"
#include "meshvpn/http/self_signed.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/uv_server.h"
#include "meshvpn/stun/server_metrics.h"
#include "meshvpn/stun/uv_server.h"
#include "relay_printer.h"

ABSL_FLAG(std::string, addr, "127.0.0.1:3340",
          "HTTPS address to listen on, ADDR:PORT; \":443\" is every address on port 443");
ABSL_FLAG(std::string, certfile, "", "TLS certificate chain (PEM); empty: a self-signed one");
ABSL_FLAG(std::string, keyfile, "", "TLS private key of --certfile (PEM)");
ABSL_FLAG(std::string, hostname, "localhost",
          "the server's name: the self-signed certificate is made for it (and for the --addr IP)");
ABSL_FLAG(std::string, config, "",
          "file holding the server's DERP private key, derper's JSON {\"PrivateKey\": "
          "\"privkey:...\"}; created (mode 0600) if missing. Default: "
          "/var/lib/meshvpn/derp_server.key as root, else ~/.local/state/meshvpn/derp_server.key");
ABSL_FLAG(int32_t, stun_port, 3478, "UDP port of the STUN server on the --addr IP; 0: no STUN");
ABSL_FLAG(std::string, metrics_listen, "", meshvpn::tools::kMetricsListenHelp);
ABSL_FLAG(std::string, mesh_key_file, "",
          "file with the region's mesh key (64 hex digits, as derper's --meshpsk-file): servers "
          "that share it share their clients");
ABSL_FLAG(std::vector<std::string>, mesh_with, {},
          "the other servers of the region, HOST[:PORT] (default port 443), comma-separated; "
          "each is connected to with the mesh key (this server's own name is skipped)");
ABSL_FLAG(std::string, mesh_ca_file, "",
          "certificates (PEM) the mesh peers' TLS certificates are checked against; default: "
          "--certfile (a region sharing one certificate)");
ABSL_FLAG(bool, mesh_insecure, false,
          "do not check the mesh peers' certificates (labs only: a man in the middle would learn "
          "the mesh key)");
ABSL_FLAG(int32_t, max_clients, 100000, "connections accepted at once (more are closed)");
ABSL_FLAG(bool, verbose, false, "print every relayed packet (normally the first 3 of each pair)");
ABSL_FLAG(bool, quiet, false, "print only the start-up lines and the statistics (benchmarks)");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage =
    R"(relay packets between clients that cannot reach each other directly.

DERP (Tailscale's "Designated Encrypted Relay for Packets") runs over HTTPS, so it
works from almost any network. Each client connects with "GET /derp" and "Upgrade:
DERP", proves it holds its Curve25519 key (a NaCl box), and then sends packets to
other clients by their public key; the server forwards them, still end-to-end
encrypted (WireGuard), and tells a client when a peer it talked to has gone.

Examples:
  derp_server                        loopback, port 3340, self-signed certificate
  derp_server -addr :443 -certfile cert.pem -keyfile key.pem --hostname derp.example.com

Clients: derp_client --server https://127.0.0.1:3340 --insecure (or --pin with the
pin printed at start-up). A STUN server answers on the same IP, UDP port 3478.
Ctrl-C or SIGTERM tells the clients to come back soon (a Restarting frame), closes,
and prints the statistics.

Flags:)";

struct App {
  UvSignal sigint;
  UvSignal sigterm;
  uv_loop_t* loop = nullptr;
  derp::UvServer* derp = nullptr;
  bool stopping = false;
  static void OnSignal(uv_signal_t* handle, int) {
    auto* app = static_cast<App*>(handle->data);
    if (app == nullptr || app->stopping) return;
    app->stopping = true;
    // Clients reconnect in about a second and keep trying for a minute (derp.go Restarting).
    app->derp->core().AnnounceRestart(std::chrono::milliseconds(1000),
                                      std::chrono::milliseconds(60000));
    uv_stop(app->loop);
  }
};

std::string DefaultKeyPath() {
  if (::geteuid() == 0) return "/var/lib/meshvpn/derp_server.key";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/state/meshvpn/derp_server.key";
}

void MakeParentDirs(const std::string& path) {
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] != '/') continue;
    ::mkdir(path.substr(0, i).c_str(), 0700);  // existing directories are left as they are
  }
}

void RaiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int Main(int argc, char** argv) {
  InitTool(argc, argv, kUsage);
  StderrLogSink sink;
  RaiseFileLimit();
  // A write to a connection the client has just reset would kill the server (libuv writes with
  // write(2), not send(MSG_NOSIGNAL)); the write fails with EPIPE instead and the link closes.
  std::signal(SIGPIPE, SIG_IGN);
  const std::string addr = absl::GetFlag(FLAGS_addr);
  const std::string hostname = absl::GetFlag(FLAGS_hostname);

  std::string key_path = absl::GetFlag(FLAGS_config);
  if (key_path.empty()) key_path = DefaultKeyPath();
  MakeParentDirs(key_path);
  bool created = false;
  auto private_key = derp::ServerKeyFile::LoadOrCreate(key_path, &created);
  if (!private_key.ok()) {
    std::fprintf(stderr, "derp_server: --config: %s\n", private_key.status().ToString().c_str());
    return 2;
  }

  derp::MeshKey mesh_key;
  if (const std::string file = absl::GetFlag(FLAGS_mesh_key_file); !file.empty()) {
    auto loaded = derp::MeshKey::ReadFile(file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "derp_server: --mesh-key-file: %s\n",
                   loaded.status().ToString().c_str());
      return 2;
    }
    mesh_key = *std::move(loaded);
  }
  const std::vector<std::string> mesh_with = absl::GetFlag(FLAGS_mesh_with);
  if (!mesh_with.empty() && mesh_key.IsZero()) {
    std::fprintf(stderr, "derp_server: --mesh-with needs --mesh-key-file\n");
    return 2;
  }

  http::TlsServerOptions tls;
  tls.alpn = {"http/1.1"};
  // DERP connections live for hours and clients rarely resume: no tickets to make per handshake,
  // and once TLS 1.3 is up the SSL object is freed for our own record layer (about 11 KiB less
  // per idle client; docs/http.md).
  tls.session_tickets = 0;
  tls.detach_after_handshake = true;
  std::string tls_line;
  if (const std::string cert = absl::GetFlag(FLAGS_certfile); !cert.empty()) {
    tls.cert_file = cert;
    tls.key_file = absl::GetFlag(FLAGS_keyfile);
    if (tls.key_file.empty()) {
      std::fprintf(stderr, "derp_server: --certfile needs --keyfile\n");
      return 2;
    }
    tls_line = "enabled (" + cert + ")";
  } else {
    std::vector<std::string> names = {hostname};
    if (const std::string ip = HostOf(addr); !ip.empty() && ip != hostname) names.push_back(ip);
    auto self_signed = http::MakeSelfSignedCertificate(names);
    if (!self_signed.ok()) {
      std::fprintf(stderr, "derp_server: %s\n", self_signed.status().ToString().c_str());
      return 1;
    }
    auto pin = http::SpkiPinOfCertificate(self_signed->cert_pem);
    tls.pem = *std::move(self_signed);
    tls_line = "enabled (self-signed for " + hostname + ", pin " +
               (pin.ok() ? http::FormatSpkiPin(*pin) : std::string("?")) + ")";
  }
  auto tls_context = http::TlsContext::NewServer(tls);
  if (!tls_context.ok()) {
    std::fprintf(stderr, "derp_server: TLS: %s\n", tls_context.status().ToString().c_str());
    return 2;
  }

  UvLoop loop;
  int rc = 0;
  {
    derp::UvServerOptions derp_options;
    derp_options.core.private_key = *private_key;
    derp_options.core.mesh_key = mesh_key;
    auto derp_server = derp::UvServer::Create(loop.get(), std::move(derp_options));
    if (!derp_server.ok()) {
      std::fprintf(stderr, "derp_server: %s\n", derp_server.status().ToString().c_str());
      return 1;
    }
    const bool quiet = absl::GetFlag(FLAGS_quiet);
    RelayPrinter printer(quiet                          ? RelayPrinter::Verbosity::kQuiet
                         : absl::GetFlag(FLAGS_verbose) ? RelayPrinter::Verbosity::kVerbose
                                                        : RelayPrinter::Verbosity::kNormal,
                         3);
    (*derp_server)->core().set_observer(&printer);

    http::UvServerOptions http_options;
    http_options.listen = addr;
    http_options.tls = *tls_context;
    http_options.max_connections = static_cast<size_t>(absl::GetFlag(FLAGS_max_clients));
    http_options.log = &sink;
    auto https = http::UvServer::Listen(loop.get(), http_options, derp_server->get());
    if (!https.ok()) {
      std::fprintf(stderr, "derp_server: --addr %s: %s\n", addr.c_str(),
                   https.status().ToString().c_str());
      return 1;
    }

    std::unique_ptr<stun::UvStunServer> stun_server;
    std::unique_ptr<stun::ServerMetrics> stun_metrics;
    if (const int stun_port = absl::GetFlag(FLAGS_stun_port); stun_port > 0) {
      std::string ip = HostOf(addr);
      const std::string text = ip.empty() ? ":" + std::to_string(stun_port)
                               : ip.find(':') != std::string::npos
                                   ? "[" + ip + "]:" + std::to_string(stun_port)
                                   : ip + ":" + std::to_string(stun_port);
      auto endpoint = udp::Endpoint::Parse(text);
      stun::ServerConfig stun_config;
      if (endpoint.ok()) stun_config.primary = *endpoint;
      stun_config.software = "meshvpn derp_server";
      auto stun_core = endpoint.ok() ? stun::Server::Create(stun_config)
                                     : absl::StatusOr<stun::Server>(endpoint.status());
      if (!stun_core.ok()) {
        std::fprintf(stderr, "derp_server: STUN: %s\n", stun_core.status().ToString().c_str());
        return 2;
      }
      auto started =
          stun::UvStunServer::Start(loop.get(), std::move(*stun_core), Logger(&sink, "stun"));
      if (!started.ok()) {
        std::fprintf(stderr, "derp_server: STUN on %s: %s\n", text.c_str(),
                     started.status().ToString().c_str());
        return 1;
      }
      stun_server = std::move(*started);
      stun_metrics = std::make_unique<stun::ServerMetrics>(&stun_server->core());
    }

    // The mesh: one link per other server of the region.
    std::vector<std::unique_ptr<derp::MeshLink>> mesh_links;
    if (!mesh_with.empty()) {
      http::TlsClientOptions mesh_tls;
      mesh_tls.insecure_skip_verify = absl::GetFlag(FLAGS_mesh_insecure);
      mesh_tls.ca_file = absl::GetFlag(FLAGS_mesh_ca_file);
      if (mesh_tls.ca_file.empty()) mesh_tls.ca_file = absl::GetFlag(FLAGS_certfile);
      if (mesh_tls.ca_file.empty() && !mesh_tls.insecure_skip_verify) {
        std::fprintf(stderr,
                     "derp_server: --mesh-with needs --mesh-ca-file, --certfile or --mesh-insecure "
                     "to check the other servers' certificates\n");
        return 2;
      }
      mesh_tls.alpn = {"http/1.1"};
      auto mesh_tls_context = http::TlsContext::NewClient(mesh_tls);
      if (!mesh_tls_context.ok()) {
        std::fprintf(stderr, "derp_server: mesh TLS: %s\n",
                     mesh_tls_context.status().ToString().c_str());
        return 2;
      }
      for (const std::string& peer : mesh_with) {
        if (peer.empty()) continue;
        derp::UvClientOptions link;
        auto host_port = SplitHostPort(peer, 443);
        if (!host_port.ok()) {
          std::fprintf(stderr, "derp_server: --mesh-with %s: %s\n", peer.c_str(),
                       std::string(host_port.status().message()).c_str());
          return 2;
        }
        link.host = host_port->first;
        link.port = host_port->second;
        if (link.host == hostname && link.port == (*https)->port()) continue;  // ourselves
        link.tls = *mesh_tls_context;
        link.server_name = link.host;
        link.http_limits.send_timeout = std::chrono::seconds(30);  // derpserver.go mesh writes
        auto made = derp::MeshLink::Create(loop.get(), &(*derp_server)->core(), *private_key,
                                           mesh_key, std::move(link), Logger(&sink, "mesh"));
        if (!made.ok()) {
          std::fprintf(stderr, "derp_server: --mesh-with %s: %s\n", peer.c_str(),
                       made.status().ToString().c_str());
          return 2;
        }
        mesh_links.push_back(std::move(*made));
      }
    }

    derp::ServerMetrics derp_metrics(&(*derp_server)->core());
    std::unique_ptr<ToolMetrics> metrics;
    if (const std::string listen = absl::GetFlag(FLAGS_metrics_listen); !listen.empty()) {
      std::vector<metrics::Collector*> collectors = {&derp_metrics};
      if (stun_metrics != nullptr) collectors.push_back(stun_metrics.get());
      auto started = ToolMetrics::Start(loop.get(), listen, &sink, collectors);
      if (!started.ok()) {
        std::fprintf(stderr, "derp_server: --metrics-listen: %s\n",
                     started.status().ToString().c_str());
        return 1;
      }
      metrics = std::move(*started);
    }

    std::printf("DERP relay server starting...\n");
    std::printf("Address: %s\n", (*https)->local_address().c_str());
    std::printf("TLS: %s\n", tls_line.c_str());
    std::printf("Server key: %s\n",
                derp::FormatNodeKey((*derp_server)->core().public_key()).c_str());
    std::printf("Key file: %s%s\n", key_path.c_str(), created ? " (created)" : "");
    if (stun_server != nullptr) {
      std::printf("STUN: %s\n", stun_server->local_endpoint(0).ToString().c_str());
    }
    if (metrics != nullptr) std::printf("Metrics: %s\n", metrics->url().c_str());
    if (!mesh_key.IsZero()) {
      std::string peers;
      for (const std::string& peer : mesh_with) peers += (peers.empty() ? "" : ", ") + peer;
      std::printf("Mesh: key from %s; with %s\n", absl::GetFlag(FLAGS_mesh_key_file).c_str(),
                  peers.empty() ? "(no one yet: others may connect to us)" : peers.c_str());
    }
    std::fflush(stdout);
    for (auto& link : mesh_links) link->Start();

    App app;
    app.loop = loop.get();
    app.derp = derp_server->get();
    app.sigint = *UvSignal::Create(loop.get(), uv_signal_init);
    app.sigterm = *UvSignal::Create(loop.get(), uv_signal_init);
    app.sigint.set_owner(&app);
    app.sigterm.set_owner(&app);
    uv_signal_start(app.sigint.get(), &App::OnSignal, SIGINT);
    uv_signal_start(app.sigterm.get(), &App::OnSignal, SIGTERM);
    loop.Run();

    // Let the Restarting frames go out, then close everything.
    (*derp_server)->core().set_observer(nullptr);
    UvTimer grace = *UvTimer::Create(loop.get(), uv_timer_init);
    grace.set_owner(loop.get());
    uv_timer_start(
        grace.get(), [](uv_timer_t* t) { uv_stop(static_cast<uv_loop_t*>(t->data)); }, 200, 0);
    loop.Run();
    RelayPrinter::PrintStatistics((*derp_server)->core().stats(), stdout);
    std::fflush(stdout);
    mesh_links.clear();
    (*derp_server)->CloseAll();
    https->reset();
    metrics.reset();
  }
  loop.Close();
  return rc;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
