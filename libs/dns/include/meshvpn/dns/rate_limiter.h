// SourceRateLimiter: a token bucket per client address (IPv6 clients by their /64), in a table of
// bounded size, so one client cannot take the whole server and memory stays bounded however many
// addresses a flood comes from.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::dns {

struct RateLimitConfig {
  double queries_per_second = 200;  // per source; 0 turns the limiter off
  double burst = 400;               // the bucket's size: queries a quiet source may send at once
  size_t max_sources = 65536;       // table bound (about 48 bytes each)
};

struct RateLimitStats {
  uint64_t limited = 0;           // queries refused for their source's rate
  uint64_t overflow_queries = 0;  // queries from sources beyond the table (the shared bucket)
  uint64_t evictions = 0;         // idle sources dropped from a full table
};

// Not thread-safe. Allow() allocates only while the table grows towards max_sources.
class SourceRateLimiter {
 public:
  explicit SourceRateLimiter(RateLimitConfig config = {});

  // Whether a query from `source` may be answered now (and takes a token if so).
  bool Allow(const udp::Endpoint& source, MonoTime now);

  size_t tracked_sources() const { return buckets_.size(); }
  const RateLimitStats& stats() const { return stats_; }
  const RateLimitConfig& config() const { return config_; }

 private:
  struct Key {
    std::array<uint8_t, 16> bytes{};
    bool v6 = false;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(H::combine_contiguous(std::move(h), k.bytes.data(), k.bytes.size()), k.v6);
    }
  };
  struct Bucket {
    double tokens = 0;
    MonoTime last;
  };
  bool Take(Bucket& b, MonoTime now);
  // Drops the sources whose bucket has refilled (idle ones): they lose nothing by it.
  void Sweep(MonoTime now);

  RateLimitConfig config_;
  absl::flat_hash_map<Key, Bucket> buckets_;
  Bucket overflow_;  // shared by the sources that find the table full
  MonoTime last_sweep_;
  RateLimitStats stats_;
};

}  // namespace meshvpn::dns
