// JSON responses, JSON error bodies and request-body parsing over nlohmann::json, without letting
// an exception or a byte of the body escape into a Status.
#include "meshvpn/http/json.h"

#include <string>

#include "absl/strings/str_format.h"

namespace meshvpn::http {

Response JsonResponse(int status, const nlohmann::json& value) {
  Response response;
  response.status = status;
  response.headers.Add("Content-Type", std::string(kJsonContentType));
  response.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Response JsonError(int status, std::string_view message) {
  nlohmann::json value = nlohmann::json::object();
  value["error"] = std::string(message);
  value["status"] = status;
  return JsonResponse(status, value);
}

absl::StatusOr<nlohmann::json> ParseJsonBody(const Request& request) {
  if (request.body.empty())
    return absl::InvalidArgumentError("the request body is empty, not JSON");
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the body ("last read: ..."): report only where it went wrong. e.byte
    // counts from 1; the offset counts from 0 (the body's size when it ended too soon).
    const size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    return absl::InvalidArgumentError(
        absl::StrFormat("the request body is not valid JSON (error at offset %d)", offset));
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrFormat("the request body is not valid JSON (error %d)", e.id));
  }
}

}  // namespace meshvpn::http
