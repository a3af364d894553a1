// ParseError and ParseEvent names; the status a server answers each error with.
#include "meshvpn/http/parse_error.h"

#include "meshvpn/http/messages.h"

namespace meshvpn::http {

std::string_view ToString(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return "none";
    case ParseError::kMalformed:
      return "malformed";
    case ParseError::kHeaderTooLarge:
      return "header too large";
    case ParseError::kTooManyHeaders:
      return "too many header fields";
    case ParseError::kTargetTooLong:
      return "request-target too long";
    case ParseError::kBodyTooLarge:
      return "body too large";
    case ParseError::kTruncated:
      return "truncated";
  }
  return "unknown";
}

int StatusFor(ParseError error) {
  switch (error) {
    case ParseError::kHeaderTooLarge:
    case ParseError::kTooManyHeaders:
      return kStatusHeaderFieldsTooLarge;
    case ParseError::kTargetTooLong:
      return kStatusUriTooLong;
    case ParseError::kBodyTooLarge:
      return kStatusPayloadTooLarge;
    default:
      return kStatusBadRequest;
  }
}

std::string_view ToString(ParseEvent event) {
  switch (event) {
    case ParseEvent::kNeedMore:
      return "need more";
    case ParseEvent::kMessage:
      return "message";
    case ParseEvent::kUpgrade:
      return "upgrade";
    case ParseEvent::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace meshvpn::http
