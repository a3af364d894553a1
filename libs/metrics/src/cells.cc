#include "meshvpn/metrics/cells.h"

#include <cassert>

namespace meshvpn::metrics::internal {
namespace {

constexpr size_t kGaugeChunk = 64;  // gauges per chunk (4 KiB)

std::atomic<size_t> g_next_shard{0};

}  // namespace

struct alignas(64) CellArena::Block {
  Cell cells[kBlockCells];
};

size_t AssignShard() noexcept {
  const size_t shard = g_next_shard.fetch_add(1, std::memory_order_relaxed) % kShards;
  t_row_plus_one = shard * kShardStride + 1;
  return t_row_plus_one;
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
