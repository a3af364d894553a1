#include "meshvpn/dns/rdata.h"

#include <cstring>

#include "meshvpn/dns/wire.h"

namespace meshvpn::dns {
namespace {

size_t RdataEnd(const RecordView& r) { return r.rdata_offset + r.rdata.size(); }

// A name inside the rdata at `offset`; its in-place labels may not pass the rdata's end (a name
// that does is a malformed rdata, not a truncated message).
ParseError RdataName(const RecordView& r, size_t offset, Name* out, size_t* end) {
  const ParseError e = DecodeName(r.message, offset, RdataEnd(r), out, end);
  return e == ParseError::kTruncated ? ParseError::kBadRdata : e;
}

}  // namespace

RdataKind KindOf(uint16_t type, uint16_t rrclass) {
  switch (type) {
    case rrtype::kA:
      return rrclass == rrclass::kIn ? RdataKind::kA : RdataKind::kRaw;
    case rrtype::kAaaa:
      return rrclass == rrclass::kIn ? RdataKind::kAaaa : RdataKind::kRaw;
    case rrtype::kSrv:
      return rrclass == rrclass::kIn ? RdataKind::kSrv : RdataKind::kRaw;
    case rrtype::kNs:
    case rrtype::kCname:
    case rrtype::kPtr:
      return RdataKind::kName;
    case rrtype::kSoa:
      return RdataKind::kSoa;
    case rrtype::kMx:
      return RdataKind::kMx;
    case rrtype::kTxt:
      return RdataKind::kTxt;
  }
  return RdataKind::kRaw;
}

bool CompressibleRdata(uint16_t type) {
  return type == rrtype::kNs || type == rrtype::kCname || type == rrtype::kPtr ||
         type == rrtype::kSoa || type == rrtype::kMx;
}

ParseError DecodeA(const RecordView& r, std::array<uint8_t, 4>* out) {
  if (r.rdata.size() != 4) return ParseError::kBadRdata;
  std::memcpy(out->data(), r.rdata.data(), 4);
  return ParseError::kOk;
}

ParseError DecodeAaaa(const RecordView& r, std::array<uint8_t, 16>* out) {
  if (r.rdata.size() != 16) return ParseError::kBadRdata;
  std::memcpy(out->data(), r.rdata.data(), 16);
  return ParseError::kOk;
}

ParseError DecodeNameRdata(const RecordView& r, Name* out) {
  size_t end = 0;
  const ParseError e = RdataName(r, r.rdata_offset, out, &end);
  if (e != ParseError::kOk) return e;
  return end == RdataEnd(r) ? ParseError::kOk : ParseError::kBadRdata;
}

ParseError DecodeSoa(const RecordView& r, SoaData* out) {
  size_t end = 0;
  ParseError e = RdataName(r, r.rdata_offset, &out->mname, &end);
  if (e != ParseError::kOk) return e;
  e = RdataName(r, end, &out->rname, &end);
  if (e != ParseError::kOk) return e;
  if (end + 20 != RdataEnd(r)) return ParseError::kBadRdata;
  const uint8_t* p = r.message.data() + end;
  out->serial = LoadU32(p);
  out->refresh = LoadU32(p + 4);
  out->retry = LoadU32(p + 8);
  out->expire = LoadU32(p + 12);
  out->minimum = LoadU32(p + 16);
  return ParseError::kOk;
}

ParseError DecodeMx(const RecordView& r, MxData* out) {
  if (r.rdata.size() < 3) return ParseError::kBadRdata;
  out->preference = LoadU16(r.rdata.data());
  size_t end = 0;
  const ParseError e = RdataName(r, r.rdata_offset + 2, &out->exchange, &end);
  if (e != ParseError::kOk) return e;
  return end == RdataEnd(r) ? ParseError::kOk : ParseError::kBadRdata;
}

ParseError DecodeSrv(const RecordView& r, SrvData* out) {
  if (r.rdata.size() < 7) return ParseError::kBadRdata;
  const uint8_t* p = r.rdata.data();
  out->priority = LoadU16(p);
  out->weight = LoadU16(p + 2);
  out->port = LoadU16(p + 4);
  size_t end = 0;
  const ParseError e = RdataName(r, r.rdata_offset + 6, &out->target, &end);
  if (e != ParseError::kOk) return e;
  return end == RdataEnd(r) ? ParseError::kOk : ParseError::kBadRdata;
}

bool TxtReader::Next(std::string_view* s) {
  if (!ok_ || pos_ >= rdata_.size()) return false;
  const size_t len = rdata_[pos_];
  if (pos_ + 1 + len > rdata_.size()) {
    ok_ = false;
    return false;
  }
  *s = {reinterpret_cast<const char*>(rdata_.data() + pos_ + 1), len};
  pos_ += 1 + len;
  return true;
}

ParseError ValidateTxt(ByteSpan rdata) {
  TxtReader t(rdata);
  std::string_view s;
  while (t.Next(&s)) {
  }
  return t.ok() ? ParseError::kOk : ParseError::kBadRdata;
}

}  // namespace meshvpn::dns
