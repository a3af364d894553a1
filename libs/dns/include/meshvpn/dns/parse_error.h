// ParseError: why the DNS codec rejected a message, a name or a record (one reason per rule).
#pragma once

#include <cstdint>
#include <string_view>

namespace meshvpn::dns {

enum class ParseError : uint8_t {
  kOk,
  // The message as a whole.
  kTooShort,        // fewer than 12 bytes: no header
  kTooLong,         // more than 65535 bytes
  kCountsTooLarge,  // the section counts need more bytes than the message has
  kTruncated,       // a question, record or rdata runs past the end
  // Names on the wire (RFC 1035 3.1, 4.1.4).
  kBadLabelType,       // a length byte 0x40..0xBF (extended / reserved label types)
  kNameTooLong,        // more than 255 bytes uncompressed
  kPointerOutOfRange,  // a compression pointer past the end, or into the header
  kForwardPointer,     // a pointer not strictly before the name part it ends (loops, forward)
  kTooManyPointers,    // more than kMaxPointers jumps in one name
  // Names as text.
  kEmptyLabel,    // "a..b", ".a", or an empty string
  kLabelTooLong,  // more than 63 bytes in a label
  kBadEscape,     // "\" at the end, or "\DDD" above 255
  // Records.
  kBadRdata,          // a known type's rdata does not have that type's layout
  kMultipleOpt,       // more than one OPT record (RFC 6891 6.1.1)
  kOptNotAdditional,  // an OPT record in the answer or authority section
  kBadOptName,        // an OPT record whose owner is not the root
  kBadOptOptions,     // the OPT options do not tile its rdata
  // Only ParseQuery (a server's view of what it was sent).
  kNotQuery,           // QR is set: a response (never answer it)
  kOpcodeNotQuery,     // opcode other than QUERY (NOTIFY, UPDATE, ...): NOTIMP
  kNoQuestion,         // QDCOUNT 0
  kMultipleQuestions,  // QDCOUNT above 1
  kUnexpectedRecords,  // records in the answer or authority section of a query
  kBadEdnsVersion,     // EDNS version above 0: BADVERS (the query is otherwise parsed)
};
std::string_view ToString(ParseError e);

}  // namespace meshvpn::dns
