// The DERP server's libuv driver: upgrades /derp requests, moves bytes between each upgraded
// stream and the core, batches writes per loop turn, and runs the core's timers.
#include "meshvpn/derp/uv_server.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::derp {
namespace {

// "1.2.3.4:5678" or "[2001:db8::1]:443" (http's remote_address) as a PeerPresent endpoint.
PeerEndpoint ParseRemote(std::string_view text) {
  PeerEndpoint e;
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return e;
  std::string host(text.substr(0, colon));
  uint16_t port = 0;
  const std::string_view port_text = text.substr(colon + 1);
  std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (inet_pton(AF_INET6, host.c_str(), e.ip.data()) != 1) return PeerEndpoint{};
  } else {
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) != 1) return PeerEndpoint{};
    return PeerEndpoint::FromIpv4(ntohl(v4.s_addr), port);
  }
  e.port = port;
  return e;
}

bool HeaderIs(const http::Request& request, std::string_view name, std::string_view value) {
  auto v = request.headers.Get(name);
  return v && absl::EqualsIgnoreCase(absl::string_view(v->data(), v->size()),
                                     absl::string_view(value.data(), value.size()));
}

}  // namespace

// One upgraded connection: the stream and the handler that feeds the core.
struct UvServer::Link final : http::StreamHandler {
  UvServer* server = nullptr;
  ConnId id = 0;
  http::UpgradedStream stream;
  std::string pending;  // taken from the core but refused by the stream (rare)
  bool dirty = false;

  void OnStreamData(ByteSpan data) override { server->core_.OnData(id, data); }
  void OnStreamClosed() override {
    server->core_.OnConnectionClosed(id);
    server->Bury(id);
  }
  void OnStreamWritable() override { server->Flush(this); }
};

absl::StatusOr<std::unique_ptr<UvServer>> UvServer::Create(uv_loop_t* loop,
                                                           UvServerOptions options) {
  static const RealClock real_clock;
  const Clock* clock = options.clock != nullptr ? options.clock : &real_clock;
  std::unique_ptr<UvServer> server(new UvServer(loop, std::move(options), clock));
  auto check = UvCheck::Create(loop, uv_check_init);
  if (!check.ok()) return check.status();
  server->check_ = std::move(*check);
  server->check_.set_owner(server.get());
  uv_check_start(server->check_.get(), &UvServer::OnCheck);
  uv_unref(server->check_.base());  // it must not keep the loop alive on its own
  auto tick = UvTimer::Create(loop, uv_timer_init);
  if (!tick.ok()) return tick.status();
  server->tick_ = std::move(*tick);
  server->tick_.set_owner(server.get());
  uv_timer_start(server->tick_.get(), &UvServer::OnTimer, 1000, 1000);
  uv_unref(server->tick_.base());
  return server;
}

UvServer::UvServer(uv_loop_t* loop, UvServerOptions options, const Clock* clock)
    : loop_(loop),
      options_(std::move(options)),
      clock_(clock),
      core_(std::move(options_.core), this, clock) {}

UvServer::~UvServer() {
  core_.set_observer(nullptr);
  for (auto& [id, link] : links_) link->stream.set_handler(nullptr);
  links_.clear();
  graveyard_.clear();
}

void UvServer::OnRequest(http::Request& request, http::ResponseWriter writer) {
  if (request.path == "/derp/probe" || request.path == "/derp/latency-check") {
    // derphttp's ProbeHandler: an empty 200 to GET or HEAD, with CORS for browsers.
    if (request.method != "GET" && request.method != "HEAD") {
      writer.Send(http::Response::Text(405, "bogus probe method\n"));
      return;
    }
    http::Response response = http::Response::Text(200, "");
    response.headers.Set("Access-Control-Allow-Origin", "*");
    writer.Send(std::move(response));
    return;
  }
  if (request.path == "/generate_204") {
    // Captive-portal check (derper's ServeNoContent): echo a well-formed challenge.
    http::Response response;
    response.status = 204;
    if (auto challenge = request.headers.Get("X-Tailscale-Challenge");
        challenge && challenge->size() <= 64 &&
        std::all_of(challenge->begin(), challenge->end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                 c == '_' || c == ':';
        })) {
      response.headers.Set("X-Tailscale-Response", "response " + std::string(*challenge));
    }
    response.headers.Set("Cache-Control",
                         "no-cache, no-store, must-revalidate, no-transform, max-age=0");
    writer.Send(std::move(response));
    return;
  }
  if (request.path == "/derp") {
    Upgrade(request, std::move(writer));
    return;
  }
  if (options_.fallback != nullptr) {
    options_.fallback->OnRequest(request, std::move(writer));
    return;
  }
  writer.Send(http::Response::Text(404, "not found\n"));
}

void UvServer::Upgrade(http::Request& request, http::ResponseWriter writer) {
  if (!request.upgrade || !HeaderIs(request, "Upgrade", "derp")) {
    // derphttp: anything but an Upgrade is told so (426). WebSocket is not served here.
    writer.Send(http::Response::Text(426, "DERP requires connection upgrade\n"));
    return;
  }
  auto link = std::make_unique<Link>();
  link->server = this;
  link->id = next_id_++;
  http::Headers headers{{"Upgrade", "DERP"},
                        {"Derp-Version", std::to_string(kProtocolVersion)},
                        {"Derp-Public-Key", core_.public_key().ToHex()}};
  std::string buffered;
  link->stream = writer.AcceptUpgrade(std::move(headers), link.get(), &buffered);
  if (!link->stream.alive()) return;
  Link* raw = link.get();
  links_.emplace(raw->id, std::move(link));
  const bool not_ideal = request.headers.Get(kIdealNodeHeader).has_value();
  core_.OnConnectionOpened(raw->id, ParseRemote(request.remote_address), not_ideal);
  if (!buffered.empty()) core_.OnData(raw->id, AsBytes(buffered));
}

void UvServer::WantWrite(ConnId conn) {
  auto it = links_.find(conn);
  if (it == links_.end()) return;
  Link* link = it->second.get();
  if (link->dirty) {
    Flush(link);  // asked again before the turn ended: its queue is full, write now
    return;
  }
  link->dirty = true;
  dirty_.push_back(conn);
}

void UvServer::Flush(Link* link) {
  link->dirty = false;
  http::UpgradedStream& stream = link->stream;
  if (!stream.alive()) return;
  if (!link->pending.empty()) {
    if (!stream.Write(AsBytes(link->pending))) return;  // OnStreamWritable comes back here
    link->pending.clear();
  }
  // Take whole frames while the stream has room (its bound is 1 MiB; stay well below it).
  const size_t high_water = 4 * options_.write_budget;
  bool more = true;
  while (more && stream.buffered_output() < high_water) {
    scratch_.clear();
    more = core_.TakeOutput(link->id, &scratch_, options_.write_budget);
    if (scratch_.empty()) break;
    if (!stream.Write(AsBytes(scratch_))) {
      link->pending = scratch_;
      return;
    }
  }
  // What is left waits in the core's bounded queues until OnStreamWritable.
}

void UvServer::FlushDirty() {
  if (dirty_.empty()) return;
  std::vector<ConnId> dirty;
  dirty.swap(dirty_);
  for (ConnId id : dirty) {
    auto it = links_.find(id);
    if (it != links_.end() && it->second->dirty) Flush(it->second.get());
  }
  if (dirty_.capacity() < dirty.capacity()) {
    dirty.clear();
    dirty_.swap(dirty);
  }
}

void UvServer::CloseConnection(ConnId conn) {
  auto it = links_.find(conn);
  if (it == links_.end()) return;
  it->second->stream.Close();  // sends what is buffered, then closes; no handler calls follow
  Bury(conn);
}

void UvServer::Bury(ConnId conn) {
  auto it = links_.find(conn);
  if (it == links_.end()) return;
  graveyard_.push_back(std::move(it->second));
  links_.erase(it);
}

void UvServer::CloseAll() {
  std::vector<ConnId> ids;
  ids.reserve(links_.size());
  for (const auto& [id, link] : links_) ids.push_back(id);
  for (ConnId id : ids) {
    auto it = links_.find(id);
    if (it == links_.end()) continue;
    Flush(it->second.get());
    core_.OnConnectionClosed(id);
    CloseConnection(id);
  }
}

void UvServer::OnTick() {
  core_.HandleExpiry(clock_->Now());
  FlushDirty();
  graveyard_.clear();
}

void UvServer::OnCheck(uv_check_t* handle) {
  auto* self = static_cast<UvServer*>(handle->data);
  if (self == nullptr) return;
  self->FlushDirty();
  self->graveyard_.clear();
}

void UvServer::OnTimer(uv_timer_t* handle) {
  auto* self = static_cast<UvServer*>(handle->data);
  if (self != nullptr) self->OnTick();
}

}  // namespace meshvpn::derp
