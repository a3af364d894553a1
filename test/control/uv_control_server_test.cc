// ControlServer end to end on loopback over a real SQLite store: UvControlClients register with a
// pre-auth key and through an approved auth URL, see each other, and see renames, expiries and
// deletions as deltas; refusals store nothing; a restarted server keeps every node and address.
#include "meshvpn/control/uv_control_server.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "common/temp_dir.h"
#include "common/uv_run_until.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/control/stored_node.h"
#include "meshvpn/control/uv_control_client.h"
#include "meshvpn/http/uv_server.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::control {
namespace {

using test::RunUntil;
using test::TempDir;

x25519::KeyPair Keys() {
  auto k = x25519::GenerateKeyPair();
  REQUIRE(k.ok());
  return *std::move(k);
}

struct Recorder final : ControlClientEvents {
  std::string auth_url;
  std::vector<std::string> errors;
  uint64_t full_maps = 0;
  uint64_t deltas = 0;
  void OnAuthUrl(const std::string& url) override { auth_url = url; }
  void OnNetmap(const Netmap&, const NetmapChange& change) override {
    if (change.keep_alive) return;
    ++(change.full ? full_maps : deltas);
  }
  void OnError(const absl::Status& e) override { errors.emplace_back(e.message()); }
};

struct Machine {
  x25519::KeyPair machine = Keys();
  x25519::KeyPair node = Keys();
  Recorder events;
  std::unique_ptr<UvControlClient> client;
};

// A server (store, ControlServer, channel server, HTTP listener) that can be stopped and
// started again over the same database.
class Harness {
 public:
  explicit Harness(ControlServerConfig config = {}) : config_(std::move(config)) { Start(); }
  ~Harness() { Stop(); }

  void Start() {
    auto store = OpenStore("sqlite:" + dir_.path() + "/db.sqlite");
    REQUIRE(store.ok());
    store_ = std::move(*store);
    auto server = ControlServer::Create(loop_.get(), store_.get(), &policy_, config_, nullptr);
    REQUIRE(server.ok());
    server_ = std::move(*server);
    ChannelServerOptions options;
    options.server_key = &server_keys_.private_key;
    options.acceptor = server_.get();
    auto channels = UvChannelServer::Create(loop_.get(), options);
    REQUIRE(channels.ok());
    channels_ = std::move(*channels);
    http::UvServerOptions http_options;
    http_options.listen = port_ == 0 ? "127.0.0.1:0" : "127.0.0.1:" + std::to_string(port_);
    auto http = http::UvServer::Listen(loop_.get(), http_options, channels_.get());
    REQUIRE(http.ok());
    http_ = std::move(*http);
    port_ = http_->port();
  }

  void Stop() {
    if (channels_ != nullptr) channels_->CloseAll();
    http_.reset();
    channels_.reset();
    server_.reset();
    store_.reset();
    uv_run(loop_.get(), UV_RUN_NOWAIT);
  }

  void Connect(Machine& m, std::string auth_key, x25519::PublicKey old_node_key = {}) {
    ChannelClientOptions channel;
    channel.host = "127.0.0.1";
    channel.port = port_;
    channel.machine_key = &m.machine.private_key;
    channel.server_key = server_keys_.public_key;
    ControlClientConfig config;
    config.node_key = m.node.public_key;
    config.old_node_key = old_node_key;
    config.hostinfo.set_hostname("host");
    config.hostinfo.set_os("linux");
    config.auth_key = std::move(auth_key);
    config.backoff_initial = std::chrono::milliseconds(50);
    config.backoff_max = std::chrono::milliseconds(200);
    auto c = UvControlClient::Create(loop_.get(), channel, config, &m.events);
    REQUIRE(c.ok());
    m.client = std::move(*c);
    m.client->Start();
  }

  std::string ReusableKey(const std::string& user, bool ephemeral = false) {
    auto key =
        server_->CreatePreAuthKey(user, /*reusable=*/true, ephemeral, std::chrono::hours(1), {});
    REQUIRE(key.ok());
    return key->key;
  }

  bool Until(const std::function<bool()>& pred, int ms = 5000) {
    return RunUntil(loop_.get(), pred, std::chrono::milliseconds(ms));
  }

  // Shutdown's first step: every channel closed (the server hears it), the server still alive.
  void CloseChannels() { channels_->CloseAll(); }
  ControlServer& server() { return *server_; }
  Store& store() { return *store_; }
  uv_loop_t* loop() { return loop_.get(); }

 private:
  UvLoop loop_;
  TempDir dir_{"control-server"};
  ControlServerConfig config_;
  AllowAllPolicy policy_;
  x25519::KeyPair server_keys_ = Keys();
  std::unique_ptr<Store> store_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<UvChannelServer> channels_;
  std::unique_ptr<http::UvServer> http_;
  uint16_t port_ = 0;
};

const v1::Node* PeerNamed(const Machine& m, const std::string& name) {
  for (const auto& [id, peer] : m.client->netmap().peers()) {
    if (peer.name() == name) return &peer;
  }
  return nullptr;
}

TEST_CASE("control server: pre-auth and interactive registration, deltas", "[control][server]") {
  Harness h;
  REQUIRE(h.server().CreateUser("alice", "Alice").ok());
  const std::string key = h.ReusableKey("alice");

  Machine a;
  Machine b;
  h.Connect(a, key);
  REQUIRE(h.Until([&] { return a.client->state() == ClientState::kStreaming; }));

  // b logs in interactively: an auth URL, then an admin approves it.
  h.Connect(b, "");
  REQUIRE(h.Until([&] { return !b.events.auth_url.empty(); }));
  CHECK(b.client->state() == ClientState::kAwaitingApproval);
  const std::vector<PendingRegistration> pending = h.server().ListPending();
  REQUIRE(pending.size() == 1);
  CHECK(b.events.auth_url.ends_with("/auth/" + pending[0].id));
  CHECK(h.server().ListNodes().size() == 1);  // nothing stored before approval
  CHECK(h.server().ApproveRegistration("nosuchkey", "alice").status().code() ==
        absl::StatusCode::kNotFound);
  auto approved = h.server().ApproveRegistration(pending[0].id, "alice");
  REQUIRE(approved.ok());
  REQUIRE(h.Until([&] {
    return a.client->netmap().peers().size() == 1 && b.client->netmap().peers().size() == 1;
  }));
  CHECK(approved->given_name == "host-1");  // both say "host": the second gets a suffix

  const std::vector<NodeStatus> nodes = h.server().ListNodes();
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[0].node.ipv4 == "100.64.0.1");
  CHECK(nodes[1].node.ipv4 == "100.64.0.2");
  CHECK(nodes[0].node.ipv6 == "fd7a:115c:a1e0::1");
  CHECK(nodes[0].online);
  CHECK(nodes[1].online);
  const v1::Node* b_seen_by_a = PeerNamed(a, "host-1");
  REQUIRE(b_seen_by_a != nullptr);
  CHECK(b_seen_by_a->node_key() == KeyToBytes(b.node.public_key));
  CHECK(b_seen_by_a->machine_key().empty());  // never shown to peers

  // An endpoint report, a rename, an expiry and a deletion reach the peer as deltas.
  const uint64_t a_full_before = a.events.full_maps;
  b.client->SetEndpoints({"198.51.100.7:41641"});
  REQUIRE(h.Until([&] {
    const v1::Node* p = PeerNamed(a, "host-1");
    return p != nullptr && p->endpoints_size() == 1;
  }));
  REQUIRE(h.server().RenameNode(approved->id, "bob-laptop").ok());
  REQUIRE(h.Until([&] { return PeerNamed(a, "bob-laptop") != nullptr; }));
  CHECK(h.server().RenameNode(approved->id, "Not A Label").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(h.server().RenameNode(nodes[0].node.id, "bob-laptop").status().code() ==
        absl::StatusCode::kAlreadyExists);
  REQUIRE(h.server().ExpireNode(approved->id).ok());
  REQUIRE(h.Until([&] { return a.client->netmap().peers().empty(); }));
  CHECK(a.events.full_maps == a_full_before);  // all of it came as deltas
  CHECK(a.events.deltas >= 3);
  REQUIRE(h.server().GetNode(approved->id)->expired);

  // b logs in again with a key: the same node, the same address, back in a's map.
  Machine b2;
  b2.machine = b.machine;
  b.client->Stop();
  b.client.reset();
  h.Connect(b2, key);
  REQUIRE(h.Until([&] { return a.client->netmap().peers().size() == 1; }));
  auto again = h.server().GetNode(approved->id);
  REQUIRE(again.ok());
  CHECK(again->node.ipv4 == "100.64.0.2");
  CHECK(again->node.node_key == b2.node.public_key);
  CHECK_FALSE(again->expired);

  REQUIRE(h.server().DeleteNode(approved->id).ok());
  REQUIRE(h.Until([&] { return a.client->netmap().peers().empty(); }));
  CHECK(h.store().GetNode(approved->id).status().code() == absl::StatusCode::kNotFound);
  CHECK(a.events.full_maps == a_full_before);
}

TEST_CASE("control server: refusals store nothing", "[control][server]") {
  Harness h;
  REQUIRE(h.server().CreateUser("alice", "").ok());
  auto single = h.server().CreatePreAuthKey("alice", false, false, std::chrono::hours(1), {});
  REQUIRE(single.ok());
  auto short_lived =
      h.server().CreatePreAuthKey("alice", true, false, std::chrono::milliseconds(1), {});
  REQUIRE(short_lived.ok());
  usleep(5000);

  Machine first;
  h.Connect(first, single->key);
  REQUIRE(h.Until([&] { return first.client->state() == ClientState::kStreaming; }));

  struct Case {
    std::string key;
    std::string error;
  };
  const std::string wrong_secret = single->key.substr(0, single->key.size() - 4) + "0000";
  for (const Case& c :
       {Case{single->key, "already been used"}, Case{short_lived->key, "has expired"},
        Case{"mpak_000000000000_0000000000000000000000000000000000000000", "unknown pre-auth key"},
        Case{wrong_secret, "unknown pre-auth key"}, Case{"not-a-key", "not a pre-auth key"}}) {
    Machine m;
    h.Connect(m, c.key);
    REQUIRE(h.Until([&] { return m.client->state() == ClientState::kNeedsLogin; }));
    REQUIRE_FALSE(m.events.errors.empty());
    CHECK_THAT(m.events.errors.back(), Catch::Contains(c.error));
    // The error never repeats the secret part of the key.
    CHECK_THAT(m.events.errors.back(), !Catch::Contains(single->key.substr(18)));
  }
  auto stored = h.store().ListNodes();
  REQUIRE(stored.ok());
  CHECK(stored->size() == 1);
  CHECK(h.server().stats().registrations_refused == 5);

  // Another machine presenting the first one's node key is refused too.
  Machine thief;
  thief.node = first.node;
  h.Connect(thief, h.ReusableKey("alice"));
  REQUIRE(h.Until([&] { return thief.client->state() == ClientState::kNeedsLogin; }));
  CHECK(h.store().ListNodes()->size() == 1);
}

TEST_CASE("control server: key rotation keeps the node; a restart keeps everything",
          "[control][server]") {
  Harness h;
  REQUIRE(h.server().CreateUser("alice", "").ok());
  const std::string key = h.ReusableKey("alice");
  Machine a;
  Machine b;
  h.Connect(a, key);
  h.Connect(b, key);
  REQUIRE(h.Until([&] {
    return a.client->netmap().peers().size() == 1 && b.client->netmap().peers().size() == 1;
  }));
  const NodeStatus b_before = h.server().ListNodes()[1];

  h.Stop();
  h.Start();  // same port, same database
  REQUIRE(h.server().ListNodes().size() == 2);
  // The clients come back by themselves (backoff) and get full maps again.
  REQUIRE(h.Until([&] {
    return a.client->state() == ClientState::kStreaming &&
           b.client->state() == ClientState::kStreaming && a.client->netmap().peers().size() == 1 &&
           h.server().online(b_before.node.id);
  }));
  CHECK(h.server().ListNodes()[1].node.ipv4 == b_before.node.ipv4);

  // b rotates its node key, naming the old one: no login needed, same id and address, and a
  // hears the new key.
  const x25519::PublicKey old_key = b.node.public_key;
  b.client.reset();
  Machine b2;
  b2.machine = b.machine;
  h.Connect(b2, "", old_key);
  REQUIRE(h.Until([&] { return b2.client->state() == ClientState::kStreaming; }));
  auto rotated = h.server().GetNode(b_before.node.id);
  REQUIRE(rotated.ok());
  CHECK(rotated->node.node_key == b2.node.public_key);
  CHECK(rotated->node.ipv4 == b_before.node.ipv4);
  CHECK(h.server().stats().key_rotations == 1);
  REQUIRE(h.Until([&] {
    auto it = a.client->netmap().peers().find(b_before.node.id);
    return it != a.client->netmap().peers().end() &&
           it->second.node_key() == KeyToBytes(b2.node.public_key);
  }));

  // A new node key without the old one and without an auth key is a new login: an auth URL.
  b2.client.reset();
  Machine b3;
  b3.machine = b.machine;
  h.Connect(b3, "");
  REQUIRE(h.Until([&] { return !b3.events.auth_url.empty(); }));
  CHECK(h.server().GetNode(b_before.node.id)->node.node_key == b2.node.public_key);
  CHECK(h.server().ListNodes().size() == 2);
}

TEST_CASE("control server: key expiry and ephemeral nodes", "[control][server]") {
  ControlServerConfig config;
  config.node_key_expiry = std::chrono::milliseconds(1500);
  config.ephemeral_inactivity_timeout = std::chrono::milliseconds(300);
  Harness h(config);
  REQUIRE(h.server().CreateUser("alice", "").ok());
  Machine a;
  Machine e;
  h.Connect(a, h.ReusableKey("alice"));
  h.Connect(e, h.ReusableKey("alice", /*ephemeral=*/true));
  REQUIRE(h.Until([&] { return a.client->netmap().peers().size() == 1; }));
  const uint64_t e_id = a.client->netmap().peers().begin()->first;
  CHECK(h.server().GetNode(e_id)->node.ephemeral);

  // The ephemeral node goes away: deleted after the timeout, and a's map loses it.
  e.client->Stop();
  e.client.reset();
  REQUIRE(h.Until([&] { return a.client->netmap().peers().empty(); }));
  REQUIRE(h.Until([&] { return !h.server().GetNode(e_id).ok(); }));
  CHECK(h.store().GetNode(e_id).status().code() == absl::StatusCode::kNotFound);
  CHECK(h.server().stats().ephemeral_deleted == 1);

  // a's own key runs out: its map says so.
  REQUIRE(h.Until([&] { return a.client->netmap().self().expired(); }, 5000));
  CHECK(h.server().stats().expired == 1);
}

TEST_CASE("control server: closing every channel leaves no stream to write into",
          "[control][server]") {
  Harness h;
  REQUIRE(h.server().CreateUser("alice", "").ok());
  const std::string key = h.ReusableKey("alice");
  Machine a;
  Machine b;
  h.Connect(a, key);
  h.Connect(b, key);
  REQUIRE(h.Until([&] { return h.server().online_count() == 2; }));
  a.client->Stop();
  b.client->Stop();
  h.CloseChannels();
  CHECK(h.server().online_count() == 0);
  // A change after the close: queued for nobody; the loop turns that follow write nothing into
  // the freed channels (ASan would see it).
  const uint64_t id = h.server().ListNodes()[0].node.id;
  REQUIRE(h.server().RenameNode(id, "renamed").ok());
  const uint64_t sent = h.server().streamer().stats().bytes_sent;
  h.Until([] { return false; }, 200);
  CHECK(h.server().streamer().stats().bytes_sent == sent);
  CHECK_FALSE(h.server().GetNode(id)->online);
}

}  // namespace
}  // namespace meshvpn::control
