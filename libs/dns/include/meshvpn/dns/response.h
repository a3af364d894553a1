// Starting a response to a parsed Query (header bits, the question echoed as sent, the client's
// size limit, OPT) and writing error responses: the no-allocation answer path of a server.
#pragma once

#include <cstddef>
#include <cstdint>

#include "meshvpn/base/bytes.h"
#include "meshvpn/dns/query.h"
#include "meshvpn/dns/writer.h"

namespace meshvpn::dns {

struct ResponseOptions {
  uint16_t rcode = rcode::kNoError;  // may be extended (BADVERS): needs the query's OPT
  bool authoritative = true;         // AA
  bool recursion_available = false;  // RA
  bool tcp = false;                  // over TCP the limit is the buffer, not the UDP size
  // Our own cap on UDP responses, and the payload size our OPT advertises.
  size_t max_udp_size = kDefaultMaxUdpSize;
};

// Starts `w` as the response to `q`: ID, opcode, RD and CD copied; QR set; AA, RA and the rcode
// from `o`; the question (if q has one) exactly as received, so a 0x20 client sees its own
// case; the limit ResponseUdpSize(q) (or the buffer over TCP); and, if q had EDNS, an OPT with
// version 0, our payload size and the DO bit copied (RFC 3225 3). Then the caller adds records
// (owner q.name.wire() compresses to a pointer to the question) and calls w->Finish().
bool BeginResponse(const Query& q, const ResponseOptions& o, MessageWriter* w);

// The whole response for a query ParseQuery rejected with FORMERR, NOTIMP or BADVERS (see
// ActionFor): the header with that rcode, the question if it was read, and an OPT if the query
// had a valid one (always, for BADVERS). Empty span when `action` is kAnswer or kDrop.
ByteSpan WriteErrorResponse(const Query& q, QueryAction action, MutableByteSpan out,
                            size_t max_udp_size = kDefaultMaxUdpSize);

}  // namespace meshvpn::dns
