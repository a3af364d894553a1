// ControlClientCore with a scripted server: registration with a key and with approval, the map
// stream into its netmap, reports while streaming, refusals, and the backoff's bounds.
#include "meshvpn/control/client_core.h"

#include <catch2/catch.hpp>

#include "meshvpn/x25519/x25519.h"

namespace meshvpn::control {
namespace {

struct Recorder final : ControlClientEvents {
  void OnStateChanged(ClientState s) override { states.push_back(s); }
  void OnAuthUrl(const std::string& url) override { auth_url = url; }
  void OnRegistered(const v1::RegisterResponse&) override { ++registered; }
  void OnNetmap(const Netmap& n, const NetmapChange&) override {
    ++netmaps;
    peers = n.peers().size();
  }
  void OnError(const absl::Status& e) override { errors.push_back(e); }
  std::vector<ClientState> states;
  std::string auth_url;
  int registered = 0, netmaps = 0;
  size_t peers = 0;
  std::vector<absl::Status> errors;
};

ControlClientConfig Config(std::string auth_key) {
  ControlClientConfig c;
  auto k = x25519::GenerateKeyPair();
  REQUIRE(k.ok());
  c.node_key = k->public_key;
  c.hostinfo.set_hostname("laptop");
  c.auth_key = std::move(auth_key);
  c.seed = 7;
  return c;
}

v1::Envelope Authorized() {
  v1::Envelope e;
  e.mutable_register_response()->set_machine_authorized(true);
  e.mutable_register_response()->mutable_node()->set_id(1);
  return e;
}

v1::Envelope FullMap(int peers) {
  v1::Envelope e;
  v1::MapResponse* m = e.mutable_map_response();
  m->set_seq(1);
  m->set_full(true);
  m->mutable_node()->set_id(1);
  for (int i = 0; i < peers; ++i) m->add_peers()->set_id(static_cast<uint64_t>(i + 2));
  return e;
}

TEST_CASE("client core: pre-auth key, map stream, reports", "[control][client]") {
  Recorder events;
  ControlClientCore core(Config("pak-secret"), &events);
  CHECK(core.OnChannelUp().empty());  // not started
  core.Start();
  std::vector<v1::Envelope> out = core.OnChannelUp();
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].has_register_request());
  CHECK(out[0].register_request().auth_key() == "pak-secret");
  CHECK(out[0].register_request().node_key().size() == 32);
  CHECK(out[0].register_request().hostinfo().hostname() == "laptop");
  CHECK(core.state() == ClientState::kRegistering);

  // Before streaming, a report is kept for the map request.
  CHECK_FALSE(core.SetEndpoints({"203.0.113.1:41641"}).has_value());
  out = core.OnEnvelope(Authorized());
  CHECK(events.registered == 1);
  CHECK(core.state() == ClientState::kStreaming);
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].has_map_request());
  CHECK(out[0].map_request().stream());
  CHECK(out[0].map_request().endpoints(0) == "203.0.113.1:41641");

  CHECK(core.OnEnvelope(FullMap(3)).empty());
  CHECK(events.netmaps == 1);
  CHECK(events.peers == 3);
  CHECK(core.netmap().peers().size() == 3);

  // Reports while streaming go out at once, and only when something changed.
  std::optional<v1::Envelope> report = core.SetHomeDerpRegion(900);
  REQUIRE(report.has_value());
  CHECK(report->map_request().omit_peers());
  CHECK_FALSE(report->map_request().stream());
  CHECK(report->map_request().home_derp_region() == 900);
  CHECK_FALSE(core.SetHomeDerpRegion(900).has_value());

  SECTION("a delta the netmap refuses: the client asks for a fresh stream") {
    v1::Envelope bad;
    bad.mutable_map_response()->set_seq(2);
    bad.mutable_map_response()->add_peers_removed(99);
    out = core.OnEnvelope(bad);
    REQUIRE(out.size() == 1);
    CHECK(out[0].map_request().stream());
    CHECK_FALSE(events.errors.empty());
  }
  SECTION("the channel drops: backoff grows, with jitter, up to the bound") {
    std::vector<int64_t> delays;
    for (int i = 0; i < 10; ++i) {
      std::optional<std::chrono::milliseconds> d =
          core.OnChannelDown(absl::UnavailableError("gone"));
      REQUIRE(d.has_value());
      delays.push_back(d->count());
      CHECK(core.state() == ClientState::kBackoff);
    }
    CHECK(delays[0] >= 250);
    CHECK(delays[0] <= 500);
    CHECK(delays[1] >= 500);
    CHECK(delays[9] >= 15000);
    CHECK(delays[9] <= 30000);
    CHECK(core.reconnects() == 10);
    // Back up: registration again, then a new full map.
    out = core.OnChannelUp();
    REQUIRE(out[0].has_register_request());
    core.OnEnvelope(Authorized());
    v1::Envelope again = FullMap(1);
    CHECK(core.OnEnvelope(again).empty());
    CHECK(core.netmap().peers().size() == 1);
  }
  SECTION("stopped: nothing more") {
    core.Stop();
    CHECK_FALSE(core.OnChannelDown(absl::UnavailableError("gone")).has_value());
    CHECK(core.OnChannelUp().empty());
  }
}

TEST_CASE("client core: interactive registration waits for approval", "[control][client]") {
  Recorder events;
  ControlClientCore core(Config(""), &events);
  core.Start();
  REQUIRE(core.OnChannelUp().size() == 1);
  v1::Envelope pending;
  pending.mutable_register_response()->set_auth_url("http://127.0.0.1:8080/register/abc");
  CHECK(core.OnEnvelope(pending).empty());
  CHECK(core.state() == ClientState::kAwaitingApproval);
  CHECK(events.auth_url == "http://127.0.0.1:8080/register/abc");
  // Reconnecting while waiting: a followup request.
  REQUIRE(core.OnChannelDown(absl::UnavailableError("gone")).has_value());
  std::vector<v1::Envelope> out = core.OnChannelUp();
  REQUIRE(out.size() == 1);
  CHECK(out[0].register_request().followup());
  CHECK(core.state() == ClientState::kAwaitingApproval);
  // The admin approves: the server pushes the authorized response.
  out = core.OnEnvelope(Authorized());
  CHECK(core.state() == ClientState::kStreaming);
  REQUIRE(out.size() == 1);
  CHECK(out[0].has_map_request());
}

TEST_CASE("client core: refusals stop the retries", "[control][client]") {
  Recorder events;
  ControlClientCore core(Config("pak-used"), &events);
  core.Start();
  core.OnChannelUp();
  SECTION("a refused registration") {
    v1::Envelope refused;
    refused.mutable_register_response()->set_error("the pre-auth key was already used");
    core.OnEnvelope(refused);
  }
  SECTION("an expired node key") {
    v1::Envelope expired;
    expired.mutable_register_response()->set_node_key_expired(true);
    core.OnEnvelope(expired);
  }
  SECTION("the server's unauthorized error") {
    v1::Envelope err;
    err.mutable_error()->set_code("unauthorized");
    err.mutable_error()->set_message("no such machine");
    core.OnEnvelope(err);
  }
  CHECK(core.state() == ClientState::kNeedsLogin);
  CHECK_FALSE(core.OnChannelDown(absl::UnavailableError("closed")).has_value());
  CHECK_FALSE(core.last_error().ok());
  // A new key and a new start.
  core.SetAuthKey("pak-fresh");
  core.Start();
  std::vector<v1::Envelope> out = core.OnChannelUp();
  REQUIRE(out.size() == 1);
  CHECK(out[0].register_request().auth_key() == "pak-fresh");
}

}  // namespace
}  // namespace meshvpn::control
