// The per-query lines: what was asked, and what it was answered with and from where.
#include "query_printer.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"
#include "meshvpn/dns/message.h"

namespace meshvpn::tools {

namespace {

std::string AddressText(const dns::Rdata& rdata) {
  char text[INET6_ADDRSTRLEN] = {};
  if (const auto* a = std::get_if<dns::AData>(&rdata)) {
    inet_ntop(AF_INET, a->address.data(), text, sizeof(text));
  } else if (const auto* aaaa = std::get_if<dns::AaaaData>(&rdata)) {
    inet_ntop(AF_INET6, aaaa->address.data(), text, sizeof(text));
  } else if (const auto* name = std::get_if<dns::NameData>(&rdata)) {
    return name->name.ToString();
  } else {
    return "";
  }
  return text;
}

// One line per answer record ("→ 100.100.1.1 (from tailnet)"), or the rcode when there is none.
void PrintAnswers(std::FILE* out, ByteSpan response, const std::string& from_where,
                  const std::string& nodata_hint) {
  absl::StatusOr<dns::Message> m = dns::Message::Parse(response);
  if (!m.ok()) {
    std::fprintf(out, "→ (an answer we cannot read: %s)\n",
                 std::string(m.status().message()).c_str());
    return;
  }
  const uint16_t rcode = m->rcode();
  size_t printed = 0;
  for (const dns::Record& r : m->answers) {
    std::string text = AddressText(r.rdata);
    if (text.empty()) text = absl::StrCat(TypeText(r.type), " record");
    const char* how = r.type == dns::rrtype::kAaaa && from_where == "from tailnet"
                          ? "Tailscale IPv6"
                          : from_where.c_str();
    std::fprintf(out, "→ %s (%s)\n", text.c_str(), how);
    ++printed;
  }
  if (printed == 0) {
    const std::string name(dns::RcodeName(rcode));
    if (rcode == dns::rcode::kNoError) {
      std::fprintf(out, "→ NODATA: %s (%s)\n", nodata_hint.c_str(), from_where.c_str());
    } else {
      std::fprintf(out, "→ %s (%s)\n",
                   name.empty() ? absl::StrCat("rcode ", rcode).c_str() : name.c_str(),
                   from_where.c_str());
    }
  }
  if (m->flags.tc()) std::fprintf(out, "→ truncated (TC): the client should ask over TCP\n");
}

}  // namespace

std::string TypeText(uint16_t type) {
  const std::string_view name = dns::TypeName(type);
  return name.empty() ? absl::StrCat("TYPE", type) : std::string(name);
}

void QueryPrinter::PrintQuestion(const dns::Query& q) {
  if (!q.has_question) {
    std::fprintf(out_, "[Query] (no question)\n");
    return;
  }
  std::fprintf(out_, "[Query] %s %s\n", q.name.ToString().c_str(), TypeText(q.qtype).c_str());
}

void QueryPrinter::OnAnswered(const dns::Query& q, const udp::Endpoint& from,
                              const dns::Decision& d, ByteSpan response) {
  using dns::Outcome;
  switch (d.outcome) {
    case Outcome::kDropped:
    case Outcome::kRateLimited:
      return;  // floods must not flood the terminal: counted in the statistics
    case Outcome::kRefused:
      PrintQuestion(q);
      std::fprintf(out_, "→ REFUSED: client %s is not in --allow\n", from.AddressString().c_str());
      return;
    case Outcome::kNoUpstream:
      PrintQuestion(q);
      std::fprintf(out_, "→ REFUSED: not a tailnet name, and no -upstream\n");
      return;
    default:
      break;
  }
  PrintQuestion(q);
  if (response.empty()) {
    std::fprintf(out_, "→ not answered (%s)\n", std::string(dns::ToString(d.outcome)).c_str());
    return;
  }
  const std::string where = d.outcome == Outcome::kNxDomain ? "not in the tailnet"
                            : d.outcome == Outcome::kAnswer || d.outcome == Outcome::kReverse ||
                                    d.outcome == Outcome::kNoData
                                ? "from tailnet"
                                : std::string(dns::ToString(d.outcome));
  PrintAnswers(out_, response, where, absl::StrCat("no ", TypeText(q.qtype), " record"));
}

void QueryPrinter::OnForwarded(const dns::Query& q, const udp::Endpoint&, int upstream) {
  PrintQuestion(q);
  std::fprintf(out_, "→ Forwarding to %s\n",
               upstream_names_[static_cast<size_t>(upstream)].c_str());
}

void QueryPrinter::OnUpstreamAnswer(const dns::ClientDelivery& d, ByteSpan response) {
  if (d.servfail) {
    std::fprintf(out_, "→ SERVFAIL: no usable answer from %s\n",
                 upstream_names_[static_cast<size_t>(d.upstream)].c_str());
    return;
  }
  PrintAnswers(out_, response, "from upstream", "no record of that type");
}

}  // namespace meshvpn::tools
