#include "meshvpn/dns/message.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "meshvpn/dns/reader.h"
#include "meshvpn/dns/writer.h"

namespace meshvpn::dns {
namespace {

ParseError DecodeRdata(const RecordView& r, Rdata* out) {
  ParseError e = ParseError::kOk;
  switch (KindOf(r.type, r.rrclass)) {
    case RdataKind::kRaw:
      *out = RawRdata{Bytes(r.rdata.begin(), r.rdata.end())};
      return ParseError::kOk;
    case RdataKind::kA: {
      AData a;
      e = DecodeA(r, &a.address);
      *out = a;
      return e;
    }
    case RdataKind::kAaaa: {
      AaaaData a;
      e = DecodeAaaa(r, &a.address);
      *out = a;
      return e;
    }
    case RdataKind::kName: {
      NameData n;
      e = DecodeNameRdata(r, &n.name);
      *out = n;
      return e;
    }
    case RdataKind::kSoa: {
      SoaData s;
      e = DecodeSoa(r, &s);
      *out = s;
      return e;
    }
    case RdataKind::kMx: {
      MxData mx;
      e = DecodeMx(r, &mx);
      *out = mx;
      return e;
    }
    case RdataKind::kTxt: {
      TxtData t;
      TxtReader reader(r.rdata);
      std::string_view s;
      while (reader.Next(&s)) t.strings.emplace_back(s);
      if (!reader.ok()) return ParseError::kBadRdata;
      *out = std::move(t);
      return ParseError::kOk;
    }
    case RdataKind::kSrv: {
      SrvData srv;
      e = DecodeSrv(r, &srv);
      *out = srv;
      return e;
    }
  }
  return ParseError::kBadRdata;
}

RdataKind KindOfRdata(const Rdata& d) {
  switch (d.index()) {
    case 0:
      return RdataKind::kRaw;
    case 1:
      return RdataKind::kA;
    case 2:
      return RdataKind::kAaaa;
    case 3:
      return RdataKind::kName;
    case 4:
      return RdataKind::kSoa;
    case 5:
      return RdataKind::kMx;
    case 6:
      return RdataKind::kTxt;
    default:
      return RdataKind::kSrv;
  }
}

// Writes one record's rdata through the general writer interface.
absl::Status PutRdata(const Record& r, MessageWriter* w) {
  const RdataKind kind = KindOf(r.type, r.rrclass);
  if (KindOfRdata(r.rdata) != kind) {
    return absl::InvalidArgumentError(
        absl::StrFormat("dns message: rdata of a %s record (type %d) has the wrong layout",
                        TypeName(r.type), r.type));
  }
  const bool compress = CompressibleRdata(r.type);
  switch (kind) {
    case RdataKind::kRaw:
      w->PutBytes(std::get<RawRdata>(r.rdata).bytes);
      break;
    case RdataKind::kA:
      w->PutBytes(std::get<AData>(r.rdata).address);
      break;
    case RdataKind::kAaaa:
      w->PutBytes(std::get<AaaaData>(r.rdata).address);
      break;
    case RdataKind::kName:
      w->PutName(std::get<NameData>(r.rdata).name.wire(), compress);
      break;
    case RdataKind::kSoa: {
      const SoaData& s = std::get<SoaData>(r.rdata);
      w->PutName(s.mname.wire(), compress);
      w->PutName(s.rname.wire(), compress);
      w->PutU32(s.serial);
      w->PutU32(s.refresh);
      w->PutU32(s.retry);
      w->PutU32(s.expire);
      w->PutU32(s.minimum);
      break;
    }
    case RdataKind::kMx: {
      const MxData& mx = std::get<MxData>(r.rdata);
      w->PutU16(mx.preference);
      w->PutName(mx.exchange.wire(), compress);
      break;
    }
    case RdataKind::kTxt:
      for (const std::string& s : std::get<TxtData>(r.rdata).strings) {
        w->PutCharacterString(s);
      }
      break;
    case RdataKind::kSrv: {
      const SrvData& srv = std::get<SrvData>(r.rdata);
      w->PutU16(srv.priority);
      w->PutU16(srv.weight);
      w->PutU16(srv.port);
      w->PutName(srv.target.wire(), false);
      break;
    }
  }
  return absl::OkStatus();
}

// "example.com." (and "." for the root).
std::string Fqdn(const Name& n) { return n.IsRoot() ? "." : n.ToString() + "."; }

std::string RdataText(const Record& r) {
  switch (KindOfRdata(r.rdata)) {
    case RdataKind::kRaw: {
      const Bytes& b = std::get<RawRdata>(r.rdata).bytes;
      return absl::StrCat("\\# ", b.size(), b.empty() ? "" : " ", HexEncode(b));
    }
    case RdataKind::kA: {
      const auto& a = std::get<AData>(r.rdata).address;
      return absl::StrFormat("%d.%d.%d.%d", a[0], a[1], a[2], a[3]);
    }
    case RdataKind::kAaaa: {
      const auto& a = std::get<AaaaData>(r.rdata).address;
      std::string s;
      for (size_t i = 0; i < 16; i += 2) {
        absl::StrAppendFormat(&s, "%s%x", i == 0 ? "" : ":", (a[i] << 8) | a[i + 1]);
      }
      return s;
    }
    case RdataKind::kName:
      return Fqdn(std::get<NameData>(r.rdata).name);
    case RdataKind::kSoa: {
      const SoaData& s = std::get<SoaData>(r.rdata);
      return absl::StrFormat("%s %s %u %u %u %u %u", Fqdn(s.mname), Fqdn(s.rname), s.serial,
                             s.refresh, s.retry, s.expire, s.minimum);
    }
    case RdataKind::kMx: {
      const MxData& mx = std::get<MxData>(r.rdata);
      return absl::StrFormat("%d %s", mx.preference, Fqdn(mx.exchange));
    }
    case RdataKind::kTxt: {
      std::string s;
      for (const std::string& t : std::get<TxtData>(r.rdata).strings) {
        absl::StrAppend(&s, s.empty() ? "" : " ", "\"", absl::CHexEscape(t), "\"");
      }
      return s;
    }
    case RdataKind::kSrv: {
      const SrvData& srv = std::get<SrvData>(r.rdata);
      return absl::StrFormat("%d %d %d %s", srv.priority, srv.weight, srv.port, Fqdn(srv.target));
    }
  }
  return "";
}

std::string TypeText(uint16_t type) {
  const std::string_view name = TypeName(type);
  return name.empty() ? absl::StrCat("TYPE", type) : std::string(name);
}

std::string ClassText(uint16_t c) {
  if (c == rrclass::kIn) return "IN";
  if (c == rrclass::kCh) return "CH";
  if (c == rrclass::kAny) return "ANY";
  return absl::StrCat("CLASS", c);
}

}  // namespace

uint16_t Message::rcode() const {
  const uint16_t high = edns.has_value() ? uint16_t{edns->extended_rcode} : 0;
  return static_cast<uint16_t>((high << 4) | flags.rcode());
}

ParseError Message::Parse(ByteSpan wire, Message* out, size_t* error_offset) {
  Message m;
  Reader r;
  auto fail = [&](ParseError e, size_t at) {
    if (error_offset != nullptr) *error_offset = at;
    return e;
  };
  ParseError e = r.Start(wire);
  if (e != ParseError::kOk) return fail(e, r.error_offset());
  m.id = r.header().id;
  m.flags = r.header().flags;
  m.questions.reserve(r.questions_left());
  while (r.questions_left() > 0) {
    QuestionView qv;
    if ((e = r.NextQuestion(&qv)) != ParseError::kOk) return fail(e, r.error_offset());
    Question q;
    (void)r.ReadName(qv.name_offset, &q.name);  // checked by NextQuestion
    q.type = qv.type;
    q.qclass = qv.qclass;
    m.questions.push_back(q);
  }
  while (r.records_left() > 0) {
    RecordView rv;
    if ((e = r.NextRecord(&rv)) != ParseError::kOk) return fail(e, r.error_offset());
    if (rv.type == rrtype::kOpt) {
      if (rv.section != Section::kAdditional) {
        return fail(ParseError::kOptNotAdditional, rv.name_offset);
      }
      if (m.edns.has_value()) return fail(ParseError::kMultipleOpt, rv.name_offset);
      Opt opt;
      if ((e = DecodeOpt(rv, &opt)) != ParseError::kOk) return fail(e, rv.name_offset);
      m.edns = Edns{opt.udp_payload_size, opt.extended_rcode, opt.version, opt.flags,
                    Bytes(opt.options.begin(), opt.options.end())};
      continue;
    }
    Record rec;
    (void)r.ReadName(rv.name_offset, &rec.name);  // checked by NextRecord
    rec.type = rv.type;
    rec.rrclass = rv.rrclass;
    rec.ttl = rv.ttl;
    if ((e = DecodeRdata(rv, &rec.rdata)) != ParseError::kOk) return fail(e, rv.rdata_offset);
    switch (rv.section) {
      case Section::kAnswer:
        m.answers.push_back(std::move(rec));
        break;
      case Section::kAuthority:
        m.authority.push_back(std::move(rec));
        break;
      default:
        m.additional.push_back(std::move(rec));
        break;
    }
  }
  *out = std::move(m);
  return ParseError::kOk;
}

absl::StatusOr<Message> Message::Parse(ByteSpan wire) {
  Message m;
  size_t at = 0;
  const ParseError e = Parse(wire, &m, &at);
  if (e != ParseError::kOk) {
    return absl::InvalidArgumentError(
        absl::StrFormat("dns message: %s at offset %d", ToString(e), at));
  }
  return m;
}

absl::StatusOr<Bytes> Message::Serialize(const SerializeOptions& options) const {
  Bytes out(options.max_size < kMaxMessageSize ? options.max_size : kMaxMessageSize);
  MessageWriter w(out);
  w.Start(id, flags);
  Opt opt;
  if (edns.has_value()) {
    opt = edns->view();
    if (!w.SetOpt(opt)) return absl::ResourceExhaustedError("dns message: no room for OPT");
  }
  w.set_rcode(rcode());
  for (const Question& q : questions) {
    if (!w.AddQuestion(q.name.wire(), q.type, q.qclass)) {
      return absl::ResourceExhaustedError("dns message: the questions do not fit");
    }
  }
  const std::pair<Section, const std::vector<Record>*> sections[] = {
      {Section::kAnswer, &answers},
      {Section::kAuthority, &authority},
      {Section::kAdditional, &additional}};
  for (const auto& [section, records] : sections) {
    for (const Record& r : *records) {
      if (!w.BeginRecord(section, r.name.wire(), r.type, r.rrclass, r.ttl)) {
        if (!w.ok()) break;
        w.EndRecord();
        continue;
      }
      absl::Status s = PutRdata(r, &w);
      if (!s.ok()) return s;
      if (!w.EndRecord() && w.ok() && !options.truncate) {
        return absl::ResourceExhaustedError(
            absl::StrFormat("dns message: does not fit in %d bytes", options.max_size));
      }
    }
  }
  const ByteSpan wire = w.Finish();
  if (!w.ok()) {
    const std::string_view reason = ToString(w.error());
    if (w.error() == WriteError::kNoSpace) {
      return absl::ResourceExhaustedError(absl::StrFormat("dns message: %s", reason));
    }
    return absl::InvalidArgumentError(absl::StrFormat("dns message: %s", reason));
  }
  out.resize(wire.size());
  return out;
}

std::string ToString(const Message& m) {
  const std::string_view rcode_name = RcodeName(m.rcode());
  std::string s = absl::StrFormat(
      ";; id %d opcode %d rcode %s flags:%s%s%s%s%s%s%s%s\n", m.id, m.flags.opcode(),
      rcode_name.empty() ? absl::StrCat(m.rcode()) : std::string(rcode_name),
      m.flags.qr() ? " qr" : "", m.flags.aa() ? " aa" : "", m.flags.tc() ? " tc" : "",
      m.flags.rd() ? " rd" : "", m.flags.ra() ? " ra" : "", m.flags.z() ? " z" : "",
      m.flags.ad() ? " ad" : "", m.flags.cd() ? " cd" : "");
  if (m.edns.has_value()) {
    absl::StrAppendFormat(&s, ";; EDNS version %d udp %d%s options %s\n", m.edns->version,
                          m.edns->udp_payload_size, m.edns->dnssec_ok() ? " do" : "",
                          HexEncode(m.edns->options));
  }
  for (const Question& q : m.questions) {
    absl::StrAppend(&s, ";", Fqdn(q.name), " ", ClassText(q.qclass), " ", TypeText(q.type), "\n");
  }
  const std::pair<const char*, const std::vector<Record>*> sections[] = {
      {"answer", &m.answers}, {"authority", &m.authority}, {"additional", &m.additional}};
  for (const auto& [title, records] : sections) {
    for (const Record& r : *records) {
      absl::StrAppend(&s, Fqdn(r.name), " ", r.ttl, " ", ClassText(r.rrclass), " ",
                      TypeText(r.type), " ", RdataText(r), " ; ", title, "\n");
    }
  }
  return s;
}

}  // namespace meshvpn::dns
