// The MagicDNS server's decisions: who is answered, what the tailnet zone says, where other
// names go.
#include "meshvpn/dns/server_core.h"

#include <algorithm>

#include "meshvpn/dns/response.h"
#include "meshvpn/dns/reverse.h"
#include "meshvpn/dns/writer.h"

namespace meshvpn::dns {

namespace {

// The last `labels` labels of a wire name (the whole name if it has fewer).
std::span<const uint8_t> LastLabels(std::span<const uint8_t> wire, size_t labels) {
  size_t count = 0;
  for (size_t pos = 0; wire[pos] != 0; pos += size_t{wire[pos]} + 1) ++count;
  size_t pos = 0;
  for (; count > labels; --count) pos += size_t{wire[pos]} + 1;
  return wire.subspan(pos);
}

// The label count of a reverse zone name covering `bits` of an address: in-addr.arpa has one
// label per octet, ip6.arpa one per nibble, and two for the suffix.
size_t ReverseZoneLabels(const IpPrefix& p) {
  return (p.family == udp::AddressFamily::kIpv4 ? (p.bits + 7) / 8 : (p.bits + 3) / 4) + 2;
}

}  // namespace

std::string_view ToString(Outcome o) {
  switch (o) {
    case Outcome::kAnswer:
      return "answer";
    case Outcome::kNoData:
      return "nodata";
    case Outcome::kNxDomain:
      return "nxdomain";
    case Outcome::kReverse:
      return "reverse";
    case Outcome::kForward:
      return "forward";
    case Outcome::kNoUpstream:
      return "no_upstream";
    case Outcome::kRefused:
      return "refused_client";
    case Outcome::kRateLimited:
      return "rate_limited";
    case Outcome::kZoneRefused:
      return "refused_in_zone";
    case Outcome::kFormErr:
      return "formerr";
    case Outcome::kNotImp:
      return "notimp";
    case Outcome::kBadVers:
      return "badvers";
    case Outcome::kDropped:
      return "dropped";
    case Outcome::kNoSpace:
      return "no_space";
    case Outcome::kCount:
      break;
  }
  return "unknown";
}

ServerCore::ServerCore(ServerCoreConfig config, std::shared_ptr<const RecordTable> records)
    : config_(std::move(config)), records_(std::move(records)), limiter_(config_.rate) {
  config_.domain = config_.domain.Lowercase();
  for (SplitRoute& r : config_.split) r.suffix = r.suffix.Lowercase();
}

void ServerCore::SetRecords(std::shared_ptr<const RecordTable> records) {
  records_ = std::move(records);
  ++stats_.record_swaps;
}

bool ServerCore::recursion_available() const {
  return config_.default_upstream >= 0 || !config_.split.empty();
}

ResponseOptions ServerCore::Options(uint16_t rcode, bool authoritative, Transport t) const {
  ResponseOptions o;
  o.rcode = rcode;
  o.authoritative = authoritative;
  o.recursion_available = recursion_available();
  o.tcp = t == Transport::kTcp;
  o.max_udp_size = config_.max_udp_size;
  return o;
}

Decision ServerCore::Finish(MessageWriter& w, Outcome outcome) {
  const ByteSpan wire = w.Finish();
  Decision d;
  if (wire.empty()) {
    d.outcome = Outcome::kNoSpace;
  } else {
    d.outcome = outcome;
    d.size = wire.size();
    d.truncated = w.truncated();
    stats_.truncated += d.truncated;
  }
  ++stats_.outcomes[static_cast<size_t>(d.outcome)];
  return d;
}

Decision ServerCore::Handle(ByteSpan message, const udp::Endpoint& from, Transport transport,
                            MonoTime now, Query* q, MutableByteSpan out) {
  ++(transport == Transport::kUdp ? stats_.udp_queries : stats_.tcp_queries);
  const QueryAction action = ActionFor(ParseQuery(message, q));
  Decision d;
  if (action == QueryAction::kDrop) {
    d.outcome = Outcome::kDropped;
  } else if (!limiter_.Allow(from, now)) {
    // Before the allow list: refusals are rate limited too (no reflection through us).
    d.outcome = Outcome::kRateLimited;
  } else if (!config_.allow.Allows(from)) {
    if (action != QueryAction::kAnswer) {
      d.outcome = Outcome::kDropped;  // a stranger's malformed datagram gets nothing
    } else {
      return Refuse(*q, Outcome::kRefused, transport, out);
    }
  } else if (action != QueryAction::kAnswer) {
    const ByteSpan wire = WriteErrorResponse(*q, action, out, config_.max_udp_size);
    d.outcome = action == QueryAction::kFormErr  ? Outcome::kFormErr
                : action == QueryAction::kNotImp ? Outcome::kNotImp
                                                 : Outcome::kBadVers;
    if (wire.empty()) d.outcome = Outcome::kNoSpace;
    d.size = wire.size();
  } else {
    return Decide(*q, transport, out);
  }
  ++stats_.outcomes[static_cast<size_t>(d.outcome)];
  return d;
}

Decision ServerCore::Refuse(const Query& q, Outcome outcome, Transport transport,
                            MutableByteSpan out) {
  MessageWriter w(out);
  BeginResponse(q, Options(rcode::kRefused, false, transport), &w);
  return Finish(w, outcome);
}

Decision ServerCore::Negative(const Query& q, Outcome outcome, std::span<const uint8_t> soa_owner,
                              Transport transport, MutableByteSpan out) {
  const RecordTable& t = *records_;
  MessageWriter w(out);
  const uint16_t rc = outcome == Outcome::kNxDomain ? rcode::kNxDomain : rcode::kNoError;
  BeginResponse(q, Options(rc, true, transport), &w);
  // RFC 2308 3: the SOA's TTL is the negative-caching time.
  w.AddSoa(Section::kAuthority, soa_owner, std::min(t.soa().minimum, config_.ttl), t.soa());
  return Finish(w, outcome);
}

Decision ServerCore::AnswerHost(const Query& q, const RecordTable::Host& host, Transport transport,
                                MutableByteSpan out) {
  MessageWriter w(out);
  BeginResponse(q, Options(rcode::kNoError, true, transport), &w);
  const ByteSpan owner = q.name.wire();
  const bool any = q.qtype == rrtype::kAny;
  if (q.qtype == rrtype::kA || any) {
    for (const auto& a : host.v4) w.AddA(Section::kAnswer, owner, config_.ttl, a);
  }
  if (q.qtype == rrtype::kAaaa || any) {
    for (const auto& a : host.v6) w.AddAaaa(Section::kAnswer, owner, config_.ttl, a);
  }
  if (w.count(Section::kAnswer) == 0 && !w.truncated()) {
    const std::span<const uint8_t> soa_owner =
        host.in_zone ? records_->domain().wire() : host.name.wire();
    w.AddSoa(Section::kAuthority, soa_owner, std::min(records_->soa().minimum, config_.ttl),
             records_->soa());
    return Finish(w, Outcome::kNoData);
  }
  return Finish(w, Outcome::kAnswer);
}

bool ServerCore::AnswerReverse(const Query& q, Transport transport, MutableByteSpan out,
                               Decision* d) {
  ReverseAddress ra;
  if (ParseReverseName(q.lower.wire(), &ra) != ReverseParse::kOk) return false;
  const IpPrefix& range =
      ra.family == udp::AddressFamily::kIpv4 ? TailnetV4Prefix() : TailnetV6Prefix();
  // Ours only when the name is inside the range (a prefix name at least as long as it).
  if (ra.prefix_bits < range.bits || !range.Contains(ra.family, ra.address())) return false;
  const std::span<const uint8_t> zone = LastLabels(q.lower.wire(), ReverseZoneLabels(range));
  if (!ra.full()) {
    *d = Negative(q, Outcome::kNoData, zone, transport, out);
    return true;
  }
  const RecordTable::Host* host = records_->FindByAddress(ra.address());
  if (host == nullptr) {
    *d = Negative(q, Outcome::kNxDomain, zone, transport, out);
    return true;
  }
  if (q.qtype != rrtype::kPtr && q.qtype != rrtype::kAny) {
    *d = Negative(q, Outcome::kNoData, zone, transport, out);
    return true;
  }
  MessageWriter w(out);
  BeginResponse(q, Options(rcode::kNoError, true, transport), &w);
  w.AddNameRecord(Section::kAnswer, q.name.wire(), rrtype::kPtr, config_.ttl, host->name.wire());
  *d = Finish(w, Outcome::kReverse);
  return true;
}

Decision ServerCore::Decide(const Query& q, Transport transport, MutableByteSpan out) {
  const RecordTable& t = *records_;
  const std::span<const uint8_t> lower = q.lower.wire();
  const bool in_zone = WireNameIsSubdomain(lower, t.domain().wire());
  const bool zone_transfer = q.qtype == rrtype::kAxfr || q.qtype == rrtype::kIxfr;
  const bool class_in = q.qclass == rrclass::kIn || q.qclass == rrclass::kAny;
  if (const RecordTable::Host* host = t.Find(lower); host != nullptr || in_zone) {
    if (zone_transfer || !class_in) return Refuse(q, Outcome::kZoneRefused, transport, out);
    if (host != nullptr) return AnswerHost(q, *host, transport, out);
    if (q.qtype == rrtype::kSoa && lower.size() == t.domain().size()) {
      MessageWriter w(out);
      BeginResponse(q, Options(rcode::kNoError, true, transport), &w);
      w.AddSoa(Section::kAnswer, q.name.wire(), config_.ttl, t.soa());
      return Finish(w, Outcome::kAnswer);
    }
    const bool exists = lower.size() == t.domain().size() || t.IsEmptyNonTerminal(lower);
    return Negative(q, exists ? Outcome::kNoData : Outcome::kNxDomain, t.domain().wire(), transport,
                    out);
  }
  if (config_.expand_single_label && class_in && q.lower.LabelCount() == 1) {
    // label + domain, built in place: no allocation.
    const size_t label = lower.size() - 1;  // without the root
    if (label + t.domain().size() <= kMaxNameLength) {
      std::array<uint8_t, kMaxNameLength> full;
      std::copy_n(lower.begin(), label, full.begin());
      std::copy_n(t.domain().wire().begin(), t.domain().size(), full.begin() + label);
      const RecordTable::Host* host = t.Find({full.data(), label + t.domain().size()});
      if (host != nullptr) return AnswerHost(q, *host, transport, out);
    }
  }
  if (Decision d; class_in && AnswerReverse(q, transport, out, &d)) return d;
  const SplitRoute* best = nullptr;
  for (const SplitRoute& r : config_.split) {
    if (WireNameIsSubdomain(lower, r.suffix.wire()) &&
        (best == nullptr || r.suffix.size() > best->suffix.size())) {
      best = &r;
    }
  }
  Decision d;
  if (best != nullptr || config_.default_upstream >= 0) {
    d.outcome = Outcome::kForward;
    d.upstream = best != nullptr ? best->upstream : config_.default_upstream;
    ++stats_.outcomes[static_cast<size_t>(d.outcome)];
    return d;
  }
  return Refuse(q, Outcome::kNoUpstream, transport, out);
}

}  // namespace meshvpn::dns
