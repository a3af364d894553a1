// serve: opens the store, loads the keys, builds the DERP map, and stacks the handlers on one
// listener: DERP (/derp) -> the control channel (/key, /control/v1) -> the router (/api/,
// /auth/ID, /health). The admin socket serves the API alone.
#include "serve.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/host_port.h"
#include "common/stderr_log_sink.h"
#include "common/tool_metrics.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/control/admin_api.h"
#include "meshvpn/control/derp_map_file.h"
#include "meshvpn/control/store.h"
#include "meshvpn/control/uv_channel_server.h"
#include "meshvpn/control/uv_control_server.h"
#include "meshvpn/control/uv_control_server_metrics.h"
#include "meshvpn/derp/keys.h"
#include "meshvpn/derp/server_metrics.h"
#include "meshvpn/derp/uv_server.h"
#include "meshvpn/http/router.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/uv_server.h"
#include "meshvpn/stun/uv_server.h"
#include "policy_keeper.h"
#include "server_printer.h"

namespace meshvpn::tools {
namespace {

constexpr int kEmbeddedRegionId = 999;  // Headscale's embedded DERP region

struct Signals {
  UvSignal sigint;
  UvSignal sigterm;
  static void OnSignal(uv_signal_t* handle, int) { uv_stop(static_cast<uv_loop_t*>(handle->data)); }
};

int Fail(const char* what, const absl::Status& s, int code = 1) {
  std::fprintf(stderr, "mini-headscale serve: %s: %s\n", what, std::string(s.message()).c_str());
  return code;
}

bool IsIpv4Literal(const std::string& host) {
  return !host.empty() && host.find_first_not_of("0123456789.") == std::string::npos;
}

// One region on our own listener, as Headscale's embedded DERP server.
control::v1::DerpMap EmbeddedDerpMap(const std::string& server_url, bool tls, int stun_port) {
  control::v1::DerpMap map;
  control::v1::DerpRegion& region = (*map.mutable_regions())[kEmbeddedRegionId];
  region.set_region_id(kEmbeddedRegionId);
  region.set_region_code("headscale");
  region.set_region_name("mini-headscale embedded DERP");
  control::v1::DerpNode* node = region.add_nodes();
  // server_url was checked at start-up.
  const HttpUrl url = ParseHttpUrl(server_url).value_or(HttpUrl{.host = "127.0.0.1", .port = 80});
  const std::string& host = url.host;
  const uint16_t port = url.port;
  node->set_name("999a");
  node->set_region_id(kEmbeddedRegionId);
  node->set_host_name(host);
  if (IsIpv4Literal(host)) node->set_ipv4(host);
  if (host.find(':') != std::string::npos) node->set_ipv6(host);
  node->set_derp_port(port);
  node->set_stun_port(stun_port > 0 ? stun_port : -1);
  node->set_plain_http(!tls);
  return map;
}

std::string AuthPage(const std::string& id) {
  return absl::StrCat(
      "<!doctype html><meta charset=utf-8><title>mini-headscale: approve a machine</title>\n"
      "<h1>A machine is waiting for approval</h1>\n"
      "<p>An administrator approves it on the server with:</p>\n"
      "<pre>mini-headscale nodes register --user USERNAME --key ",
      id, "</pre>\n<p>The machine connects as soon as it is approved.</p>\n");
}

}  // namespace

int Serve(ServeSettings s, bool quiet) {
  std::signal(SIGPIPE, SIG_IGN);
  StderrLogSink sink;
  if (s.state_dir.empty()) s.state_dir = DefaultStateDir();
  if (absl::Status st = PrepareStateDir(s.state_dir); !st.ok()) return Fail("--state-dir", st, 2);
  if (s.db.empty()) s.db = "sqlite:" + s.state_dir + "/db.sqlite";
  const bool tls = !s.tls_cert.empty();
  if (tls != !s.tls_key.empty()) {
    return Fail("TLS", absl::InvalidArgumentError("--tls-cert and --tls-key go together"), 2);
  }

  control::StoreOptions store_options;
  store_options.ipam.ipv4_prefix = s.prefix_v4;
  store_options.ipam.ipv6_prefix = s.prefix_v6;
  auto store = control::OpenStore(s.db, store_options);
  if (!store.ok()) return Fail("--db", store.status(), 2);
  auto schema = (*store)->SchemaVersion();

  bool control_key_created = false;
  auto control_key =
      derp::ServerKeyFile::LoadOrCreate(s.state_dir + "/control.key", &control_key_created);
  if (!control_key.ok()) return Fail("control key", control_key.status(), 2);

  std::shared_ptr<const http::TlsContext> tls_context;
  if (tls) {
    http::TlsServerOptions options;
    options.cert_file = s.tls_cert;
    options.key_file = s.tls_key;
    options.alpn = {"http/1.1"};
    auto made = http::TlsContext::NewServer(options);
    if (!made.ok()) return Fail("TLS", made.status(), 2);
    tls_context = *std::move(made);
  }

  UvLoop loop;
  int rc = 0;
  {
    // The listener first: the server URL and the embedded DERP region need its address.
    auto router = std::make_unique<http::Router>();
    http::RequestHandler* front = nullptr;  // set below; the listener calls it per request
    struct Front final : http::RequestHandler {
      http::RequestHandler** target;
      void OnRequest(http::Request& r, http::ResponseWriter w) override {
        (*target)->OnRequest(r, std::move(w));
      }
    } front_proxy;
    front_proxy.target = &front;
    front = router.get();
    http::UvServerOptions listen_options;
    listen_options.listen = s.listen;
    listen_options.tls = tls_context;
    listen_options.log = &sink;
    listen_options.max_connections = 30000;
    auto listener = http::UvServer::Listen(loop.get(), listen_options, &front_proxy);
    if (!listener.ok()) return Fail("--listen", listener.status());
    if (s.server_url.empty()) {
      s.server_url = absl::StrCat(tls ? "https://" : "http://", (*listener)->local_address());
    }
    if (auto url = ParseHttpUrl(s.server_url); !url.ok())
      return Fail("--server-url", url.status(), 2);

    control::ControlServerConfig config;
    config.server_url = s.server_url;
    config.base_domain = s.base_domain;
    config.node_key_expiry = s.node_key_expiry;
    config.ephemeral_inactivity_timeout = s.ephemeral_timeout;
    std::string derp_line;
    const bool embedded_derp = s.derp_map.empty();
    if (embedded_derp) {
      config.derp_map = EmbeddedDerpMap(s.server_url, tls, s.stun_port);
    } else {
      std::ifstream in(s.derp_map);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) return Fail("--derp-map", absl::NotFoundError(s.derp_map + ": cannot read it"), 2);
      auto parsed = control::ParseDerpMapJson(text.str());
      if (!parsed.ok()) return Fail("--derp-map", parsed.status(), 2);
      config.derp_map = *std::move(parsed);
      derp_line = absl::StrCat("from ", s.derp_map, " (", config.derp_map.regions_size(),
                               " regions; the embedded region is off)");
    }

    ServerPrinter printer(stdout, quiet);
    // Without a policy file every node sees every node (Headscale's default); with one, the
    // file decides, and a bad file stops the start.
    std::unique_ptr<PolicyKeeper> keeper;
    if (!s.policy.empty()) {
      keeper = std::make_unique<PolicyKeeper>(loop.get(), s.policy, stdout, &printer);
      if (absl::Status st = keeper->LoadInitial(); !st.ok()) {
        std::fprintf(stderr, "mini-headscale serve: --policy %s refused:\n%s\n", s.policy.c_str(),
                     std::string(st.message()).c_str());
        return 2;
      }
    }
    control::AllowAllPolicy policy;
    auto server =
        control::ControlServer::Create(loop.get(), store->get(), &policy, config, &printer);
    if (!server.ok()) return Fail("control server", server.status(), 2);
    printer.set_server(server->get(), &policy);
    if (keeper != nullptr) {
      keeper->Attach(server->get());
      (*server)->set_policy_admin(keeper.get());
      printer.set_on_inventory_changed([&] { keeper->InventoryChanged(); });
    }
    control::AdminApi api(server->get());

    router->Prefix("GET", "/api/", [&](http::Request& r, http::ResponseWriter w) {
      api.OnRequest(r, std::move(w));
    });
    for (const char* method : {"POST", "DELETE", "PUT"}) {
      router->Prefix(method, "/api/", [&](http::Request& r, http::ResponseWriter w) {
        api.OnRequest(r, std::move(w));
      });
    }
    router->Prefix("GET", "/auth/", [](http::Request& r, http::ResponseWriter w) {
      const std::string id = r.path.substr(6);
      if (id.empty() || id.size() > 64 ||
          id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos) {
        w.Send(http::Response::Text(404, "no such registration\n"));
        return;
      }
      w.Send(http::Response::Text(200, AuthPage(id), "text/html; charset=utf-8"));
    });
    router->Exact("GET", "/health", [](http::Request&, http::ResponseWriter w) {
      w.Send(http::Response::Text(200, "ok\n"));
    });

    control::ChannelServerOptions channel_options;
    channel_options.server_key = &*control_key;
    channel_options.acceptor = server->get();
    channel_options.fallback = router.get();
    auto channels = control::UvChannelServer::Create(loop.get(), channel_options);
    if (!channels.ok()) return Fail("control channel", channels.status());
    front = channels->get();

    std::unique_ptr<derp::UvServer> derp_server;
    std::unique_ptr<derp::ServerMetrics> derp_metrics;
    std::unique_ptr<stun::UvStunServer> stun_server;
    std::string stun_line = "off";
    if (embedded_derp) {
      bool derp_key_created = false;
      auto derp_key =
          derp::ServerKeyFile::LoadOrCreate(s.state_dir + "/derp.key", &derp_key_created);
      if (!derp_key.ok()) return Fail("DERP key", derp_key.status(), 2);
      derp::UvServerOptions derp_options;
      derp_options.core.private_key = *derp_key;
      derp_options.fallback = channels->get();
      auto made = derp::UvServer::Create(loop.get(), std::move(derp_options));
      if (!made.ok()) return Fail("embedded DERP", made.status());
      derp_server = *std::move(made);
      derp_metrics = std::make_unique<derp::ServerMetrics>(&derp_server->core());
      front = derp_server.get();
      derp_line = absl::StrCat("embedded region ", kEmbeddedRegionId, " \"headscale\" at ",
                               s.server_url, "/derp", tls ? "" : " (plain HTTP: labs only)");
      if (s.stun_port > 0) {
        const std::string ip = HostOf((*listener)->local_address());
        const std::string text = ip.find(':') != std::string::npos
                                     ? absl::StrCat("[", ip, "]:", s.stun_port)
                                     : absl::StrCat(ip.empty() ? "0.0.0.0" : ip, ":", s.stun_port);
        auto endpoint = udp::Endpoint::Parse(text);
        stun::ServerConfig stun_config;
        if (endpoint.ok()) stun_config.primary = *endpoint;
        stun_config.software = "meshvpn mini-headscale";
        auto core = endpoint.ok() ? stun::Server::Create(stun_config)
                                  : absl::StatusOr<stun::Server>(endpoint.status());
        auto started =
            core.ok()
                ? stun::UvStunServer::Start(loop.get(), std::move(*core), Logger(&sink, "stun"))
                : absl::StatusOr<std::unique_ptr<stun::UvStunServer>>(core.status());
        if (started.ok()) {
          stun_server = std::move(*started);
          stun_line = stun_server->local_endpoint(0).ToString();
        } else {
          // Another STUN server (Debian's coturn) may hold the port: DERP works without it.
          stun_line =
              absl::StrCat("not started on ", text, ": ", std::string(started.status().message()));
        }
      }
    }

    std::unique_ptr<http::UvServer> admin_socket;
    const std::string socket_path = s.state_dir + "/mini-headscale.sock";
    {
      http::UvServerOptions options;
      options.listen = "unix:" + socket_path;
      options.log = &sink;
      auto made = http::UvServer::Listen(loop.get(), options, &api);
      if (!made.ok()) return Fail("admin socket", made.status());
      admin_socket = *std::move(made);
    }

    control::ServerMetrics control_metrics(server->get());
    std::unique_ptr<ToolMetrics> metrics;
    if (!s.metrics_listen.empty()) {
      std::vector<metrics::Collector*> collectors = {&control_metrics};
      if (derp_metrics != nullptr) collectors.push_back(derp_metrics.get());
      auto started = ToolMetrics::Start(loop.get(), s.metrics_listen, &sink, collectors);
      if (!started.ok()) return Fail("--metrics-listen", started.status());
      metrics = *std::move(started);
    }

    std::printf("Starting coordination server on %s...\n", (*listener)->local_address().c_str());
    std::printf("Database: connected (%s, schema version %d)\n",
                std::string((*store)->backend()).c_str(), schema.ok() ? *schema : 0);
    std::printf("Server URL: %s\n", s.server_url.c_str());
    std::printf("Server key: mkey:%s%s\n", (*channels)->public_key().ToHex().c_str(),
                control_key_created ? " (created)" : "");
    std::printf("State: %s\n", s.state_dir.c_str());
    std::printf("Admin socket: %s\n", socket_path.c_str());
    std::printf("Addresses: %s, %s\n", s.prefix_v4.c_str(), s.prefix_v6.c_str());
    std::printf("MagicDNS domain: %s\n", s.base_domain.c_str());
    std::printf("DERP: %s\n", derp_line.c_str());
    std::printf("STUN: %s\n", stun_line.c_str());
    std::printf("TLS: %s\n", tls ? s.tls_cert.c_str() : "off (plain HTTP)");
    std::printf("Auth: pre-auth keys, and interactive login approved by an admin (no OAuth)\n");
    std::printf("Nodes: %zu known\n", (*server)->ListNodes().size());
    if (metrics != nullptr) std::printf("Metrics: %s\n", metrics->url().c_str());
    std::fflush(stdout);

    Signals signals;
    signals.sigint = *UvSignal::Create(loop.get(), uv_signal_init);
    signals.sigterm = *UvSignal::Create(loop.get(), uv_signal_init);
    signals.sigint.set_owner(loop.get());
    signals.sigterm.set_owner(loop.get());
    uv_signal_start(signals.sigint.get(), &Signals::OnSignal, SIGINT);
    uv_signal_start(signals.sigterm.get(), &Signals::OnSignal, SIGTERM);
    // SIGHUP reloads the policy file.
    UvSignal sighup = *UvSignal::Create(loop.get(), uv_signal_init);
    if (keeper != nullptr) {
      sighup.set_owner(keeper.get());
      uv_signal_start(
          sighup.get(),
          [](uv_signal_t* h, int) { (void)static_cast<PolicyKeeper*>(h->data)->Reload(); }, SIGHUP);
    }
    loop.Run();
    printer.set_on_inventory_changed(nullptr);

    std::printf(
        "Shutting down: %zu nodes, %llu registered and %llu refused this run, %llu map "
        "requests\n",
        (*server)->ListNodes().size(),
        static_cast<unsigned long long>((*server)->stats().registrations),
        static_cast<unsigned long long>((*server)->stats().registrations_refused),
        static_cast<unsigned long long>((*server)->stats().map_requests));
    std::fflush(stdout);
    (*channels)->CloseAll();
    if (derp_server != nullptr) derp_server->CloseAll();
    listener->reset();
    admin_socket.reset();
    metrics.reset();
    stun_server.reset();
  }
  loop.Close();
  return rc;
}

}  // namespace meshvpn::tools
