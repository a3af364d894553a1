#include "meshvpn/dns/parse_error.h"

namespace meshvpn::dns {

std::string_view ToString(ParseError e) {
  switch (e) {
    case ParseError::kOk:
      return "ok";
    case ParseError::kTooShort:
      return "shorter than the 12-byte header";
    case ParseError::kTooLong:
      return "longer than 65535 bytes";
    case ParseError::kCountsTooLarge:
      return "section counts larger than the message";
    case ParseError::kTruncated:
      return "truncated";
    case ParseError::kBadLabelType:
      return "bad label type";
    case ParseError::kNameTooLong:
      return "name longer than 255 bytes";
    case ParseError::kPointerOutOfRange:
      return "compression pointer out of range";
    case ParseError::kForwardPointer:
      return "compression pointer not backwards";
    case ParseError::kTooManyPointers:
      return "too many compression pointers";
    case ParseError::kEmptyLabel:
      return "empty label";
    case ParseError::kLabelTooLong:
      return "label longer than 63 bytes";
    case ParseError::kBadEscape:
      return "bad escape";
    case ParseError::kBadRdata:
      return "malformed rdata";
    case ParseError::kMultipleOpt:
      return "more than one OPT record";
    case ParseError::kOptNotAdditional:
      return "OPT record outside the additional section";
    case ParseError::kBadOptName:
      return "OPT record owner not the root";
    case ParseError::kBadOptOptions:
      return "malformed EDNS options";
    case ParseError::kNotQuery:
      return "a response, not a query";
    case ParseError::kOpcodeNotQuery:
      return "opcode not QUERY";
    case ParseError::kNoQuestion:
      return "no question";
    case ParseError::kMultipleQuestions:
      return "more than one question";
    case ParseError::kUnexpectedRecords:
      return "answer or authority records in a query";
    case ParseError::kBadEdnsVersion:
      return "EDNS version not 0";
  }
  return "unknown";
}

}  // namespace meshvpn::dns
