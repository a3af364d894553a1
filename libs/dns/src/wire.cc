#include "meshvpn/dns/wire.h"

namespace meshvpn::dns {

std::string_view TypeName(uint16_t type) {
  switch (type) {
    case rrtype::kA:
      return "A";
    case rrtype::kNs:
      return "NS";
    case rrtype::kCname:
      return "CNAME";
    case rrtype::kSoa:
      return "SOA";
    case rrtype::kPtr:
      return "PTR";
    case rrtype::kHinfo:
      return "HINFO";
    case rrtype::kMx:
      return "MX";
    case rrtype::kTxt:
      return "TXT";
    case rrtype::kAaaa:
      return "AAAA";
    case rrtype::kSrv:
      return "SRV";
    case rrtype::kOpt:
      return "OPT";
    case rrtype::kDs:
      return "DS";
    case rrtype::kRrsig:
      return "RRSIG";
    case rrtype::kNsec:
      return "NSEC";
    case rrtype::kDnskey:
      return "DNSKEY";
    case rrtype::kSvcb:
      return "SVCB";
    case rrtype::kHttps:
      return "HTTPS";
    case rrtype::kTsig:
      return "TSIG";
    case rrtype::kIxfr:
      return "IXFR";
    case rrtype::kAxfr:
      return "AXFR";
    case rrtype::kAny:
      return "ANY";
    case rrtype::kCaa:
      return "CAA";
  }
  return "";
}

std::string_view RcodeName(uint16_t rc) {
  switch (rc) {
    case rcode::kNoError:
      return "NOERROR";
    case rcode::kFormErr:
      return "FORMERR";
    case rcode::kServFail:
      return "SERVFAIL";
    case rcode::kNxDomain:
      return "NXDOMAIN";
    case rcode::kNotImp:
      return "NOTIMP";
    case rcode::kRefused:
      return "REFUSED";
    case rcode::kBadVers:
      return "BADVERS";
  }
  return "";
}

Header ReadHeader(std::span<const uint8_t> m) {
  const uint8_t* p = m.data();
  Header h;
  h.id = LoadU16(p);
  h.flags = Flags(LoadU16(p + 2));
  h.qdcount = LoadU16(p + 4);
  h.ancount = LoadU16(p + 6);
  h.nscount = LoadU16(p + 8);
  h.arcount = LoadU16(p + 10);
  return h;
}

void WriteHeader(const Header& h, std::span<uint8_t> out) {
  uint8_t* p = out.data();
  StoreU16(p, h.id);
  StoreU16(p + 2, h.flags.bits());
  StoreU16(p + 4, h.qdcount);
  StoreU16(p + 6, h.ancount);
  StoreU16(p + 8, h.nscount);
  StoreU16(p + 10, h.arcount);
}

}  // namespace meshvpn::dns
