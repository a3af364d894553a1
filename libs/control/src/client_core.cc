// ControlClientCore: registration, the map stream, reports and reconnection, without I/O.
#include "meshvpn/control/client_core.h"

#include "absl/strings/str_cat.h"
#include "meshvpn/control/protocol.h"

namespace meshvpn::control {
namespace {

std::string KeyBytes(const x25519::PublicKey& key) {
  const auto bytes = key.bytes();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Errors after which retrying with the same settings cannot help.
bool IsTerminal(std::string_view code) {
  return code == "unauthorized" || code == "expired" || code == "version" || code == "bad_auth_key";
}

}  // namespace

std::string_view ToString(ClientState state) {
  switch (state) {
    case ClientState::kStopped:
      return "stopped";
    case ClientState::kConnecting:
      return "connecting";
    case ClientState::kRegistering:
      return "registering";
    case ClientState::kAwaitingApproval:
      return "awaiting-approval";
    case ClientState::kStreaming:
      return "streaming";
    case ClientState::kBackoff:
      return "backoff";
    case ClientState::kNeedsLogin:
      return "needs-login";
  }
  return "unknown";
}

ControlClientCore::ControlClientCore(ControlClientConfig config, ControlClientEvents* events)
    : config_(std::move(config)),
      events_(events),
      next_backoff_(config_.backoff_initial),
      rng_(config_.seed != 0 ? config_.seed : std::random_device{}()) {}

void ControlClientCore::SetState(ClientState s) {
  if (s == state_) return;
  state_ = s;
  if (events_ != nullptr) events_->OnStateChanged(s);
}

void ControlClientCore::Start() {
  next_backoff_ = config_.backoff_initial;
  SetState(ClientState::kConnecting);
}

void ControlClientCore::Stop() { SetState(ClientState::kStopped); }

v1::Envelope ControlClientCore::RegisterRequest(bool followup) const {
  v1::Envelope e;
  v1::RegisterRequest* r = e.mutable_register_request();
  r->set_version(kCapabilityVersion);
  r->set_node_key(KeyBytes(config_.node_key));
  if (!config_.old_node_key.IsZero()) r->set_old_node_key(KeyBytes(config_.old_node_key));
  r->set_auth_key(config_.auth_key);
  *r->mutable_hostinfo() = config_.hostinfo;
  r->set_ephemeral(config_.ephemeral);
  r->set_followup(followup);
  return e;
}

v1::Envelope ControlClientCore::MapRequest(bool stream) const {
  v1::Envelope e;
  v1::MapRequest* m = e.mutable_map_request();
  m->set_version(kCapabilityVersion);
  m->set_node_key(KeyBytes(config_.node_key));
  if (!config_.disco_key.IsZero()) m->set_disco_key(KeyBytes(config_.disco_key));
  for (const std::string& ep : endpoints_) m->add_endpoints(ep);
  m->set_home_derp_region(home_derp_region_);
  *m->mutable_hostinfo() = config_.hostinfo;
  m->set_stream(stream);
  m->set_omit_peers(!stream);
  return e;
}

std::vector<v1::Envelope> ControlClientCore::OnChannelUp() {
  if (state_ == ClientState::kStopped || state_ == ClientState::kNeedsLogin) return {};
  SetState(waiting_for_approval_ ? ClientState::kAwaitingApproval : ClientState::kRegistering);
  return {RegisterRequest(waiting_for_approval_)};
}

std::vector<v1::Envelope> ControlClientCore::OnEnvelope(const v1::Envelope& envelope) {
  if (state_ == ClientState::kStopped || state_ == ClientState::kNeedsLogin) return {};
  switch (envelope.body_case()) {
    case v1::Envelope::kRegisterResponse:
      return OnRegisterResponse(envelope.register_response());
    case v1::Envelope::kMapResponse:
      return OnMapResponse(envelope.map_response());
    case v1::Envelope::kError: {
      const v1::ErrorResponse& err = envelope.error();
      last_error_ =
          absl::UnavailableError(absl::StrCat("control server: ", err.code(), ": ", err.message()));
      if (events_ != nullptr) events_->OnError(last_error_);
      if (IsTerminal(err.code())) SetState(ClientState::kNeedsLogin);
      return {};
    }
    default:
      last_error_ = absl::InvalidArgumentError("control server sent a client's message");
      if (events_ != nullptr) events_->OnError(last_error_);
      return {};
  }
}

std::vector<v1::Envelope> ControlClientCore::OnRegisterResponse(const v1::RegisterResponse& r) {
  if (!r.error().empty()) {
    last_error_ = absl::PermissionDeniedError(absl::StrCat("registration refused: ", r.error()));
    if (events_ != nullptr) events_->OnError(last_error_);
    waiting_for_approval_ = false;
    SetState(ClientState::kNeedsLogin);
    return {};
  }
  if (r.node_key_expired()) {
    last_error_ = absl::PermissionDeniedError("the node key has expired: log in again");
    if (events_ != nullptr) events_->OnError(last_error_);
    SetState(ClientState::kNeedsLogin);
    return {};
  }
  if (!r.machine_authorized()) {
    if (!r.auth_url().empty()) {
      waiting_for_approval_ = true;
      SetState(ClientState::kAwaitingApproval);
      if (events_ != nullptr) events_->OnAuthUrl(r.auth_url());
    }
    return {};
  }
  waiting_for_approval_ = false;
  next_backoff_ = config_.backoff_initial;  // a working channel resets the backoff
  if (events_ != nullptr) events_->OnRegistered(r);
  netmap_.Reset();
  SetState(ClientState::kStreaming);
  return {MapRequest(/*stream=*/true)};
}

std::vector<v1::Envelope> ControlClientCore::OnMapResponse(const v1::MapResponse& r) {
  if (state_ != ClientState::kStreaming) {
    last_error_ = absl::FailedPreconditionError("a map before registration completed");
    if (events_ != nullptr) events_->OnError(last_error_);
    return {};
  }
  ++map_messages_;
  NetmapChange change;
  if (config_.keep_netmap) {
    if (absl::Status s = netmap_.Apply(r, &change); !s.ok()) {
      last_error_ = s;
      if (events_ != nullptr) events_->OnError(s);
      // Out of step with the server: a fresh stream starts with a full map.
      netmap_.Reset();
      return {MapRequest(/*stream=*/true)};
    }
  } else {
    change.full = r.full();
    change.keep_alive = r.keep_alive();
  }
  if (events_ != nullptr) events_->OnNetmap(netmap_, change);
  return {};
}

std::optional<std::chrono::milliseconds> ControlClientCore::OnChannelDown(const absl::Status& why) {
  if (state_ == ClientState::kStopped || state_ == ClientState::kNeedsLogin) return std::nullopt;
  last_error_ = why;
  if (events_ != nullptr) events_->OnError(why);
  ++reconnects_;
  SetState(ClientState::kBackoff);
  const auto base = next_backoff_;
  next_backoff_ = std::min(config_.backoff_max, next_backoff_ * 2);
  std::uniform_int_distribution<int64_t> jitter(base.count() / 2, base.count());
  return std::chrono::milliseconds(jitter(rng_));
}

std::optional<v1::Envelope> ControlClientCore::ReportIfStreaming() {
  if (state_ != ClientState::kStreaming) return std::nullopt;
  return MapRequest(/*stream=*/false);
}

std::optional<v1::Envelope> ControlClientCore::SetEndpoints(std::vector<std::string> endpoints) {
  if (endpoints == endpoints_) return std::nullopt;
  endpoints_ = std::move(endpoints);
  return ReportIfStreaming();
}

std::optional<v1::Envelope> ControlClientCore::SetHomeDerpRegion(int32_t region) {
  if (region == home_derp_region_) return std::nullopt;
  home_derp_region_ = region;
  return ReportIfStreaming();
}

std::optional<v1::Envelope> ControlClientCore::SetDiscoKey(const x25519::PublicKey& key) {
  if (key == config_.disco_key) return std::nullopt;
  config_.disco_key = key;
  return ReportIfStreaming();
}

}  // namespace meshvpn::control
