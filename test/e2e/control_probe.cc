// Test scaffolding: one control client (the library's UvControlClient) that logs in to a
// coordination server and prints what happens as lines a script can wait for:
//   STATE <state>          AUTH_URL <url>          REGISTERED <name> <ipv4>
//   MAP full|delta PEERS <n> <name>=<ipv4>[,online|,offline] ...      ERROR <message>
//   FILTER <n> <src|src>><ip:first-last|...> ...   (when the packet filter changed)
// Usage: control_probe HOST PORT HOSTNAME [AUTH_KEY|-] [--endpoint IP:PORT] [--ephemeral]
// Runs until SIGTERM/SIGINT. The machine and node keys are fresh each run.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/control/uv_control_client.h"
#include "meshvpn/x25519/x25519.h"

namespace {

using namespace meshvpn;
using namespace meshvpn::control;

std::string Ipv4Of(const v1::Node& n) {
  for (const std::string& a : n.addresses()) {
    if (a.find('.') != std::string::npos) return a.substr(0, a.find('/'));
  }
  return "-";
}

class Printer final : public ControlClientEvents {
 public:
  void OnStateChanged(ClientState s) override {
    std::printf("STATE %s\n", std::string(ToString(s)).c_str());
    std::fflush(stdout);
  }
  void OnAuthUrl(const std::string& url) override {
    std::printf("AUTH_URL %s\n", url.c_str());
    std::fflush(stdout);
  }
  void OnRegistered(const v1::RegisterResponse& r) override {
    std::printf("REGISTERED %s %s\n", r.node().name().c_str(), Ipv4Of(r.node()).c_str());
    std::fflush(stdout);
  }
  void OnNetmap(const Netmap& netmap, const NetmapChange& change) override {
    if (change.keep_alive) return;
    std::string line = std::string("MAP ") + (change.full ? "full" : "delta") + " SELF " +
                       netmap.self().name() + (netmap.self().expired() ? ",expired" : "") +
                       " PEERS " + std::to_string(netmap.peers().size());
    for (const auto& [id, peer] : netmap.peers()) {
      line += " " + peer.name() + "=" + Ipv4Of(peer) + (peer.online() ? ",online" : ",offline");
      for (const std::string& ep : peer.endpoints()) line += ",ep:" + ep;
    }
    std::printf("%s\n", line.c_str());
    if (change.packet_filter_changed) {
      // FILTER <rules> <src|src>><ip:first-last|...> ...: what may reach this node now.
      std::string filter = "FILTER " + std::to_string(netmap.packet_filter().size());
      for (const v1::FilterRule& rule : netmap.packet_filter()) {
        std::string srcs, dsts;
        for (const std::string& src : rule.src_ips()) srcs += (srcs.empty() ? "" : "|") + src;
        for (const v1::NetPortRange& d : rule.dst_ports()) {
          dsts += (dsts.empty() ? "" : "|") + d.ip() + ":" + std::to_string(d.first()) + "-" +
                  std::to_string(d.last());
        }
        filter += " " + srcs + ">" + dsts;
      }
      std::printf("%s\n", filter.c_str());
    }
    std::fflush(stdout);
  }
  void OnError(const absl::Status& e) override {
    std::printf("ERROR %s\n", std::string(e.message()).c_str());
    std::fflush(stdout);
  }
};

void OnSignal(uv_signal_t* handle, int) { uv_stop(handle->loop); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: control_probe HOST PORT HOSTNAME [AUTH_KEY|-] [--endpoint IP:PORT] "
                 "[--ephemeral]\n");
    return 2;
  }
  std::string auth_key = argc > 4 && std::strcmp(argv[4], "-") != 0 ? argv[4] : "";
  std::string endpoint;
  bool ephemeral = false;
  for (int i = 5; i < argc; ++i) {
    if (std::strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
      endpoint = argv[++i];
    } else if (std::strcmp(argv[i], "--ephemeral") == 0) {
      ephemeral = true;
    }
  }
  auto machine = x25519::GenerateKeyPair();
  auto node = x25519::GenerateKeyPair();
  if (!machine.ok() || !node.ok()) return 1;
  UvLoop loop;
  Printer printer;
  {
    ChannelClientOptions channel;
    channel.host = argv[1];
    channel.port = static_cast<uint16_t>(std::atoi(argv[2]));
    channel.machine_key = &machine->private_key;  // no server key: fetched from /key, pinned
    ControlClientConfig config;
    config.node_key = node->public_key;
    config.hostinfo.set_hostname(argv[3]);
    config.hostinfo.set_os("linux");
    config.auth_key = auth_key;
    config.ephemeral = ephemeral;
    config.backoff_initial = std::chrono::milliseconds(200);
    config.backoff_max = std::chrono::milliseconds(2000);
    auto client = UvControlClient::Create(loop.get(), channel, config, &printer);
    if (!client.ok()) {
      std::fprintf(stderr, "control_probe: %s\n", std::string(client.status().message()).c_str());
      return 1;
    }
    if (!endpoint.empty()) (*client)->SetEndpoints({endpoint});
    (*client)->Start();
    auto sigterm = UvSignal::Create(loop.get(), uv_signal_init);
    auto sigint = UvSignal::Create(loop.get(), uv_signal_init);
    if (!sigterm.ok() || !sigint.ok()) return 1;
    uv_signal_start(sigterm->get(), &OnSignal, SIGTERM);
    uv_signal_start(sigint->get(), &OnSignal, SIGINT);
    loop.Run();
    (*client)->Stop();
  }
  loop.Close();
  return 0;
}
