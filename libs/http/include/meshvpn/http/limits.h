// ServerLimits and ClientLimits: the bounds on size and time that keep a connection's memory and
// lifetime bounded whatever the peer sends (defaults in messages.h, rationale in docs/http.md).
#pragma once

#include <cstddef>

#include "meshvpn/base/clock.h"
#include "meshvpn/http/messages.h"

namespace meshvpn::http {

// Parser limits, shared by requests and responses.
struct ParserLimits {
  size_t max_header_bytes = kDefaultMaxHeaderBytes;  // start line + header lines + trailers
  size_t max_header_count = kDefaultMaxHeaderCount;
  size_t max_target_bytes = kDefaultMaxTargetBytes;     // requests only
  size_t max_body_bytes = kDefaultMaxRequestBodyBytes;  // bodies that are buffered
};

struct ServerLimits {
  ParserLimits parser;
  size_t max_buffered_input = kDefaultMaxBufferedInput;
  size_t max_buffered_output = kDefaultMaxBufferedOutput;
  // Zero disables a timeout.
  Duration header_timeout = kDefaultHeaderTimeout;
  Duration body_timeout = kDefaultBodyTimeout;
  Duration idle_timeout = kDefaultIdleTimeout;
  Duration send_timeout = kDefaultSendTimeout;
};

struct ClientLimits {
  ParserLimits parser{.max_body_bytes = kDefaultMaxResponseBodyBytes};
  size_t max_buffered_output = kDefaultMaxBufferedOutput;
  Duration response_timeout = kDefaultResponseTimeout;  // request queued -> response head
  // No byte of a response body for this long (a stream's keepalives must come more often).
  // Zero (the default) waits for ever: long-polls and event streams set their own.
  Duration body_idle_timeout{0};
  Duration idle_timeout = kDefaultIdleTimeout;  // kept-alive, no request in flight
  Duration send_timeout = kDefaultSendTimeout;
};

}  // namespace meshvpn::http
