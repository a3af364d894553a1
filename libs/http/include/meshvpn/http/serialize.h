// Writing request and response heads: start line, fields, framing, with fields validated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meshvpn/http/headers.h"
#include "meshvpn/http/request.h"

namespace meshvpn::http {

// How a message body is framed on the wire.
enum class Framing {
  kNone,           // no body and no length field (1xx, 204, 304, 101)
  kContentLength,  // Content-Length: n
  kChunked,        // Transfer-Encoding: chunked
  kUntilClose,     // the body ends when the connection closes (HTTP/1.0 streaming)
};

// What the connection decides about framing and persistence; the rest comes from the handler.
struct HeadFraming {
  Framing framing = Framing::kContentLength;
  uint64_t content_length = 0;
  // Adds "Connection: close"; otherwise, for an HTTP/1.0 peer, "Connection: keep-alive".
  bool close = false;
  bool http10_peer = false;
  // For 101: "Connection: Upgrade" (and the handler's Upgrade field is kept).
  bool upgrade = false;
};

// Appends "HTTP/1.1 <status> <reason>\r\n", the valid fields of `headers` except the framing
// fields (Content-Length, Transfer-Encoding, Connection), the framing fields from `framing`,
// and the blank line. Returns how many fields were dropped as invalid.
size_t AppendResponseHead(int status, std::string_view reason, const Headers& headers,
                          const HeadFraming& framing, std::string* out);

// Appends "<METHOD> <target> HTTP/1.1\r\n", Host (unless `request` has one), the valid fields,
// Content-Length when there is a body (or the method is POST/PUT/PATCH) and the blank line, then
// the body. Returns how many fields were dropped as invalid.
size_t AppendRequest(const Request& request, std::string_view host, std::string* out);

}  // namespace meshvpn::http
