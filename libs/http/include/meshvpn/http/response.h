// Response and ResponseHead: what a server handler sends and what a client receives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meshvpn/http/headers.h"
#include "meshvpn/http/messages.h"

namespace meshvpn::http {

// A whole response. The server computes Content-Length (and drops any Content-Length,
// Transfer-Encoding or Connection field set here: framing is the connection's job).
struct Response {
  int status = kStatusOk;
  std::string reason;  // empty: the standard text for `status`
  Headers headers;
  std::string body;

  // A text/plain response.
  static Response Text(int status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
  // The library's own error bodies: "<status> <reason>\n" as text/plain.
  static Response Error(int status);
};

// The head of a response as the client parsed it.
struct ResponseHead {
  int status = 0;
  std::string reason;
  Headers headers;
  int version_major = 1;
  int version_minor = 1;
  // Content-Length, if the response had one.
  std::optional<uint64_t> content_length;
  bool chunked = false;
  // The server lets the connection be reused after this response.
  bool keep_alive = false;
};

}  // namespace meshvpn::http
