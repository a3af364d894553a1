// JSON bodies through nlohmann::json (Debian's nlohmann-json3-dev): responses, request parsing,
// error bodies; no exceptions escape.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/http/request.h"
#include "meshvpn/http/response.h"
#include "nlohmann/json.hpp"

namespace meshvpn::http {

inline constexpr std::string_view kJsonContentType = "application/json";

// `value` serialised compactly (invalid UTF-8 in strings is replaced, not thrown) as
// application/json.
Response JsonResponse(int status, const nlohmann::json& value);
// {"error": "<message>", "status": <status>}.
Response JsonError(int status, std::string_view message);
// Parses the request body. InvalidArgument (with the parser's byte offset, never the body) if it
// is not JSON; an empty body is an error too.
absl::StatusOr<nlohmann::json> ParseJsonBody(const Request& request);

}  // namespace meshvpn::http
