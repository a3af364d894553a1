// Forwarder: queries relayed to upstream resolvers, sans-I/O. Each gets a fresh random ID in a
// bounded table; the answer must come back with that ID and the same question, or it is
// ignored (counted). A UDP answer with TC is retried over TCP; a client's UDP answer larger than
// it accepts is truncated at a record boundary with TC set; a lost attempt is sent again, and
// when every attempt is lost, or the table is full, the client gets SERVFAIL.
//
//   client query ──Begin──▶ [in flight: id, attempt, deadline] ──▶ upstream (UDP)
//        ▲                       │  OnAnswer: TC ──▶ kRetryTcp ──▶ upstream (TCP, once)
//        └──── kDeliver ◀────────┤  OnAnswer: matches ──▶ the client's ID, case and size
//        └──── SERVFAIL ◀────────┘  Expire: attempts used up / OnTcpFailure
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/random/random.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/dns/query.h"
#include "meshvpn/dns/server_core.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::dns {

// Who asked: the address, and for TCP the driver's connection number.
struct ClientRef {
  Transport transport = Transport::kUdp;
  udp::Endpoint from;
  uint64_t connection = 0;
};

struct ForwarderConfig {
  size_t max_in_flight = 4096;  // queries waiting for an upstream; beyond, SERVFAIL at once
  std::chrono::milliseconds attempt_timeout{1000};  // per UDP attempt
  int udp_attempts = 2;
  std::chrono::milliseconds tcp_timeout{2000};  // the TCP retry after a truncated answer
  size_t max_udp_size = kDefaultMaxUdpSize;     // our cap on UDP answers to clients
  size_t max_query_size = 4096;                 // larger queries are not forwarded (SERVFAIL)
};

// A query to send upstream: `message` stays valid until the next call into the Forwarder.
struct UpstreamSend {
  int upstream = 0;
  Transport via = Transport::kUdp;
  uint32_t key = 0;     // upstream and ID: what OnTcpFailure names
  uint64_t serial = 0;  // this query's number (keys are reused, serials never)
  ByteSpan message;
};

// An answer for a client: `size` bytes of the caller's buffer.
struct ClientDelivery {
  ClientRef client;
  size_t size = 0;
  int upstream = 0;
  bool servfail = false;   // we failed it (timeout, full table, a failed TCP retry)
  bool truncated = false;  // we truncated it to the client's UDP size
  Duration latency{};
};

enum class AnswerAction : uint8_t {
  kIgnore,    // not an answer we wait for (counted in the stats)
  kDeliver,   // send the ClientDelivery
  kRetryTcp,  // truncated over UDP: send the UpstreamSend over TCP
};

struct ForwarderStats {
  uint64_t forwarded = 0;
  uint64_t answered = 0;
  uint64_t retransmits = 0;
  uint64_t tcp_retries = 0;
  uint64_t truncated_for_client = 0;
  uint64_t servfail_timeout = 0;
  uint64_t servfail_full = 0;       // the table was full, or the query too large
  uint64_t servfail_tcp = 0;        // the TCP retry failed
  uint64_t servfail_malformed = 0;  // an answer we could not truncate
  uint64_t ignored_unknown = 0;     // no such ID in flight (late, duplicate or forged)
  uint64_t ignored_mismatch = 0;    // the ID is ours but the question is not
  uint64_t ignored_malformed = 0;   // not a DNS response
};

// Not thread-safe. Begin allocates (the query is kept for retries); answers do not, except
// when one must be truncated for its client.
class Forwarder {
 public:
  explicit Forwarder(ForwarderConfig config = {});

  // Starts forwarding `q` (the client's `message`, as received) to `upstream`. True: send
  // *send. False: the table is full or the query too large: `out` holds SERVFAIL for the client
  // (*servfail_size bytes; 0 if even that could not be written).
  bool Begin(const Query& q, ByteSpan message, const ClientRef& client, int upstream, MonoTime now,
             UpstreamSend* send, MutableByteSpan out, size_t* servfail_size);

  // A message from upstream `upstream`, over `via`. kDeliver: `out` holds the client's answer.
  AnswerAction OnAnswer(int upstream, Transport via, ByteSpan answer, MonoTime now,
                        MutableByteSpan out, ClientDelivery* delivery, UpstreamSend* retry);

  // The TCP retry `key` / `serial` could not connect or was closed without an answer.
  bool OnTcpFailure(uint32_t key, uint64_t serial, MonoTime now, MutableByteSpan out,
                    ClientDelivery* delivery);

  // Runs the attempts whose time is up: `resend` for another UDP attempt, `deliver` for a
  // SERVFAIL (its bytes are in `out` during the call).
  void Expire(MonoTime now, MutableByteSpan out,
              absl::FunctionRef<void(const UpstreamSend&)> resend,
              absl::FunctionRef<void(const ClientDelivery&, ByteSpan)> deliver);

  // When Expire next has work (nullopt: nothing in flight).
  std::optional<MonoTime> NextDeadline() const;
  size_t in_flight() const { return pending_.size(); }
  const ForwarderStats& stats() const { return stats_; }
  const ForwarderConfig& config() const { return config_; }

 private:
  struct Pending {
    ClientRef client;
    uint16_t client_id = 0;
    int upstream = 0;
    uint64_t serial = 0;
    int attempts = 0;         // UDP attempts sent
    bool tcp = false;         // retrying over TCP
    size_t name_size = 0;     // the question name's wire length (from offset 12)
    size_t client_limit = 0;  // the largest UDP answer the client takes
    MonoTime started;
    std::vector<uint8_t> message;  // the upstream query (our ID); the client's name case
  };
  struct Deadline {
    MonoTime at;
    uint32_t key = 0;
    uint64_t serial = 0;
    int attempts = 0;
    bool tcp = false;
    bool operator>(const Deadline& o) const { return at > o.at; }
  };
  // Writes SERVFAIL for `p` into `out`; returns its size (0 if it could not be written).
  size_t WriteServfail(const Pending& p, MutableByteSpan out);
  void Arm(uint32_t key, const Pending& p, MonoTime at);
  UpstreamSend SendOf(uint32_t key, const Pending& p, Transport via) const;

  ForwarderConfig config_;
  absl::flat_hash_map<uint32_t, Pending> pending_;  // key: upstream << 16 | ID
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  absl::BitGen ids_;
  uint64_t next_serial_ = 1;
  Query scratch_;
  ForwarderStats stats_;
};

}  // namespace meshvpn::dns
