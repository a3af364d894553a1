// udp_messenger: a UDP chat that shows how one socket serves many peers (deep dive project 1).
#include <csignal>
#include <cstdio>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "common/stderr_log_sink.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "udp_messenger/messenger.h"

ABSL_FLAG(std::string, listen, "",
          "where to receive: \":4000\" (port 4000 on every IPv4 and IPv6 address), "
          "\"0.0.0.0:4000\" (IPv4 only), \"[::1]:4000\" (one address). Empty: any free port.");
ABSL_FLAG(std::vector<std::string>, peer, {},
          "peers to talk to from the start, as host:port, comma-separated "
          "(\"192.168.1.10:4000,[2001:db8::1]:4000\"). They never time out.");
ABSL_FLAG(absl::Duration, peer_timeout, absl::Seconds(30),
          "forget a peer that has sent nothing for this long (\"30s\", \"500ms\")");
ABSL_FLAG(absl::Duration, keepalive, absl::ZeroDuration(),
          "send an empty datagram to every peer this often, so they do not time us out "
          "(0 = never)");
ABSL_FLAG(absl::Duration, stats_interval, absl::ZeroDuration(),
          "print the statistics this often (0 = only on /stats, SIGUSR1 and exit)");
ABSL_FLAG(int32_t, max_peers, 1024, "the most peers tracked at once; more are ignored");
ABSL_FLAG(int32_t, rcvbuf, 0,
          "socket receive buffer to ask the kernel for, in bytes (0 = default)");
ABSL_FLAG(int32_t, sndbuf, 0, "socket send buffer to ask the kernel for, in bytes (0 = default)");
ABSL_FLAG(bool, verbose, false, "log socket setup (address, buffer sizes granted) to stderr");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage = R"(chat over plain UDP, to see how one socket serves many peers.

Every line you type is sent, as one UDP datagram, to every peer the program knows.
UDP has no connections: a peer becomes known when a datagram arrives from it (or when
you name it with -peer), and it is forgotten after -peer_timeout of silence. One
socket, one port, any number of peers: the way WireGuard and Tailscale use UDP.

Examples:
  udp_messenger -listen :4000                    wait for peers on port 4000
  udp_messenger -peer 192.168.1.10:4000          talk to that listener (from a free port)
  udp_messenger -listen :4001 -peer [::1]:4000   both at once
  udp_messenger -listen :4000 -peer_timeout 10s -stats_interval 5s

While it runs, type:
  any text      send it to every peer ("//text" sends a line starting with "/")
  /stats        print the statistics (so does `kill -USR1 <pid>`)
  /peers        list peers with their packet and byte counters
  /quit         print the statistics and quit (so do Ctrl-C and SIGTERM)
The end of input does not stop it, so it can run in the background with </dev/null.

Output:
  [Peer 192.168.1.10:54321] Connected       first datagram from a new peer
  [Peer 192.168.1.10:54321] Message: hi     a line it sent
  [Peer 192.168.1.10:54321] Timed out ...   silent for -peer_timeout, forgotten
  Statistics: Packets received / sent, Active peers, Bytes transferred, then details:
  average receive batch (datagrams per recvmmsg call) and drops by reason.

Flags:)";

// Lines read from stdin on a thread of their own (a blocking read works for terminals, pipes and
// files alike), handed to the loop through a uv_async.
struct StdinBridge {
  std::mutex mu;
  std::deque<std::string> lines;
  uv_async_t* async = nullptr;  // cleared (under mu) before the handle is closed
};

void ReadStdin(std::shared_ptr<StdinBridge> bridge) {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::lock_guard<std::mutex> lock(bridge->mu);
    if (bridge->async == nullptr) return;
    bridge->lines.push_back(line);
    uv_async_send(bridge->async);
  }
}

class App {
 public:
  App(uv_loop_t* loop, Messenger* messenger, std::shared_ptr<StdinBridge> bridge)
      : loop_(loop), messenger_(messenger), bridge_(std::move(bridge)) {}

  absl::Status Start() {
    for (int signum : {SIGINT, SIGTERM, SIGUSR1}) {
      absl::StatusOr<UvSignal> s = UvSignal::Create(loop_, uv_signal_init);
      if (!s.ok()) return s.status();
      s->set_owner(this);
      uv_signal_start(s->get(), &App::OnSignal, signum);
      signals_.push_back(std::move(*s));
    }
    absl::StatusOr<UvAsync> async = UvAsync::Create(loop_, uv_async_init, &App::OnAsync);
    if (!async.ok()) return async.status();
    async_ = std::move(*async);
    async_.set_owner(this);
    std::lock_guard<std::mutex> lock(bridge_->mu);
    bridge_->async = async_.get();
    return absl::OkStatus();
  }

  void Shutdown() {
    {
      std::lock_guard<std::mutex> lock(bridge_->mu);
      bridge_->async = nullptr;
    }
    async_.Reset();
    signals_.clear();
  }

 private:
  static void OnSignal(uv_signal_t* handle, int signum) {
    static_cast<App*>(handle->data)->HandleSignal(signum);
  }
  static void OnAsync(uv_async_t* handle) { static_cast<App*>(handle->data)->HandleLines(); }

  void HandleSignal(int signum) {
    messenger_->PrintStatistics();
    if (signum != SIGUSR1) uv_stop(loop_);
  }
  void HandleLines() {
    std::deque<std::string> lines;
    {
      std::lock_guard<std::mutex> lock(bridge_->mu);
      lines.swap(bridge_->lines);
    }
    for (const std::string& line : lines) {
      if (!messenger_->HandleLine(line)) {
        messenger_->PrintStatistics();
        uv_stop(loop_);
        return;
      }
    }
  }

  uv_loop_t* loop_;
  Messenger* messenger_;
  std::shared_ptr<StdinBridge> bridge_;
  std::vector<UvSignal> signals_;
  UvAsync async_;
};

Duration ToDuration(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

int Run(int argc, char** argv) {
  absl::FlagsUsageConfig usage_config;
  // List this tool's flags under --help (abseil's default expects udp_messenger.cc).
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "udp_messenger/");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  absl::SetProgramUsageMessage(kUsage);
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "udp_messenger: unexpected argument \"%s\" (see --help)\n", rest[1]);
    return 2;
  }
  if (absl::GetFlag(FLAGS_peer_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_max_peers) < 1) {
    std::fprintf(stderr, "udp_messenger: -peer_timeout and -max_peers must be positive\n");
    return 2;
  }

  MessengerConfig config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.peers = absl::GetFlag(FLAGS_peer);
  config.peer_timeout = ToDuration(absl::GetFlag(FLAGS_peer_timeout));
  config.keepalive = ToDuration(absl::GetFlag(FLAGS_keepalive));
  config.stats_interval = ToDuration(absl::GetFlag(FLAGS_stats_interval));
  config.max_peers = static_cast<size_t>(absl::GetFlag(FLAGS_max_peers));
  config.receive_buffer_bytes = absl::GetFlag(FLAGS_rcvbuf);
  config.send_buffer_bytes = absl::GetFlag(FLAGS_sndbuf);

  StderrLogSink stderr_sink;
  LogSink* sink =
      absl::GetFlag(FLAGS_verbose) ? static_cast<LogSink*>(&stderr_sink) : &NullLogSink::Instance();

  UvLoop loop;
  int exit_code = 0;
  {
    Messenger messenger(loop.get(), config, sink, stdout);
    auto bridge = std::make_shared<StdinBridge>();
    App app(loop.get(), &messenger, bridge);
    absl::Status status = messenger.Start();
    if (status.ok()) status = app.Start();
    if (!status.ok()) {
      std::fprintf(stderr, "udp_messenger: %s\n", std::string(status.message()).c_str());
      exit_code = 1;
    } else {
      // Never joined: at exit it may be blocked reading a terminal, and that is fine.
      std::thread(ReadStdin, bridge).detach();
      loop.Run();
    }
    app.Shutdown();
  }
  if (loop.Close() != 0) std::fprintf(stderr, "udp_messenger: a libuv handle was left open\n");
  return exit_code;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Run(argc, argv); }
