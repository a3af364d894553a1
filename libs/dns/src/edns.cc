#include "meshvpn/dns/edns.h"

namespace meshvpn::dns {

ParseError DecodeOpt(const RecordView& r, Opt* out) {
  if (r.message[r.name_offset] != 0) return ParseError::kBadOptName;
  OptionReader o(r.rdata);
  uint16_t code = 0;
  ByteSpan data;
  while (o.Next(&code, &data)) {
  }
  if (!o.ok()) return ParseError::kBadOptOptions;
  out->udp_payload_size = r.rrclass;
  out->extended_rcode = static_cast<uint8_t>(r.ttl >> 24);
  out->version = static_cast<uint8_t>(r.ttl >> 16);
  out->flags = static_cast<uint16_t>(r.ttl);
  out->options = r.rdata;
  return ParseError::kOk;
}

bool OptionReader::Next(uint16_t* code, ByteSpan* data) {
  if (!ok_ || pos_ >= options_.size()) return false;
  if (pos_ + 4 > options_.size()) {
    ok_ = false;
    return false;
  }
  const uint8_t* p = options_.data() + pos_;
  const size_t len = LoadU16(p + 2);
  if (pos_ + 4 + len > options_.size()) {
    ok_ = false;
    return false;
  }
  *code = LoadU16(p);
  *data = options_.subspan(pos_ + 4, len);
  pos_ += 4 + len;
  return true;
}

}  // namespace meshvpn::dns
