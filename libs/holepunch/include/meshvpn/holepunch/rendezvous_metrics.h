// RendezvousMetrics: a rendezvous server's RendezvousStats as Prometheus metrics (a
// metrics::Collector): registrations, acks, peer infos sent, pairs, expiries, errors, drops.
#pragma once

#include <vector>

#include "meshvpn/holepunch/rendezvous_server.h"
#include "meshvpn/metrics/collector.h"

namespace meshvpn::holepunch {

// Families: meshvpn_holepunch_registers_total, _acks_total, _peer_infos_total, _errors_total,
// _pairs_total, _expired_registrations_total, meshvpn_holepunch_dropped_datagrams_total{reason}.
// Threading: reads the server without a lock: scrape on its loop thread.
class RendezvousMetrics final : public metrics::Collector {
 public:
  explicit RendezvousMetrics(const RendezvousServer* server) : server_(server) {}
  std::vector<metrics::FamilyDesc> Describe() const override;
  void Collect(metrics::CollectOutput& out) override;

 private:
  const RendezvousServer* server_;
};

}  // namespace meshvpn::holepunch
