// AdminApi: the coordination server's REST API (Headscale's shape: /api/v1/user, /preauthkey,
// /node, /apikey, bodies in protobuf's JSON mapping of api.proto) and the seed's GET
// /api/machines, over ControlAdmin's operations. Every call needs an API key
// ("Authorization: Bearer mapi_..."), except from the local admin socket, whose file mode
// (0600) is the check, as Headscale's is.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/control/control_admin.h"
#include "meshvpn/control/v1/api.pb.h"
#include "meshvpn/http/response_writer.h"

namespace meshvpn::control {

// "90s", "15m", "24h", "7d", "1h30m"; "" and "0" are zero (never). InvalidArgument otherwise.
absl::StatusOr<std::chrono::milliseconds> ParseAdminDuration(std::string_view text);
// RFC 3339 in UTC to the second ("2026-12-07T11:40:00Z"); "" for 0.
std::string FormatUnixMs(int64_t ms);

// The API's views of the records (shared with the CLI's -o json).
v1::ApiUser ToApi(const UserRecord& user);
v1::ApiNode ToApi(const NodeStatus& node, std::string_view base_domain);
v1::ApiPreAuthKey ToApi(const PreAuthKeyRecord& key, std::string_view user_name);
v1::ApiKey ToApi(const ApiKeyRecord& key);
v1::ApiPendingRegistration ToApi(const PendingRegistration& pending);

struct AdminApiStats {
  uint64_t requests = 0;
  uint64_t unauthorized = 0;  // answered 401
  uint64_t errors = 0;        // 4xx/5xx other than 401
};

class AdminApi final : public http::RequestHandler {
 public:
  // `server` outlives the API.
  explicit AdminApi(ControlAdmin* server) : server_(server) {}

  // Paths under /api/; anything else is 404.
  void OnRequest(http::Request& request, http::ResponseWriter writer) override;
  // The answer to one request, without a connection (OnRequest sends it; tests and the fuzzer
  // call it directly).
  http::Response Handle(http::Request& request);

  const AdminApiStats& stats() const { return stats_; }

 private:
  http::Response Route(http::Request& request);
  http::Response Users(http::Request& request, std::string_view rest);
  http::Response PreAuthKeys(http::Request& request, std::string_view rest);
  http::Response Nodes(http::Request& request, std::string_view rest);
  http::Response ApiKeys(http::Request& request, std::string_view rest);
  http::Response Policy(http::Request& request, std::string_view rest);
  http::Response Machines();
  absl::Status Authorize(const http::Request& request, bool local_read_allowed);

  ControlAdmin* server_;
  AdminApiStats stats_;
};

}  // namespace meshvpn::control
