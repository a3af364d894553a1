// Response helpers.
#include "meshvpn/http/response.h"

#include "absl/strings/str_format.h"

namespace meshvpn::http {

Response Response::Text(int status, std::string body, std::string_view content_type) {
  Response r;
  r.status = status;
  r.headers.Add("Content-Type", std::string(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::Error(int status) {
  return Text(status, absl::StrFormat("%d %s\n", status, StatusText(status)));
}

}  // namespace meshvpn::http
