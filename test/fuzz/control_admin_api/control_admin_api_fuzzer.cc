// Fuzzes AdminApi::Handle. Input: byte 0 picks where the request comes from (bit 0: the admin
// socket) and whether it carries the valid API key (bit 1); then "METHOD TARGET\n" and the body.
// Checks: every answer is a known status with a JSON body; without the socket or the key the
// answer is 401 (or the seed's list for a loopback GET /api/machines) and nothing changes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "meshvpn/control/admin_api.h"
#include "nlohmann/json.hpp"

namespace {

using namespace meshvpn;
using namespace meshvpn::control;

constexpr std::string_view kGoodKey = "mapi_0123456789ab_0123456789abcdef0123456789abcdef01234567";

// A tailnet of one user and one node; counts every call that would change something.
class FakeAdmin final : public ControlAdmin {
 public:
  int changes = 0;

  absl::StatusOr<UserRecord> CreateUser(std::string_view name, std::string_view) override {
    ++changes;
    if (name.empty()) return absl::InvalidArgumentError("empty");
    return User();
  }
  absl::StatusOr<std::vector<UserRecord>> ListUsers() override {
    return std::vector<UserRecord>{User()};
  }
  absl::Status DeleteUser(std::string_view name) override {
    ++changes;
    return name == "alice" ? absl::FailedPreconditionError("has nodes")
                           : absl::NotFoundError("no user");
  }
  absl::StatusOr<CreatedKey> CreatePreAuthKey(std::string_view user, bool, bool,
                                              std::chrono::milliseconds,
                                              const std::vector<std::string>&) override {
    ++changes;
    if (user != "alice") return absl::NotFoundError("no user");
    CreatedKey k;
    k.key = "mpak_0123456789ab_0123456789abcdef0123456789abcdef01234567";
    k.pre_auth.prefix = "mpak_0123456789ab";
    return k;
  }
  absl::StatusOr<std::vector<PreAuthKeyRecord>> ListPreAuthKeys(std::string_view) override {
    return std::vector<PreAuthKeyRecord>(1);
  }
  absl::Status ExpirePreAuthKey(std::string_view) override {
    ++changes;
    return absl::NotFoundError("no key");
  }
  std::vector<NodeStatus> ListNodes() const override { return {Node()}; }
  absl::StatusOr<NodeStatus> GetNode(uint64_t id) const override {
    if (id != 1) return absl::NotFoundError("no node");
    return Node();
  }
  std::vector<PendingRegistration> ListPending() const override {
    return {PendingRegistration{.id = "abc", .hostname = "h"}};
  }
  absl::StatusOr<NodeRecord> ApproveRegistration(std::string_view, std::string_view) override {
    ++changes;
    return Node().node;
  }
  absl::StatusOr<NodeRecord> ExpireNode(uint64_t id) override {
    ++changes;
    return GetNode(id).status().ok() ? absl::StatusOr<NodeRecord>(Node().node)
                                     : absl::NotFoundError("no node");
  }
  absl::Status DeleteNode(uint64_t) override {
    ++changes;
    return absl::OkStatus();
  }
  absl::StatusOr<NodeRecord> RenameNode(uint64_t, std::string_view name) override {
    ++changes;
    if (name.empty()) return absl::InvalidArgumentError("empty");
    return Node().node;
  }
  absl::StatusOr<CreatedKey> CreateApiKey(std::chrono::milliseconds) override {
    ++changes;
    CreatedKey k;
    k.key = std::string(kGoodKey);
    return k;
  }
  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys() override {
    return std::vector<ApiKeyRecord>(1);
  }
  absl::Status ExpireApiKey(std::string_view) override {
    ++changes;
    return absl::OkStatus();
  }
  absl::Status AuthenticateApiKey(std::string_view key) override {
    return key == kGoodKey ? absl::OkStatus() : absl::UnauthenticatedError("bad key");
  }
  const std::string& base_domain() const override { return domain_; }

 private:
  static UserRecord User() { return UserRecord{.id = 1, .name = "alice"}; }
  static NodeStatus Node() {
    NodeStatus n;
    n.node.id = 1;
    n.node.given_name = "laptop";
    n.node.ipv4 = "100.64.0.1";
    n.node.endpoints = {"192.0.2.1:41641"};
    n.user_name = "alice";
    return n;
  }
  std::string domain_ = "mesh.internal";
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool from_socket = (data[0] & 1) != 0;
  const bool with_key = (data[0] & 2) != 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t eol = rest.find('\n');
  std::string_view line = rest.substr(0, eol);
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;

  http::Request request;
  request.method = std::string(line.substr(0, space));
  request.target = std::string(line.substr(space + 1));
  if (!http::SplitTarget(request.target, &request.path, &request.query)) return 0;
  if (eol != std::string_view::npos) request.body = std::string(rest.substr(eol + 1));
  request.remote_address = from_socket ? "unix:" : "192.0.2.9:5555";
  if (with_key) request.headers.Add("Authorization", "Bearer " + std::string(kGoodKey));

  FakeAdmin admin;
  AdminApi api(&admin);
  http::Response response = api.Handle(request);
  switch (response.status) {
    case 200:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 409:
    case 500:
    case 503:
      break;
    default:
      std::abort();
  }
  if (nlohmann::json::parse(response.body, nullptr, false).is_discarded()) std::abort();
  if (!from_socket && !with_key && (response.status != 401 || admin.changes != 0)) std::abort();
  return 0;
}
