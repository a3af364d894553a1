#include "meshvpn/dns/query.h"

#include "meshvpn/dns/reader.h"

namespace meshvpn::dns {

ParseError ParseQuery(ByteSpan datagram, Query* q) {
  q->has_question = false;
  q->has_edns = false;
  q->question_end = 0;
  q->skipped_additional = 0;
  q->trailing_bytes = 0;
  if (datagram.size() < kHeaderSize) return ParseError::kTooShort;
  if (datagram.size() > kMaxMessageSize) return ParseError::kTooLong;
  const uint8_t* m = datagram.data();
  q->header = ReadHeader(datagram);
  const Header& h = q->header;
  if (h.flags.qr()) return ParseError::kNotQuery;
  if (h.flags.opcode() != opcode::kQuery) return ParseError::kOpcodeNotQuery;
  if (h.qdcount == 0) return ParseError::kNoQuestion;
  if (h.qdcount > 1) return ParseError::kMultipleQuestions;
  if (h.ancount != 0 || h.nscount != 0) return ParseError::kUnexpectedRecords;
  if (kMinQuestionSize + size_t{h.arcount} * kMinRecordSize > datagram.size() - kHeaderSize) {
    return ParseError::kCountsTooLarge;
  }

  size_t end = 0, size = 0;
  ParseError e = DecodeName(datagram, kHeaderSize, datagram.size(), q->name.mutable_data(),
                            q->lower.mutable_data(), &end, &size);
  if (e != ParseError::kOk) return e;
  if (end + 4 > datagram.size()) return ParseError::kTruncated;
  q->name.set_size(size);
  q->lower.set_size(size);
  q->qtype = LoadU16(m + end);
  q->qclass = LoadU16(m + end + 2);
  q->question_end = end + 4;
  q->has_question = true;

  size_t offset = q->question_end;
  for (size_t i = 0; i < h.arcount; ++i) {
    e = DecodeName(datagram, offset, datagram.size(), nullptr, nullptr, &end, &size);
    if (e != ParseError::kOk) return e;
    if (end + kRecordFixedSize > datagram.size()) return ParseError::kTruncated;
    const uint8_t* p = m + end;
    const uint16_t type = LoadU16(p);
    const size_t rdlength = LoadU16(p + 8);
    const size_t rdata_offset = end + kRecordFixedSize;
    if (rdata_offset + rdlength > datagram.size()) return ParseError::kTruncated;
    if (type == rrtype::kOpt) {
      if (q->has_edns) return ParseError::kMultipleOpt;
      RecordView r;
      r.message = datagram;
      r.section = Section::kAdditional;
      r.name_offset = offset;
      r.type = type;
      r.rrclass = LoadU16(p + 2);
      r.ttl = LoadU32(p + 4);
      r.rdata_offset = rdata_offset;
      r.rdata = datagram.subspan(rdata_offset, rdlength);
      e = DecodeOpt(r, &q->edns);
      if (e != ParseError::kOk) return e;
      q->has_edns = true;
    } else {
      ++q->skipped_additional;
    }
    offset = rdata_offset + rdlength;
  }
  q->trailing_bytes = datagram.size() - offset;
  if (q->has_edns && q->edns.version != 0) return ParseError::kBadEdnsVersion;
  return ParseError::kOk;
}

QueryAction ActionFor(ParseError e) {
  switch (e) {
    case ParseError::kOk:
      return QueryAction::kAnswer;
    case ParseError::kTooShort:
    case ParseError::kTooLong:
    case ParseError::kNotQuery:
      return QueryAction::kDrop;
    case ParseError::kOpcodeNotQuery:
      return QueryAction::kNotImp;
    case ParseError::kBadEdnsVersion:
      return QueryAction::kBadVers;
    default:
      return QueryAction::kFormErr;
  }
}

std::string_view ToString(QueryAction a) {
  switch (a) {
    case QueryAction::kAnswer:
      return "answer";
    case QueryAction::kDrop:
      return "drop";
    case QueryAction::kFormErr:
      return "formerr";
    case QueryAction::kNotImp:
      return "notimp";
    case QueryAction::kBadVers:
      return "badvers";
  }
  return "unknown";
}

}  // namespace meshvpn::dns
