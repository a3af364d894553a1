#include "meshvpn/wg/crypto_worker.h"

#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "meshvpn/wg/device.h"

namespace meshvpn::wg {
namespace {

// The worker tells the loop thread about finished jobs every this many, so sending starts while
// it still works on the rest of a large batch.
constexpr size_t kReadyEvery = 32;

// A full barrier between a store and a later load (the sleep/wake handshake below).
// ThreadSanitizer does not support fences; there a locked read-modify-write, a full barrier on
// x86 and ARMv8.1, stands in (TSan checks the data the threads share, not this liveness rule).
#if defined(__SANITIZE_THREAD__)
std::atomic<uint32_t> fence_word{0};
void FullFence() { fence_word.fetch_add(0, std::memory_order_seq_cst); }
#else
void FullFence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
#endif

}  // namespace

absl::StatusOr<std::unique_ptr<CryptoWorker>> CryptoWorker::Start(Device* device, PacketPool* pool,
                                                                  size_t capacity, ReadyFn ready,
                                                                  void* ready_context,
                                                                  size_t inline_below) {
  if (device == nullptr || pool == nullptr || ready == nullptr || capacity == 0) {
    return absl::InvalidArgumentError(
        "crypto worker: needs a device, a pool, a capacity and a "
        "ready callback");
  }
  std::unique_ptr<CryptoWorker> worker(
      new CryptoWorker(device, pool, capacity, ready, ready_context, inline_below));
  try {
    worker->thread_ = std::thread(&CryptoWorker::Run, worker.get());
  } catch (const std::system_error& error) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("crypto worker: cannot start a thread: %s", error.what()));
  }
  return worker;
}

CryptoWorker::CryptoWorker(Device* device, PacketPool* pool, size_t capacity, ReadyFn ready,
                           void* ready_context, size_t inline_below)
    : device_(device),
      pool_(pool),
      ready_(ready),
      ready_context_(ready_context),
      inline_below_(inline_below),
      to_worker_(capacity),
      from_worker_(capacity) {
  retired_.reserve(8);
}

CryptoWorker::~CryptoWorker() {
  stop_.store(true, std::memory_order_seq_cst);
  wake_.fetch_add(1, std::memory_order_seq_cst);
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  // Jobs not completed: their buffers go back; nothing is sent or delivered.
  while (std::optional<CryptoJob> job = from_worker_.Pop()) pool_->Release(job->buffer);
  while (std::optional<CryptoJob> job = to_worker_.Pop()) pool_->Release(job->buffer);
  retired_.clear();
}

bool CryptoWorker::RunInline() {
  if (submitted_ != completed_ || batch_size_ >= inline_below_) return false;
  ++stats_.jobs_inline;
  return true;
}

void CryptoWorker::Submit(const CryptoJob& job) {
  // Cannot stay full: every job holds one of the pool's buffers and capacity >= the pool.
  while (!to_worker_.Push(job)) std::this_thread::yield();
  ++submitted_;
  ++stats_.jobs_submitted;
  // Pairs with the fence in Run(): either the worker sees this job before it sleeps, or we see
  // it sleeping and wake it (only one of us clears the flag, so one futex wake per sleep).
  FullFence();
  if (sleeping_.load(std::memory_order_relaxed) &&
      sleeping_.exchange(false, std::memory_order_acq_rel)) {
    wake_.fetch_add(1, std::memory_order_release);
    wake_.notify_one();
    ++stats_.wakeups;
  }
}

void CryptoWorker::Run() {
  for (;;) {
    const uint32_t seen = wake_.load(std::memory_order_acquire);
    size_t done = 0;
    while (std::optional<CryptoJob> job = to_worker_.Pop()) {
      RunCryptoJob(*job);
      while (!from_worker_.Push(*job)) std::this_thread::yield();
      if (++done % kReadyEvery == 0) ready_(ready_context_);
    }
    if (done % kReadyEvery != 0) ready_(ready_context_);
    if (stop_.load(std::memory_order_acquire)) return;
    sleeping_.store(true, std::memory_order_relaxed);
    FullFence();
    if (!to_worker_.empty() || stop_.load(std::memory_order_acquire)) {
      sleeping_.store(false, std::memory_order_relaxed);
      continue;
    }
    wake_.wait(seen, std::memory_order_acquire);
    sleeping_.store(false, std::memory_order_relaxed);
  }
}

size_t CryptoWorker::Drain(MonoTime now) {
  size_t n = 0;
  while (std::optional<CryptoJob> job = from_worker_.Pop()) {
    ++completed_;
    ++n;
    device_->CompleteCryptoJob(*job, now);
  }
  if (n > 0) ++stats_.completions;
  FreeRetired();
  return n;
}

void CryptoWorker::Retire(std::unique_ptr<Keypair> keypair) {
  if (submitted_ == completed_) return;  // nothing in flight: destroyed here
  retired_.push_back({submitted_, std::move(keypair)});
}

void CryptoWorker::FreeRetired() {
  std::erase_if(retired_, [this](const Retired& r) { return r.after <= completed_; });
}

}  // namespace meshvpn::wg
