// HeadFields: the header-field bookkeeping both http_parser wrappers share (private): fields
// gathered from http_parser's pieces, counted against ParserLimits, trailers dropped, values
// trimmed once the head is complete.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "meshvpn/http/headers.h"
#include "meshvpn/http/limits.h"
#include "meshvpn/http/parse_error.h"

namespace meshvpn::http::detail {

class HeadFields {
 public:
  // `limits` and `error` (where a broken limit is recorded) must outlive this.
  HeadFields(const ParserLimits* limits, ParseError* error) : limits_(limits), error_(error) {}

  // A new message begins.
  void Reset() {
    last_ = Last::kNone;
    bytes_ = 0;
    count_ = 0;
    in_trailers_ = false;
  }
  // Counts `n` head bytes; false (and kHeaderTooLarge) past max_header_bytes.
  bool Count(size_t n) {
    bytes_ += n;
    if (bytes_ > limits_->max_header_bytes) {
      *error_ = ParseError::kHeaderTooLarge;
      return false;
    }
    return true;
  }
  // http_parser's on_header_field / on_header_value: 0, or -1 to stop the parser.
  int OnField(Headers* headers, const char* at, size_t len);
  int OnValue(Headers* headers, const char* at, size_t len);
  // on_headers_complete: trims the values; fields after this are trailers (counted, dropped).
  void EndHead(Headers* headers);

 private:
  enum class Last { kNone, kField, kValue };
  // Per-field overhead the callbacks do not see (": " and CRLF), counted against the head limit.
  static constexpr size_t kFieldOverhead = 4;

  const ParserLimits* limits_;
  ParseError* error_;
  Last last_ = Last::kNone;
  size_t bytes_ = 0;
  size_t count_ = 0;
  bool in_trailers_ = false;
};

}  // namespace meshvpn::http::detail
