// The storage behind metric handles: per-shard rows of relaxed atomic cells, so that threads
// updating one counter write different cache lines; a scrape sums a cell over its rows.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace meshvpn::metrics::internal {

// A block of cells is kShards rows. A thread is given the shard with the fewest live threads the
// first time it updates a metric, writes only that shard's row, and gives the shard back when it
// exits. More live threads than shards share rows, which stays exact (the cells are atomic) but
// no longer contention-free.
inline constexpr size_t kShards = 16;
// Cells in one row of a block. A histogram's cells (its buckets, +Inf and the sum) share a row.
inline constexpr size_t kRowCells = 512;
// From a cell to the same cell in the next row, in cells: one row plus a cache line, so that the
// rows do not all sit at the same offset in their pages (and so in the same L1 set).
inline constexpr size_t kShardStride = kRowCells + 8;
inline constexpr size_t kBlockCells = kShards * kShardStride;
inline constexpr size_t kMaxRun = kRowCells;

using Cell = std::atomic<uint64_t>;

// A gauge's value (a double's bits) alone on its cache line: gauges are set, not summed.
struct alignas(64) GaugeCell {
  std::atomic<uint64_t> bits{0};
};

// This thread's row offset plus one (0: not assigned yet).
inline constinit thread_local size_t t_row_plus_one = 0;
// Assigns the calling thread's shard; returns the new t_row_plus_one.
size_t AssignShard() noexcept;
// Live threads that hold `shard` (for tests).
uint32_t ThreadsOnShard(size_t shard) noexcept;
// The offset, in cells, of the calling thread's row from row 0.
inline size_t RowOffset() noexcept {
  size_t row = t_row_plus_one;
  if (row == 0) [[unlikely]] {
    row = AssignShard();
  }
  return row - 1;
}

// Adds to a cell that holds a double's bits (a histogram's sum, a gauge). Lock-free.
inline void AddDouble(std::atomic<uint64_t>& cell, double delta) noexcept {
  uint64_t old = cell.load(std::memory_order_relaxed);
  while (!cell.compare_exchange_weak(old,
                                     std::bit_cast<uint64_t>(std::bit_cast<double>(old) + delta),
                                     std::memory_order_relaxed, std::memory_order_relaxed)) {
  }
}
inline double LoadDouble(const std::atomic<uint64_t>& cell) noexcept {
  return std::bit_cast<double>(cell.load(std::memory_order_relaxed));
}

// The sum of cell `i` of a run over all rows.
uint64_t SumRows(const Cell* run, size_t i) noexcept;
// The sum of the doubles held in cell `i` of a run over all rows.
double SumRowsDouble(const Cell* run, size_t i) noexcept;

// Owns the blocks of cells of one registry and hands out runs that never move. Allocates only
// when a metric is created (setup), never when one is updated. Thread-safe.
class CellArena {
 public:
  CellArena();
  ~CellArena();
  CellArena(const CellArena&) = delete;
  CellArena& operator=(const CellArena&) = delete;

  // `n` (1..kMaxRun) zeroed cells in every row: cell i of row r is run[r * kShardStride + i].
  Cell* AllocateRun(size_t n);
  GaugeCell* AllocateGauge();
  // Bytes held by the arena (for the docs' memory figures and tests).
  size_t bytes() const;

 private:
  struct Block;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Block>> blocks_;
  size_t used_in_block_ = kRowCells;  // cells taken from each row of the newest block
  std::vector<std::unique_ptr<GaugeCell[]>> gauge_chunks_;
  size_t used_in_gauge_chunk_;
};

// Where default-constructed handles write: cells nobody reads.
Cell* DiscardRun() noexcept;
GaugeCell* DiscardGauge() noexcept;

}  // namespace meshvpn::metrics::internal
