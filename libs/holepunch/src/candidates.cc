#include "meshvpn/holepunch/candidates.h"

#include <algorithm>

#include "meshvpn/base/status.h"

namespace meshvpn::holepunch {

bool MappingVaries(const std::vector<udp::Endpoint>& mapped) {
  return std::any_of(mapped.begin(), mapped.end(),
                     [&](const udp::Endpoint& e) { return !(e == mapped.front()); });
}

std::vector<Candidate> LocalCandidates(const std::vector<udp::Endpoint>& addresses, uint16_t port,
                                       size_t max) {
  std::vector<Candidate> out;
  for (const udp::Endpoint& a : addresses) {
    if (out.size() >= max) break;
    if (a.IsUnspecified()) continue;
    const Candidate c{a.WithPort(port), CandidateKind::kLocal};
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<CandidateGatherer>> CandidateGatherer::Create(GatherOptions options,
                                                                             MonoTime now) {
  std::unique_ptr<CandidateGatherer> g(new CandidateGatherer(std::move(options)));
  g->result_.candidates =
      LocalCandidates(g->options_.local_addresses, g->options_.port, g->options_.max_local);
  stun::BindingOptions binding;
  binding.policy = g->options_.policy;
  binding.software = "meshvpn holepunch";
  for (const udp::Endpoint& server : g->options_.stun_servers) {
    MESHVPN_ASSIGN_OR_RETURN(stun::TransactionId id, g->client_.StartBinding(server, now, binding));
    g->ids_.push_back(id);
    StunAnswer a;
    a.server = server;
    g->result_.answers.push_back(a);
  }
  g->Collect();
  return g;
}

std::optional<Outgoing> CandidateGatherer::NextSend(MonoTime now) {
  auto d = client_.NextSend(now);
  if (!d) return std::nullopt;
  return Outgoing{d->data, d->to, 0};
}

void CandidateGatherer::OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t,
                                   MonoTime now) {
  (void)client_.Receive(data, from, now);
  Collect();
}

void CandidateGatherer::HandleExpiry(MonoTime now) {
  client_.HandleExpiry(now);
  Collect();
}

void CandidateGatherer::Collect() {
  while (auto r = client_.NextResult()) {
    for (size_t i = 0; i < ids_.size(); ++i) {
      if (ids_[i] != r->id) continue;
      StunAnswer& a = result_.answers[i];
      a.outcome = r->outcome;
      a.rtt = r->rtt;
      if (r->outcome == stun::Outcome::kSuccess) a.mapped = r->mapped;
    }
  }
  if (done_ || !client_.Done()) return;
  done_ = true;
  std::vector<udp::Endpoint> mapped;
  for (const StunAnswer& a : result_.answers) {
    if (!a.mapped) continue;
    mapped.push_back(*a.mapped);
    const Candidate c{*a.mapped, CandidateKind::kStun};
    const bool known = std::any_of(result_.candidates.begin(), result_.candidates.end(),
                                   [&](const Candidate& o) { return o.endpoint == c.endpoint; });
    if (!known) result_.candidates.push_back(c);
  }
  result_.mapping_varies = !mapped.empty() && MappingVaries(mapped);
}

}  // namespace meshvpn::holepunch
