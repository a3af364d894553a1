// RequestParser: the sans-I/O wrapper around http_parser (Debian's libhttp-parser 2.9) that turns
// bytes into Requests, one at a time, within ParserLimits.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "meshvpn/http/limits.h"
#include "meshvpn/http/parse_error.h"
#include "meshvpn/http/request.h"

namespace meshvpn::http {

// Feeds bytes to http_parser and builds the Request from its callbacks. Chunked bodies are
// decoded by http_parser; trailer fields are counted against max_header_bytes and dropped (a
// trailer must not add a header after the handler's checks). After each complete request the
// parser pauses: the caller takes the request, answers it, then calls Resume() to parse the
// next one, so pipelined requests are handled strictly in order.
//
// Memory per parser: http_parser's 32 bytes plus the request being built, which the limits
// bound (head <= max_header_bytes, body <= max_body_bytes). The raw bytes of one message,
// chunk-size lines and extensions included, are bounded by max_header_bytes + 2 x max_body_bytes
// (kBodyTooLarge beyond), so endless chunks or extensions end in a 413.
class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {});
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses from the start of `data` until a request is complete, an error, or the end of data.
  ParseResult Parse(std::string_view data);
  // The peer closed its side: kError (kTruncated) if a request was in progress, else kNeedMore.
  ParseEvent Finish();
  // The request completed by the last kMessage / kUpgrade (moved out; valid once).
  Request TakeRequest();
  // After kMessage: parse the next request.
  void Resume();
  // Forgets everything (after an Upgrade the handler refused, the next bytes are HTTP again).
  void Reset();

  // Some byte of a request has been seen and the request is not complete.
  bool in_message() const;
  // The head of the current request has been parsed (request() has method, target, headers).
  bool head_complete() const;
  // head_complete() and the request carries "Expect: 100-continue" and a body.
  bool expects_continue() const;
  // The request so far (valid fields once head_complete()).
  const Request& request() const;
  ParseError error() const;
  // http_parser's name for the last error ("HPE_INVALID_METHOD"); never echoes input.
  std::string_view error_detail() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshvpn::http
