// ParseQuery: the server's fast path, reading a query (header, exactly one question, optional
// OPT) into a fixed-size Query without allocating, and what to answer when it is rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/dns/edns.h"
#include "meshvpn/dns/name.h"
#include "meshvpn/dns/parse_error.h"
#include "meshvpn/dns/wire.h"

namespace meshvpn::dns {

// A parsed query. Fixed size (about 560 bytes); reuse one per datagram to skip zeroing it. The
// EDNS options point into the datagram.
struct Query {
  Header header;  // as received (valid unless ParseQuery returned kTooShort / kTooLong)
  Name name;      // the question name as sent, 0x20 mixed case kept: echo this one
  Name lower;     // the same lowercased: look this one up
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool has_question = false;  // name, lower, qtype, qclass are set
  bool has_edns = false;      // edns is set (a well-formed OPT was in the additional section)
  Opt edns;
  size_t question_end = 0;        // the offset just after the question
  size_t skipped_additional = 0;  // additional records other than OPT (TSIG, ...), ignored
  size_t trailing_bytes = 0;      // bytes after the last record, ignored
};

// Reads a query. Checks, in order:
//   fewer than 12 bytes: kTooShort; over 65535: kTooLong (nothing to answer with)
//   QR set: kNotQuery                                  (drop: never answer a response)
//   opcode not QUERY (NOTIFY, UPDATE, IQUERY, STATUS): kOpcodeNotQuery       (NOTIMP)
//   QDCOUNT 0 / above 1: kNoQuestion / kMultipleQuestions                    (FORMERR)
//   ANCOUNT or NSCOUNT not 0: kUnexpectedRecords                             (FORMERR)
//   counts beyond the size, a bad question name, a short question: ...       (FORMERR)
//   the additional records: names checked; at most one OPT, with a root owner and options
//     that tile it; others skipped                                            (FORMERR)
//   EDNS version above 0: kBadEdnsVersion, with everything else filled in    (BADVERS)
// The question name can hold no compression pointer (nothing valid precedes it). No allocation.
ParseError ParseQuery(ByteSpan datagram, Query* q);

// What a server does with a datagram, by ParseQuery's result.
enum class QueryAction : uint8_t {
  kAnswer,   // kOk
  kDrop,     // no usable header, or a response
  kFormErr,  // answer FORMERR
  kNotImp,   // answer NOTIMP
  kBadVers,  // answer BADVERS with an OPT record (RFC 6891 6.1.3)
};
QueryAction ActionFor(ParseError e);
std::string_view ToString(QueryAction a);

}  // namespace meshvpn::dns
