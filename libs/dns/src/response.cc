#include "meshvpn/dns/response.h"

namespace meshvpn::dns {
namespace {

Flags ResponseFlags(const Query& q, bool authoritative, bool recursion_available) {
  Flags f;
  f.set_qr(true)
      .set_opcode(q.header.flags.opcode())
      .set_rd(q.header.flags.rd())
      .set_cd(q.header.flags.cd())
      .set_aa(authoritative)
      .set_ra(recursion_available);
  return f;
}

Opt ResponseOpt(const Query& q, size_t max_udp_size) {
  Opt opt;
  opt.udp_payload_size =
      static_cast<uint16_t>(max_udp_size > kMaxMessageSize ? kMaxMessageSize : max_udp_size);
  opt.version = 0;
  opt.flags = q.has_edns ? (q.edns.flags & kEdnsDoBit) : 0;
  return opt;
}

}  // namespace

bool BeginResponse(const Query& q, const ResponseOptions& o, MessageWriter* w) {
  if (!w->Start(q.header.id, ResponseFlags(q, o.authoritative, o.recursion_available))) {
    return false;
  }
  if (!o.tcp) {
    w->set_limit(ResponseUdpSize(q.has_edns, q.edns.udp_payload_size, o.max_udp_size));
  }
  if (q.has_edns && !w->SetOpt(ResponseOpt(q, o.max_udp_size))) return false;
  w->set_rcode(o.rcode);
  if (q.has_question && !w->AddQuestion(q.name.wire(), q.qtype, q.qclass)) return false;
  return true;
}

ByteSpan WriteErrorResponse(const Query& q, QueryAction action, MutableByteSpan out,
                            size_t max_udp_size) {
  uint16_t rc = 0;
  switch (action) {
    case QueryAction::kFormErr:
      rc = rcode::kFormErr;
      break;
    case QueryAction::kNotImp:
      rc = rcode::kNotImp;
      break;
    case QueryAction::kBadVers:
      rc = rcode::kBadVers;
      break;
    case QueryAction::kAnswer:
    case QueryAction::kDrop:
      return {};
  }
  MessageWriter w(out);
  if (!w.Start(q.header.id, ResponseFlags(q, false, false))) return {};
  w.set_limit(ResponseUdpSize(q.has_edns, q.edns.udp_payload_size, max_udp_size));
  // BADVERS needs an OPT to carry its high bits; q.has_edns is true whenever it is the action.
  if (q.has_edns && !w.SetOpt(ResponseOpt(q, max_udp_size))) return {};
  w.set_rcode(rc);
  if (q.has_question) (void)w.AddQuestion(q.name.wire(), q.qtype, q.qclass);
  return w.Finish();
}

}  // namespace meshvpn::dns
