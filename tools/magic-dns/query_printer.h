// QueryPrinter: magic-dns's per-query lines in the seed's shape ("[Query] laptop.example.com A",
// "→ 100.100.1.1 (from tailnet)", "→ Forwarding to 8.8.8.8:53", "→ ... (from upstream)").
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "meshvpn/dns/uv_server.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::tools {

class QueryPrinter final : public dns::QueryObserver {
 public:
  QueryPrinter(std::FILE* out, std::vector<std::string> upstream_names)
      : out_(out), upstream_names_(std::move(upstream_names)) {}

  void OnAnswered(const dns::Query& q, const udp::Endpoint& from, const dns::Decision& d,
                  ByteSpan response) override;
  void OnForwarded(const dns::Query& q, const udp::Endpoint& from, int upstream) override;
  void OnUpstreamAnswer(const dns::ClientDelivery& d, ByteSpan response) override;

 private:
  void PrintQuestion(const dns::Query& q);
  std::FILE* out_;
  std::vector<std::string> upstream_names_;
};

// "A", "AAAA", ... or "TYPE65" (RFC 3597) for a type without a mnemonic.
std::string TypeText(uint16_t type);

}  // namespace meshvpn::tools
