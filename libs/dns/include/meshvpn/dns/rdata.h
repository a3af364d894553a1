// Typed rdata of the record types the codec knows (A, AAAA, NS, CNAME, PTR, SOA, MX, TXT, SRV),
// and their decoders from a RecordView (names in rdata decompressed, layout checked).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/dns/name.h"
#include "meshvpn/dns/parse_error.h"
#include "meshvpn/dns/reader.h"

namespace meshvpn::dns {

struct SoaData {
  Name mname;  // primary server
  Name rname;  // responsible mailbox
  uint32_t serial = 0;
  uint32_t refresh = 0;
  uint32_t retry = 0;
  uint32_t expire = 0;
  uint32_t minimum = 0;  // the negative-caching TTL (RFC 2308)
  friend bool operator==(const SoaData&, const SoaData&) = default;
};

struct MxData {
  uint16_t preference = 0;
  Name exchange;
  friend bool operator==(const MxData&, const MxData&) = default;
};

struct SrvData {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  Name target;  // written uncompressed (RFC 2782), read compressed or not
  friend bool operator==(const SrvData&, const SrvData&) = default;
};

// Which typed layout a record of this type and class has. A, AAAA and SRV are defined for class
// IN only; in another class their rdata is kept raw. Types without a layout here are raw.
enum class RdataKind : uint8_t { kRaw, kA, kAaaa, kName, kSoa, kMx, kTxt, kSrv };
RdataKind KindOf(uint16_t type, uint16_t rrclass);
// Whether a name inside this type's rdata may be compressed when written (RFC 3597 section 4:
// only the RFC 1035 types NS, CNAME, PTR, SOA, MX).
bool CompressibleRdata(uint16_t type);

// Decoders: kBadRdata unless the rdata is exactly the layout (a name must end at the rdata's
// end, or where the fixed fields after it begin); name errors as DecodeName reports them.
ParseError DecodeA(const RecordView& r, std::array<uint8_t, 4>* out);
ParseError DecodeAaaa(const RecordView& r, std::array<uint8_t, 16>* out);
// NS, CNAME, PTR: the rdata is one name.
ParseError DecodeNameRdata(const RecordView& r, Name* out);
ParseError DecodeSoa(const RecordView& r, SoaData* out);
ParseError DecodeMx(const RecordView& r, MxData* out);
ParseError DecodeSrv(const RecordView& r, SrvData* out);

// TXT rdata: character-strings (a length byte and that many bytes) that exactly tile it. An
// empty rdata has none. Usage:
//   TxtReader t(rr.rdata);  std::string_view s;
//   while (t.Next(&s)) ...;  if (!t.ok()) ... kBadRdata
class TxtReader {
 public:
  explicit TxtReader(ByteSpan rdata) : rdata_(rdata) {}
  bool Next(std::string_view* s);
  // False once a string ran past the end.
  bool ok() const { return ok_; }

 private:
  ByteSpan rdata_;
  size_t pos_ = 0;
  bool ok_ = true;
};
// kOk if the rdata is well-formed TXT.
ParseError ValidateTxt(ByteSpan rdata);

}  // namespace meshvpn::dns
