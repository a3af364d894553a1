// bench_control_server: the coordination server that bench/control/run.sh measures. A
// ControlServer over SQLite (synchronous=FULL) in a fresh temporary directory, on the Noise
// channel over plain HTTP on 127.0.0.1:PORT, with either every node seeing every other
// (--policy allow-all) or groups of 100 consecutive node ids (--policy groups100). It creates a
// user and a reusable pre-auth key, prints
//   READY port=P key=K server_key=HEX
// on stdout, then reads commands on stdin, one a line, answering each on stdout:
//   stats        one JSON line: this process's CPU seconds (CLOCK_PROCESS_CPUTIME_ID), VmRSS/VmHWM,
//   the
//                streamer's and the builder's counters, nodes, online streams
//   trim         malloc_trim(0): the allocator gives back what it keeps unused (see the next stats)
//   naive on|off the naive full-map path (every change: each affected node's whole map rebuilt
//                from scratch) or the delta path
//   quit         (also: stdin closed, SIGTERM, SIGINT) stops and removes the temporary directory
// Registrations are counted on stderr every 1,000.
#include <malloc.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "bench_util.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/control/map_policy.h"
#include "meshvpn/control/store.h"
#include "meshvpn/control/uv_channel_server.h"
#include "meshvpn/control/uv_control_server.h"
#include "meshvpn/http/uv_server.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::control {
namespace {

struct Progress final : ControlServerEvents {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  uint64_t registered = 0;
  uint64_t refused = 0;
  void OnRegistered(const NodeRecord&, const UserRecord&, bool new_node) override {
    if (!new_node) return;
    if (++registered % 1000 == 0) {
      std::fprintf(stderr, "server: %llu nodes registered (%.1f s)\n",
                   static_cast<unsigned long long>(registered), bench::SecondsSince(start));
    }
  }
  void OnRegistrationRefused(const x25519::PublicKey&, const std::string& reason) override {
    if (++refused <= 5) std::fprintf(stderr, "server: registration refused: %s\n", reason.c_str());
  }
  void OnStoreError(const absl::Status& error) override {
    std::fprintf(stderr, "server: store error: %s\n", std::string(error.message()).c_str());
  }
};

int Usage() {
  std::fprintf(stderr,
               "usage: bench_control_server [--policy allow-all|groups100] [--port P] "
               "[--db-dir DIR]\n");
  return 2;
}

int Main(int argc, char** argv) {
  std::string policy_name = "allow-all";
  int port = 0;
  std::string db_parent = "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--policy" && i + 1 < argc) {
      policy_name = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (a == "--db-dir" && i + 1 < argc) {
      db_parent = argv[++i];
    } else {
      return Usage();
    }
  }
  std::unique_ptr<MapPolicy> policy;
  if (policy_name == "allow-all") {
    policy = std::make_unique<AllowAllPolicy>();
  } else if (policy_name == "groups100") {
    policy = std::make_unique<IdBlockPolicy>(100);
  } else {
    return Usage();
  }
  const uint64_t nofile = bench::RaiseOpenFiles();

  std::string tmpl = db_parent + "/bench-control-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  int rc = 0;
  {
    UvLoop loop;
    auto store = OpenStore("sqlite:" + dir + "/control.sqlite");
    if (!store.ok()) {
      std::fprintf(stderr, "store: %s\n", std::string(store.status().message()).c_str());
      std::filesystem::remove_all(dir);
      return 1;
    }
    Progress progress;
    ControlServerConfig config;
    config.server_url = "http://127.0.0.1";
    // No keepalive round during a measurement (a keepalive to every stream would be counted as
    // the change's bytes); persistence of endpoints stays batched every 10 s as in production.
    config.keepalive = std::chrono::minutes(30);
    auto server = ControlServer::Create(loop.get(), store->get(), policy.get(), config, &progress);
    if (!server.ok()) {
      std::fprintf(stderr, "server: %s\n", std::string(server.status().message()).c_str());
      return 1;
    }
    auto user = (*server)->CreateUser("bench", "Bench");
    auto key = (*server)->CreatePreAuthKey("bench", /*reusable=*/true, /*ephemeral=*/false,
                                           std::chrono::hours(24), {});
    if (!user.ok() || !key.ok()) {
      std::fprintf(stderr, "server: cannot create the user or the key\n");
      return 1;
    }
    auto server_keys = x25519::GenerateKeyPair();
    if (!server_keys.ok()) return 1;
    ChannelServerOptions channel_options;
    channel_options.server_key = &server_keys->private_key;
    channel_options.acceptor = server->get();
    auto channels = UvChannelServer::Create(loop.get(), channel_options);
    if (!channels.ok()) return 1;
    http::UvServerOptions http_options;
    http_options.listen = "127.0.0.1:" + std::to_string(port);
    http_options.max_connections = 20000;
    http_options.backlog = 4096;
    // The naive path queues a whole map to every node at once; a client process busy parsing
    // others' maps may leave a connection unread for a while.
    http_options.limits.send_timeout = std::chrono::minutes(10);
    auto http = http::UvServer::Listen(loop.get(), http_options, channels->get());
    if (!http.ok()) {
      std::fprintf(stderr, "listen: %s\n", std::string(http.status().message()).c_str());
      return 1;
    }
    std::printf("READY port=%u key=%s server_key=%s nofile=%llu\n", (*http)->port(),
                key->key.c_str(), server_keys->public_key.ToHex().c_str(),
                static_cast<unsigned long long>(nofile));
    std::fflush(stdout);

    // Only stops the loop: the channels are closed after uv_run returns, with no loop turn in
    // between (a turn's check phase would flush the map streamer into closed channels).
    auto stop = [&] { uv_stop(loop.get()); };
    bench::StdinLines commands(
        loop.get(),
        [&](const std::string& line) {
          ControlServer& s = **server;
          if (line == "stats") {
            const MapStreamerStats& st = s.streamer().stats();
            const MapBuilderStats& b = s.builder().stats();
            std::printf(
                "{\"cpu_s\":%.6f,\"rss_kb\":%llu,\"hwm_kb\":%llu,\"bytes_sent\":%llu,"
                "\"full_maps_sent\":%llu,\"deltas_sent\":%llu,\"keepalives_sent\":%llu,"
                "\"builder_full_maps\":%llu,\"builder_full_map_bytes\":%llu,"
                "\"builder_deltas\":%llu,\"builder_delta_bytes\":%llu,\"nodes\":%zu,"
                "\"online\":%zu,\"channels\":%zu,\"registrations\":%llu,\"map_requests\":%llu,"
                "\"slow_readers\":%llu,\"store_errors\":%llu,\"naive\":%s}\n",
                bench::CpuSeconds(), static_cast<unsigned long long>(bench::ProcStatusKb("VmRSS")),
                static_cast<unsigned long long>(bench::ProcStatusKb("VmHWM")),
                static_cast<unsigned long long>(st.bytes_sent),
                static_cast<unsigned long long>(st.full_maps_sent),
                static_cast<unsigned long long>(st.deltas_sent),
                static_cast<unsigned long long>(st.keepalives_sent),
                static_cast<unsigned long long>(b.full_maps),
                static_cast<unsigned long long>(b.full_map_bytes),
                static_cast<unsigned long long>(b.deltas),
                static_cast<unsigned long long>(b.delta_bytes), s.builder().node_count(),
                s.streamer().stream_count(), (*channels)->channel_count(),
                static_cast<unsigned long long>(s.stats().registrations),
                static_cast<unsigned long long>(s.stats().map_requests),
                static_cast<unsigned long long>((*channels)->stats().slow_readers),
                static_cast<unsigned long long>(s.stats().store_errors),
                s.config().naive_full_maps ? "true" : "false");
          } else if (line == "trim") {
            // What the allocator keeps but no longer uses goes back, so that the next stats
            // shows the live memory beside the RSS as it was.
            ::malloc_trim(0);
            std::printf("OK trim\n");
          } else if (line == "naive on" || line == "naive off") {
            s.set_naive_full_maps(line == "naive on");
            std::printf("OK naive=%s\n", s.config().naive_full_maps ? "on" : "off");
          } else if (line == "quit") {
            std::printf("BYE\n");
            stop();
          } else if (!line.empty()) {
            std::printf("ERROR unknown command: %s\n", line.c_str());
          }
          std::fflush(stdout);
        },
        stop);
    uv_signal_t sigterm{};
    uv_signal_t sigint{};
    for (auto [sig, num] : {std::pair{&sigterm, SIGTERM}, std::pair{&sigint, SIGINT}}) {
      uv_signal_init(loop.get(), sig);
      sig->data = &stop;
      uv_signal_start(
          sig, [](uv_signal_t* h, int) { (*static_cast<decltype(stop)*>(h->data))(); }, num);
    }
    uv_run(loop.get(), UV_RUN_DEFAULT);
    (*channels)->CloseAll();
    commands.Stop();
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
    http->reset();
    channels->reset();
    server->reset();
    store->reset();
    rc = loop.Close() == 0 ? 0 : 1;
  }
  std::filesystem::remove_all(dir);
  return rc;
}

}  // namespace
}  // namespace meshvpn::control

int main(int argc, char** argv) { return meshvpn::control::Main(argc, argv); }
