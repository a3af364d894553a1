// ResponseParser: the sans-I/O wrapper around http_parser for responses, with the body streamed
// to a sink as it arrives (Content-Length, chunked, or until the connection closes).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "meshvpn/http/limits.h"
#include "meshvpn/http/parse_error.h"
#include "meshvpn/http/response.h"

namespace meshvpn::http {

// Receives a response as the parser sees it. Called from inside Parse(); the string views point
// into the caller's data and are valid only during the call.
class ResponseParserSink {
 public:
  virtual ~ResponseParserSink() = default;
  virtual void OnResponseHead(ResponseHead&& head) = 0;
  virtual void OnResponseBody(std::string_view data) = 0;
  virtual void OnResponseComplete() = 0;
};

// Interim 1xx responses (100 Continue, 103) are skipped; 101 ends parsing with kUpgrade. Body
// size is not limited here (a stream may be endless); the sink decides what to keep. The head
// is limited by ParserLimits.
class ResponseParser {
 public:
  ResponseParser(ParserLimits limits, ResponseParserSink* sink);
  ~ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // The next response answers a HEAD request: it has no body whatever its fields say.
  void ExpectNoBody();
  ParseResult Parse(std::string_view data);
  // The peer closed: completes a close-delimited body (kMessage), or kError (kTruncated) in the
  // middle of a response, or kNeedMore between responses.
  ParseEvent Finish();
  // After kMessage: parse the next response.
  void Resume();
  bool in_message() const;
  ParseError error() const;
  std::string_view error_detail() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshvpn::http
