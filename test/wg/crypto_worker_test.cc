// Transport crypto away from the device's thread: a test executor that holds every job until the
// test completes it (so the session can change while packets are in flight), and the real
// CryptoWorker thread moving thousands of packets both ways, in order.
#include "meshvpn/wg/crypto_worker.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "device_harness.h"
#include "meshvpn/wg/device.h"

namespace meshvpn::wg {
namespace {

using test::Ipv4Packet;
using test::Pair;

const std::array<uint8_t, 4> kAliceIp = {10, 0, 0, 1};
const std::array<uint8_t, 4> kBobIp = {10, 0, 0, 2};

// Holds jobs and retired keypairs until Complete(); runs inline only when told to.
class HeldExecutor final : public CryptoExecutor {
 public:
  bool RunInline() override { return run_inline; }
  void Submit(const CryptoJob& job) override { jobs.push_back(job); }
  void Retire(std::unique_ptr<Keypair> keypair) override { retired.push_back(std::move(keypair)); }
  // Runs and completes every held job, in order, then frees the retired keypairs.
  size_t Complete(Device& device, MonoTime now) {
    const size_t n = jobs.size();
    for (CryptoJob& job : jobs) {
      RunCryptoJob(job);
      device.CompleteCryptoJob(job, now);
    }
    jobs.clear();
    retired.clear();
    return n;
  }
  bool run_inline = false;
  std::vector<CryptoJob> jobs;
  std::vector<std::unique_ptr<Keypair>> retired;
};

// Numbered packets: byte 20 onward carries the sequence number, so order can be checked.
Bytes Numbered(std::array<uint8_t, 4> src, std::array<uint8_t, 4> dst, uint32_t n, size_t size) {
  Bytes p = Ipv4Packet(src, dst, size);
  for (int i = 0; i < 4; ++i) p[20 + i] = static_cast<uint8_t>(n >> (8 * i));
  return p;
}
uint32_t NumberOf(const Bytes& p) {
  return uint32_t{p[20]} | (uint32_t{p[21]} << 8) | (uint32_t{p[22]} << 16) |
         (uint32_t{p[23]} << 24);
}

// Handshake with inline crypto, then both executors hold jobs.
struct HeldPair {
  HeldExecutor alice_crypto;  // before the pair: outlives the devices that retire into it
  HeldExecutor bob_crypto;
  Pair p;
  HeldPair() {
    alice_crypto.run_inline = bob_crypto.run_inline = true;
    p.alice.device.set_crypto_executor(&alice_crypto);
    p.bob.device.set_crypto_executor(&bob_crypto);
    p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 100));
    p.Flush();
    REQUIRE(p.bob.output.delivered.size() == 1);
    p.bob.output.delivered.clear();
    alice_crypto.run_inline = bob_crypto.run_inline = false;
  }
};

TEST_CASE("Held crypto jobs complete in order: sealed, sent, opened, delivered") {
  HeldPair h;
  Pair& p = h.p;
  const uint64_t sent_before = p.alice.device.stats().packets_sent;
  const uint64_t received_before = p.bob.device.stats().packets_received;
  for (uint32_t i = 0; i < 40; ++i) p.SendFrom(p.alice, Numbered(kAliceIp, kBobIp, i, 200 + i));
  CHECK(h.alice_crypto.jobs.size() == 40);
  CHECK(p.alice.output.outbox.empty());  // nothing leaves before it is sealed
  CHECK(p.alice.device.stats().packets_sent == sent_before + 40);
  CHECK(h.alice_crypto.Complete(p.alice.device, p.clock.Now()) == 40);
  REQUIRE(p.alice.output.outbox.size() == 40);
  p.Flush();
  CHECK(p.bob.output.delivered.empty());  // opening waits in Bob's executor
  CHECK(h.bob_crypto.Complete(p.bob.device, p.clock.Now()) == 40);
  REQUIRE(p.bob.output.delivered.size() == 40);
  for (uint32_t i = 0; i < 40; ++i) {
    CHECK(p.bob.output.delivered[i] == Numbered(kAliceIp, kBobIp, i, 200 + i));
  }
  CHECK(p.bob.device.stats().packets_received == received_before + 40);
  CHECK(p.bob.device.stats().total_dropped() == 0);
}

TEST_CASE("A packet opened after its session ended is dropped; the keypair outlives the job") {
  HeldPair h;
  Pair& p = h.p;
  p.SendFrom(p.alice, Numbered(kAliceIp, kBobIp, 1, 100));
  h.alice_crypto.Complete(p.alice.device, p.clock.Now());
  p.Flush();
  REQUIRE(h.bob_crypto.jobs.size() == 1);

  // Bob forgets Alice while her packet is being opened: the keypair goes to the executor, not
  // away, so the job's context stays valid (ASan would see a use after free otherwise).
  DeviceConfigUpdate remove;
  remove.peers.emplace_back().public_key = p.alice.public_key;
  remove.peers.back().remove = true;
  REQUIRE(p.bob.device.Apply(remove, p.clock.Now()).ok());
  CHECK(h.bob_crypto.retired.size() >= 1);
  h.bob_crypto.Complete(p.bob.device, p.clock.Now());
  CHECK(p.bob.output.delivered.empty());
  CHECK(p.bob.device.stats().dropped(DropReason::kUnknownIndex) == 1);
}

TEST_CASE("A datagram replayed while the original is in flight is opened twice, delivered once") {
  HeldPair h;
  Pair& p = h.p;
  p.SendFrom(p.alice, Numbered(kAliceIp, kBobIp, 7, 100));
  h.alice_crypto.Complete(p.alice.device, p.clock.Now());
  REQUIRE(p.alice.output.outbox.size() == 1);
  const Bytes sealed = p.alice.output.outbox.front().bytes;
  p.Flush();
  p.Inject(p.bob, sealed, p.alice.endpoint);  // passes the pre-check: the first is not counted yet
  REQUIRE(h.bob_crypto.jobs.size() == 2);
  h.bob_crypto.Complete(p.bob.device, p.clock.Now());
  CHECK(p.bob.output.delivered.size() == 1);
  CHECK(p.bob.device.stats().dropped(DropReason::kReplayedPacket) == 1);
}

TEST_CASE("A forged datagram fails in the executor and is a counted drop") {
  HeldPair h;
  Pair& p = h.p;
  p.SendFrom(p.alice, Numbered(kAliceIp, kBobIp, 7, 100));
  h.alice_crypto.Complete(p.alice.device, p.clock.Now());
  Bytes forged = p.alice.output.outbox.front().bytes;
  p.alice.output.outbox.clear();
  forged[transport::kHeaderSize + 3] ^= 0x40;
  p.Inject(p.bob, forged, p.alice.endpoint);
  h.bob_crypto.Complete(p.bob.device, p.clock.Now());
  CHECK(p.bob.output.delivered.empty());
  CHECK(p.bob.device.stats().dropped(DropReason::kDecryptFailed) == 1);
}

// The real worker thread. The test thread plays the loop: it submits through the device and
// drains completions when the worker says they are ready.
struct Ready {
  static void Notify(void* self) {
    static_cast<Ready*>(self)->count.fetch_add(1, std::memory_order_release);
  }
  std::atomic<uint64_t> count{0};
};

// A worker attached to a device; detached before it goes (the device retires into it).
struct AttachedWorker {
  AttachedWorker(Device& d, PacketPool& pool, Ready& ready) : device(d) {
    auto started = CryptoWorker::Start(&d, &pool, pool.capacity(), &Ready::Notify, &ready);
    REQUIRE(started.ok());
    worker = *std::move(started);
    device.set_crypto_executor(worker.get());
  }
  ~AttachedWorker() { device.set_crypto_executor(nullptr); }
  CryptoWorker* operator->() { return worker.get(); }
  Device& device;
  std::unique_ptr<CryptoWorker> worker;
};

// Drains until `done()` or 10 s pass.
template <typename Done>
bool DrainUntil(CryptoWorker& a, CryptoWorker& b, Pair& p, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    a.Drain(p.clock.Now());
    b.Drain(p.clock.Now());
    p.Flush(100000);
    std::this_thread::yield();
  }
  return true;
}

TEST_CASE("CryptoWorker: 20000 packets each way on the worker thread, in order, none lost") {
  Pair p;
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 100));  // the handshake, inline
  p.Flush();
  REQUIRE(p.bob.output.delivered.size() == 1);
  p.bob.output.delivered.clear();
  Ready alice_ready, bob_ready;
  // Pools of 64 in the harness: in-flight jobs never exceed them.
  AttachedWorker alice(p.alice.device, p.alice.pool, alice_ready);
  AttachedWorker bob(p.bob.device, p.bob.pool, bob_ready);

  constexpr uint32_t kPackets = 20000;
  constexpr uint32_t kBatch = 32;
  uint32_t sent = 0;
  while (sent < kPackets) {
    alice->BeginBatch(kBatch);
    bob->BeginBatch(kBatch);
    for (uint32_t i = 0; i < kBatch; ++i, ++sent) {
      p.SendFrom(p.alice, Numbered(kAliceIp, kBobIp, sent, 64 + sent % 1300));
      p.SendFrom(p.bob, Numbered(kBobIp, kAliceIp, sent, 1300 - sent % 1200));
    }
    alice->EndBatch();
    bob->EndBatch();
    REQUIRE(DrainUntil(*alice.worker, *bob.worker, p, [&] {
      return alice->in_flight() == 0 && bob->in_flight() == 0 && p.alice.output.outbox.empty() &&
             p.bob.output.outbox.empty();
    }));
  }
  REQUIRE(p.bob.output.delivered.size() == kPackets);
  REQUIRE(p.alice.output.delivered.size() == kPackets);
  for (uint32_t i = 0; i < kPackets; ++i) {
    REQUIRE(NumberOf(p.bob.output.delivered[i]) == i);
    REQUIRE(NumberOf(p.alice.output.delivered[i]) == i);
  }
  CHECK(p.alice.device.stats().total_dropped() == 0);
  CHECK(p.bob.device.stats().total_dropped() == 0);
  // Every seal was part of a batch, so ran on the thread; an open ran inline when it came alone
  // with nothing in flight. Each side sealed kPackets and opened kPackets.
  for (CryptoWorker* w : {alice.worker.get(), bob.worker.get()}) {
    CHECK(w->stats().jobs_submitted >= kPackets);
    CHECK(w->stats().jobs_submitted + w->stats().jobs_inline == 2 * kPackets);
  }
  CHECK(alice_ready.count.load() > 0);
}

TEST_CASE("CryptoWorker: destroyed with jobs in flight, every buffer goes back to the pool") {
  Pair p;
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 100));  // the handshake, inline
  p.Flush();
  p.alice.output.outbox.clear();
  Ready ready;
  {
    AttachedWorker worker(p.alice.device, p.alice.pool, ready);
    worker->BeginBatch(50);
    for (int i = 0; i < 50; ++i) p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 1000));
    CHECK(worker->in_flight() == 50);
  }  // detached and joined: the 50 buffers (sealed or not) are released, nothing is sent
  CHECK(p.alice.output.outbox.empty());
  CHECK(p.alice.pool.available() == p.alice.pool.capacity());
}

}  // namespace
}  // namespace meshvpn::wg
