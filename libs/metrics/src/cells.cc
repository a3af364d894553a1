#include "meshvpn/metrics/cells.h"

#include <pthread.h>

#include <cassert>
#include <cstdint>

namespace meshvpn::metrics::internal {
namespace {

constexpr size_t kGaugeChunk = 64;  // gauges per chunk (4 KiB)

// Live threads per shard. A thread takes the least-loaded shard on its first update and gives it
// back when it exits (a pthread key destructor: no allocation, unlike a thread_local with a
// destructor), so short-lived threads do not pile up on one shard.
std::atomic<uint32_t> g_active[kShards];
std::atomic<size_t> g_rotor{0};  // where the search starts, so ties spread out

void ReleaseShard(void* value) {
  const size_t shard = reinterpret_cast<uintptr_t>(value) - 1;
  g_active[shard].fetch_sub(1, std::memory_order_relaxed);
}

pthread_key_t* ShardKey() {
  static pthread_key_t key;
  static const bool ok = pthread_key_create(&key, &ReleaseShard) == 0;
  return ok ? &key : nullptr;
}

}  // namespace

struct alignas(64) CellArena::Block {
  Cell cells[kBlockCells];
};

size_t AssignShard() noexcept {
  const size_t start = g_rotor.fetch_add(1, std::memory_order_relaxed);
  size_t best = start % kShards;
  uint32_t best_load = g_active[best].load(std::memory_order_relaxed);
  for (size_t k = 1; k < kShards && best_load > 0; ++k) {
    const size_t shard = (start + k) % kShards;
    const uint32_t load = g_active[shard].load(std::memory_order_relaxed);
    if (load < best_load) {
      best = shard;
      best_load = load;
    }
  }
  g_active[best].fetch_add(1, std::memory_order_relaxed);
  if (pthread_key_t* key = ShardKey()) {
    (void)pthread_setspecific(*key, reinterpret_cast<void*>(best + 1));
  }
  t_row_plus_one = best * kShardStride + 1;
  return t_row_plus_one;
}

uint32_t ThreadsOnShard(size_t shard) noexcept {
  return g_active[shard].load(std::memory_order_relaxed);
}

uint64_t SumRows(const Cell* run, size_t i) noexcept {
  uint64_t total = 0;
  for (size_t r = 0; r < kShards; ++r) {
    total += run[r * kShardStride + i].load(std::memory_order_relaxed);
  }
  return total;
}

double SumRowsDouble(const Cell* run, size_t i) noexcept {
  double total = 0;
  for (size_t r = 0; r < kShards; ++r) total += LoadDouble(run[r * kShardStride + i]);
  return total;
}

CellArena::CellArena() : used_in_gauge_chunk_(kGaugeChunk) {}
CellArena::~CellArena() = default;

Cell* CellArena::AllocateRun(size_t n) {
  assert(n >= 1 && n <= kMaxRun);
  std::lock_guard<std::mutex> lock(mu_);
  if (kRowCells - used_in_block_ < n) {
    blocks_.push_back(std::make_unique<Block>());
    used_in_block_ = 0;
  }
  Cell* run = blocks_.back()->cells + used_in_block_;
  used_in_block_ += n;
  return run;
}

GaugeCell* CellArena::AllocateGauge() {
  std::lock_guard<std::mutex> lock(mu_);
  if (used_in_gauge_chunk_ == kGaugeChunk) {
    gauge_chunks_.push_back(std::make_unique<GaugeCell[]>(kGaugeChunk));
    used_in_gauge_chunk_ = 0;
  }
  return &gauge_chunks_.back()[used_in_gauge_chunk_++];
}

size_t CellArena::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocks_.size() * sizeof(Block) + gauge_chunks_.size() * kGaugeChunk * sizeof(GaugeCell);
}

Cell* DiscardRun() noexcept {
  alignas(64) static Cell discard[kBlockCells];
  return discard;
}

GaugeCell* DiscardGauge() noexcept {
  static GaugeCell discard;
  return &discard;
}

}  // namespace meshvpn::metrics::internal
