// Request: one HTTP/1.1 request as the server receives it or the client sends it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "meshvpn/http/headers.h"

namespace meshvpn::http {

struct Request {
  std::string method = "GET";  // as sent: "GET", "POST", ...
  std::string target = "/";    // the request-target as sent: "/a/b?x=1"
  std::string path;            // target up to '?', not percent-decoded ("/a/b")
  std::string query;           // after '?', without it ("x=1"); empty if none
  Headers headers;
  std::string body;  // the decoded body (chunked framing removed)
  int version_major = 1;
  int version_minor = 1;
  // Server side, from http_parser: the client may send another request on this connection.
  bool keep_alive = true;
  // Server side: "Upgrade" with "Connection: upgrade" (or CONNECT); see ResponseWriter.
  bool upgrade = false;
  // Server side: the peer's "ADDR:PORT" as accepted ("203.0.113.5:41234", "[2001:db8::1]:443"),
  // empty if the driver did not say. A client of a Unix-domain socket (UvServerOptions::listen
  // "unix:PATH") is "unix:" followed by its own bound path, which clients normally lack: so
  // "unix:" (see from_unix_socket()).
  std::string remote_address;

  // Server side: the request came over a Unix-domain socket (remote_address starts "unix:"), so
  // from a local process that could open the socket file (mode 0600: the server's user or root).
  bool from_unix_socket() const { return remote_address.starts_with("unix:"); }

  // The first query parameter called `name`, percent-decoded ('+' is a space), or nullopt.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

// Splits a request-target into path and query (origin form "/p?q", absolute form
// "http://h/p?q", asterisk form "*"). False if http_parser's URL parser rejects it.
bool SplitTarget(std::string_view target, std::string* path, std::string* query);

// Percent-decodes `in` (and '+' as a space when `plus_is_space`); nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace meshvpn::http
