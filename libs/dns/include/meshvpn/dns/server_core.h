// ServerCore: the MagicDNS server's decisions, sans-I/O. For each query it either writes the
// answer (tailnet names, reverse names of tailnet addresses, errors, refusals) or says which
// upstream to forward it to (split DNS, then the default upstream). Drivers do the I/O
// (uv_server.h); the answer path for the tailnet zone allocates nothing and formats no strings.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/dns/allow_list.h"
#include "meshvpn/dns/query.h"
#include "meshvpn/dns/rate_limiter.h"
#include "meshvpn/dns/records.h"
#include "meshvpn/dns/response.h"
#include "meshvpn/dns/writer.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::dns {

enum class Transport : uint8_t { kUdp, kTcp };

// Names under `suffix` go to upstream number `upstream` (an index the driver gives meaning to).
struct SplitRoute {
  Name suffix;
  int upstream = 0;
};

struct ServerCoreConfig {
  Name domain;  // the tailnet domain, e.g. "example.com"
  AllowList allow = AllowList::TailnetAndLoopback();
  RateLimitConfig rate;                      // per source; queries_per_second 0 turns it off
  uint32_t ttl = 300;                        // of A, AAAA and PTR answers
  size_t max_udp_size = kDefaultMaxUdpSize;  // our cap on UDP answers, advertised in our OPT
  std::vector<SplitRoute> split;             // the longest matching suffix wins
  int default_upstream = -1;                 // -1: none (other names are REFUSED)
  // A single-label name ("laptop.") is looked up as laptop.DOMAIN, as a search domain would
  // have made it; answered with the name as asked.
  bool expand_single_label = true;
};

// What happened to one query: a counter and a label each (ToString).
enum class Outcome : uint8_t {
  kAnswer,       // tailnet name with records of the type
  kNoData,       // tailnet name, none of that type (NOERROR, empty answer, SOA)
  kNxDomain,     // in the zone (or a tailnet reverse name), no such name (SOA)
  kReverse,      // PTR of a tailnet address
  kForward,      // to an upstream: see Decision::upstream
  kNoUpstream,   // not ours and no upstream for it: REFUSED
  kRefused,      // the client is not in the allow list: REFUSED
  kRateLimited,  // dropped: the client's rate limit
  kZoneRefused,  // a zone transfer or another class in our zone: REFUSED
  kFormErr,      // ParseQuery: FORMERR
  kNotImp,       // ParseQuery: NOTIMP
  kBadVers,      // ParseQuery: BADVERS
  kDropped,      // no usable header, or a response: not answered
  kNoSpace,      // the answer could not be written (the buffer is too small): not answered
  kCount,
};
std::string_view ToString(Outcome o);

struct Decision {
  Outcome outcome = Outcome::kDropped;
  size_t size = 0;    // bytes of the response in `out` (0 for kForward and the drops)
  int upstream = -1;  // kForward
  bool truncated = false;
};

struct ServerCoreStats {
  std::array<uint64_t, static_cast<size_t>(Outcome::kCount)> outcomes{};
  uint64_t udp_queries = 0;
  uint64_t tcp_queries = 0;
  uint64_t truncated = 0;  // answers sent with TC
  uint64_t record_swaps = 0;
};

// Not thread-safe (one loop thread). The record table is shared: SetRecords swaps in a new one.
class ServerCore {
 public:
  ServerCore(ServerCoreConfig config, std::shared_ptr<const RecordTable> records);

  // Handles one query from `from`. `q` is scratch the caller reuses (it holds the parsed query
  // afterwards, for logging and forwarding); `out` receives the response (64 KiB always
  // suffices; over UDP 4096 bytes do).
  Decision Handle(ByteSpan message, const udp::Endpoint& from, Transport transport, MonoTime now,
                  Query* q, MutableByteSpan out);

  void SetRecords(std::shared_ptr<const RecordTable> records);
  const std::shared_ptr<const RecordTable>& records() const { return records_; }
  const ServerCoreConfig& config() const { return config_; }
  const ServerCoreStats& stats() const { return stats_; }
  const SourceRateLimiter& rate_limiter() const { return limiter_; }
  // RA in our answers: true when there is an upstream to recurse through.
  bool recursion_available() const;

 private:
  Decision Decide(const Query& q, Transport transport, MutableByteSpan out);
  Decision AnswerHost(const Query& q, const RecordTable::Host& host, Transport transport,
                      MutableByteSpan out);
  // The negative answers: NXDOMAIN or NODATA with `soa_owner`'s SOA in the authority section.
  Decision Negative(const Query& q, Outcome outcome, std::span<const uint8_t> soa_owner,
                    Transport transport, MutableByteSpan out);
  Decision Refuse(const Query& q, Outcome outcome, Transport transport, MutableByteSpan out);
  // A name in in-addr.arpa / ip6.arpa under a tailnet range: answered here.
  bool AnswerReverse(const Query& q, Transport transport, MutableByteSpan out, Decision* d);
  Decision Finish(MessageWriter& w, Outcome outcome);
  ResponseOptions Options(uint16_t rcode, bool authoritative, Transport transport) const;

  ServerCoreConfig config_;
  std::shared_ptr<const RecordTable> records_;
  SourceRateLimiter limiter_;
  ServerCoreStats stats_;
};

}  // namespace meshvpn::dns
