// ParseError: why a request or response could not be parsed, and the status a server answers.
#pragma once

#include <string_view>

namespace meshvpn::http {

enum class ParseError {
  kNone,
  kMalformed,       // http_parser rejected the bytes (400)
  kHeaderTooLarge,  // head (or trailers) over max_header_bytes (431)
  kTooManyHeaders,  // over max_header_count fields (431)
  kTargetTooLong,   // request-target over max_target_bytes (414)
  kBodyTooLarge,    // body (or its chunk framing) over max_body_bytes (413)
  kTruncated,       // the peer closed in the middle of a message
};

std::string_view ToString(ParseError error);
// The status a server sends for `error` (400, 413, 414 or 431).
int StatusFor(ParseError error);

// What one Parse call ended with.
enum class ParseEvent {
  kNeedMore,  // every byte was consumed; the message is not complete yet
  kMessage,   // a complete message ends at `consumed`; the parser waits for Resume()
  kUpgrade,   // a message switching protocols ends at `consumed`: the rest is not HTTP
  kError,     // error() says why; the connection cannot continue
};

std::string_view ToString(ParseEvent event);

struct ParseResult {
  size_t consumed = 0;
  ParseEvent event = ParseEvent::kNeedMore;
};

}  // namespace meshvpn::http
