#include "meshvpn/wg/ratelimiter.h"

#include <algorithm>
#include <bit>

#include "meshvpn/base/secure.h"

namespace meshvpn::wg {
namespace {

// A 64-bit finaliser (the murmur3/splitmix style multiply-xorshift), keyed by the seed.
uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

uint64_t Load64(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}

}  // namespace

RateLimiter::RateLimiter(Options options) : options_(options) {
  options_.per_second = std::max<uint32_t>(options_.per_second, 1);
  options_.burst = std::max<uint32_t>(options_.burst, 1);
  options_.max_entries = std::max<size_t>(options_.max_entries, 1);
  cost_ = 1'000'000'000 / options_.per_second;
  max_tokens_ = cost_ * options_.burst;
  uint8_t seed[8] = {};
  if (FillRandom(seed).ok()) seed_ = Load64(seed, 8);
  // At most half full, so probe chains stay short.
  const size_t capacity = std::bit_ceil(options_.max_entries * 2);
  table_.assign(capacity, Slot{});
  spare_.assign(capacity, Slot{});
}

void RateLimiter::Clear() {
  std::fill(table_.begin(), table_.end(), Slot{});
  size_ = 0;
}

RateLimiter::Slot* RateLimiter::Find(std::vector<Slot>& table, uint64_t key, uint8_t family) {
  const size_t mask = table.size() - 1;
  for (size_t i = Mix(key ^ seed_ ^ family) & mask;; i = (i + 1) & mask) {
    Slot& s = table[i];
    if (s.family == 0 || (s.family == family && s.key == key)) return &s;
  }
}

void RateLimiter::Sweep(MonoTime now) {
  last_sweep_ = now;
  std::fill(spare_.begin(), spare_.end(), Slot{});
  size_t live = 0;
  for (const Slot& s : table_) {
    if (s.family == 0 || now - s.last >= options_.idle_expiry) continue;
    *Find(spare_, s.key, s.family) = s;
    ++live;
  }
  table_.swap(spare_);
  size_ = live;
}

bool RateLimiter::Allow(ByteSpan source, MonoTime now) {
  uint64_t key = 0;
  uint8_t family = 0;
  if (source.size() == 4) {
    key = Load64(source.data(), 4);
    family = 4;
  } else if (source.size() == 16) {
    key = Load64(source.data(), 8);  // the /64
    family = 6;
  } else {
    return false;
  }
  if (now - last_sweep_ >= options_.idle_expiry) Sweep(now);

  Slot* s = Find(table_, key, family);
  if (s->family == 0) {
    if (size_ >= options_.max_entries) return false;
    *s = Slot{key, family, max_tokens_ - cost_, now};
    ++size_;
    return true;
  }
  const int64_t elapsed =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - s->last).count();
  s->tokens = std::min(max_tokens_, s->tokens + std::clamp<int64_t>(elapsed, 0, max_tokens_));
  s->last = std::max(s->last, now);
  if (s->tokens < cost_) return false;
  s->tokens -= cost_;
  return true;
}

bool RateLimiter::Allow(const tun::IpAddress& source, MonoTime now) {
  return Allow(source.bytes(), now);
}

}  // namespace meshvpn::wg
