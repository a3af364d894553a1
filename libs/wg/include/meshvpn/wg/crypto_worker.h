// A second core for a device's transport crypto: the loop thread prepares jobs (routing,
// counters, replay pre-checks), one worker thread seals and opens them, and the loop thread
// completes them in order. Lock-free single-producer single-consumer rings both ways.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/spsc_ring.h"
#include "meshvpn/wg/crypto_job.h"
#include "meshvpn/wg/keypair.h"

namespace meshvpn::wg {

class Device;

struct CryptoWorkerStats {
  uint64_t jobs_inline = 0;     // small batches with nothing in flight, run on the loop thread
  uint64_t jobs_submitted = 0;  // handed to the worker thread
  uint64_t wakeups = 0;         // times the loop woke a sleeping worker
  uint64_t completions = 0;     // loop-thread callbacks that completed jobs
};

// The per-packet path takes no lock: jobs go out through one SpscRing and come back through
// another; the worker sleeps on a futex (std::atomic::wait) only when it has nothing to do, and
// tells the loop thread that completions wait through a thread-safe callback (UvDevice passes
// uv_async_send); the loop thread then calls Drain(). Buffers stay in the loop thread's PacketPool;
// the worker only touches the bytes of the buffers it was given and the keypairs' AEAD contexts
// (each used by one thread at a time: RunInline() is true only when nothing is in flight).
//
// Latency: a batch smaller than `inline_below` packets with nothing in flight runs on the loop
// thread (a ping does not pay for two thread hand-offs).
class CryptoWorker final : public CryptoExecutor {
 public:
  // Called on the worker thread when finished jobs wait for Drain(); must be thread-safe.
  using ReadyFn = void (*)(void* context);

  // Starts the thread. `capacity` bounds the jobs in flight (use the pool's size: every job
  // holds a pool buffer, so the rings never fill). `device` gets the completions; `pool` takes
  // back the buffers of jobs still in flight when the worker is destroyed.
  static absl::StatusOr<std::unique_ptr<CryptoWorker>> Start(Device* device, PacketPool* pool,
                                                             size_t capacity, ReadyFn ready,
                                                             void* ready_context,
                                                             size_t inline_below = 8);
  // Stops and joins the thread, then releases the buffers of jobs not completed. Keypairs
  // retired to it are destroyed. Call on the loop thread.
  ~CryptoWorker() override;
  CryptoWorker(const CryptoWorker&) = delete;
  CryptoWorker& operator=(const CryptoWorker&) = delete;

  // The driver says how many packets the coming Handle* calls belong to (one read batch); 0
  // (also after EndBatch) for single events: timers, injected packets.
  void BeginBatch(size_t packets) { batch_size_ = packets; }
  void EndBatch() { batch_size_ = 0; }
  // Completes, in order, every job the worker has finished (Device::CompleteCryptoJob), and
  // frees retired keypairs no job can touch any more. Loop thread. Returns how many.
  size_t Drain(MonoTime now);

  // CryptoExecutor.
  bool RunInline() override;
  void Submit(const CryptoJob& job) override;
  void Retire(std::unique_ptr<Keypair> keypair) override;

  size_t in_flight() const { return static_cast<size_t>(submitted_ - completed_); }
  const CryptoWorkerStats& stats() const { return stats_; }

 private:
  CryptoWorker(Device* device, PacketPool* pool, size_t capacity, ReadyFn ready,
               void* ready_context, size_t inline_below);
  void Run();  // the worker thread
  void FreeRetired();

  Device* device_;
  PacketPool* pool_;
  ReadyFn ready_;
  void* ready_context_;
  const size_t inline_below_;
  size_t batch_size_ = 0;
  SpscRing<CryptoJob> to_worker_;
  SpscRing<CryptoJob> from_worker_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> sleeping_{false};
  std::atomic<uint32_t> wake_{0};
  // Loop-thread counters: jobs handed over and jobs completed (their difference is in flight).
  uint64_t submitted_ = 0;
  uint64_t completed_ = 0;
  struct Retired {
    uint64_t after;  // free once completed_ reaches this
    std::unique_ptr<Keypair> keypair;
  };
  std::vector<Retired> retired_;
  CryptoWorkerStats stats_;
};

}  // namespace meshvpn::wg
