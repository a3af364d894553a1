// The per-source token buckets and their bounded table.
#include "meshvpn/dns/rate_limiter.h"

#include <algorithm>
#include <chrono>

namespace meshvpn::dns {

SourceRateLimiter::SourceRateLimiter(RateLimitConfig config) : config_(config) {
  config_.burst = std::max(config_.burst, 1.0);
  // The shared bucket refills as fast as a few sources would; it starts full.
  overflow_.tokens = config_.burst;
}

bool SourceRateLimiter::Take(Bucket& b, MonoTime now) {
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  if (elapsed > 0) {
    b.tokens = std::min(config_.burst, b.tokens + elapsed * config_.queries_per_second);
    b.last = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void SourceRateLimiter::Sweep(MonoTime now) {
  last_sweep_ = now;
  const double refill_seconds = config_.burst / config_.queries_per_second;
  const size_t before = buckets_.size();
  absl::erase_if(buckets_, [&](const auto& entry) {
    return std::chrono::duration<double>(now - entry.second.last).count() >= refill_seconds;
  });
  stats_.evictions += before - buckets_.size();
}

bool SourceRateLimiter::Allow(const udp::Endpoint& source, MonoTime now) {
  if (config_.queries_per_second <= 0) return true;
  Key key;
  key.v6 = source.is_v6();
  const auto address = source.address();
  // An IPv6 client usually has a whole /64: limit the /64, not each address in it.
  std::copy_n(address.begin(), key.v6 ? 8 : 4, key.bytes.begin());
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= config_.max_sources && now - last_sweep_ >= std::chrono::seconds(1)) {
      Sweep(now);
    }
    if (buckets_.size() >= config_.max_sources) {
      ++stats_.overflow_queries;
      if (Take(overflow_, now)) return true;
      ++stats_.limited;
      return false;
    }
    it = buckets_.emplace(key, Bucket{config_.burst, now}).first;
  }
  if (Take(it->second, now)) return true;
  ++stats_.limited;
  return false;
}

}  // namespace meshvpn::dns
