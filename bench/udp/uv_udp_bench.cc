// Packets per second through the udp library on loopback, batched (recvmmsg/sendmmsg, 128 per
// call) against unbatched (one recvmsg/sendmsg per datagram), and the library's receive path
// against libuv's own uv_udp_t receive (plain and UV_UDP_RECVMMSG).
//
// Everything runs on one thread and one loop: each round sends 128 datagrams and then runs the
// loop until all 128 have been read, so the kernel's queue never overflows and nothing is lost.
// BM_BatchingSpeedup measures both modes in the same run and reports their ratio, which is the
// number to look at on a shared machine (absolute rates drift; the ratio much less).
#include <benchmark/benchmark.h>
#include <time.h>
#include <uv.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/udp/uv_udp_socket.h"

namespace meshvpn::udp {
namespace {

constexpr size_t kRound = kMaxBatch;  // datagrams per round

class Counter final : public DatagramReceiver {
 public:
  void OnDatagrams(std::span<Datagram> batch) override {
    for (const Datagram& d : batch) bytes += d.buffer->size();
    received += batch.size();
  }
  uint64_t received = 0;
  uint64_t bytes = 0;
};

// Runs the loop until `counter` reaches `target` or a second passes with nothing new (a lost
// datagram; loopback with a 4 MiB receive buffer does not lose any in practice).
template <typename Count>
void SpinUntil(uv_loop_t* loop, const Count& count, uint64_t target) {
  uint64_t last = count();
  auto stall_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (count() < target) {
    uv_run(loop, UV_RUN_NOWAIT);
    if (count() != last) {
      last = count();
      stall_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    } else if (std::chrono::steady_clock::now() > stall_deadline) {
      return;
    }
  }
}

// A sender and a receiver socket on 127.0.0.1 with the given batch size.
struct Pair {
  Pair(size_t batch, size_t payload_size)
      : pool(2 * kMaxBatch + 16, 2048), payload(payload_size, 'x') {
    UdpSocketOptions o;
    o.bind = Endpoint::Loopback(AddressFamily::kIpv4, 0);
    o.batch_size = batch;
    // Unbatched still reads until EAGAIN per wake-up, so both modes wait in epoll equally often.
    o.max_reads_per_wakeup = kMaxBatch;
    o.receive_buffer_bytes = 4 << 20;
    o.send_buffer_bytes = 4 << 20;
    sender = std::move(*UdpSocket::Open(loop.get(), &pool, o));
    receiver = std::move(*UdpSocket::Open(loop.get(), &pool, o));
    (void)receiver->Start(&counter);
    items.assign(kRound, SendItem{AsBytes(payload), receiver->local_endpoint()});
  }
  ~Pair() {
    sender.reset();
    receiver.reset();
    (void)loop.Close();
  }
  // One round; returns the datagrams that arrived.
  uint64_t Round() {
    const uint64_t before = counter.received;
    sender->SendBatch(items);
    SpinUntil(
        loop.get(), [this] { return counter.received; }, before + kRound);
    return counter.received - before;
  }

  UvLoop loop;
  PacketPool pool;
  std::string payload;
  Counter counter;
  std::unique_ptr<UdpSocket> sender;
  std::unique_ptr<UdpSocket> receiver;
  std::vector<SendItem> items;
};

// Send 128 datagrams and receive them, through the library; arg 0 is the batch size (1 = one
// system call per datagram each way), arg 1 the payload size.
void BM_LoopbackSendReceive(benchmark::State& state) {
  Pair pair(static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(1)));
  uint64_t packets = 0;
  for (auto _ : state) packets += pair.Round();
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.SetBytesProcessed(static_cast<int64_t>(packets * pair.payload.size()));
  state.counters["drops"] = static_cast<double>(pair.receiver->stats().total_drops());
  state.counters["avg_rx_batch"] =
      static_cast<double>(pair.receiver->stats().packets_received) /
      static_cast<double>(std::max<uint64_t>(pair.receiver->stats().receive_calls, 1));
}
BENCHMARK(BM_LoopbackSendReceive)
    ->ArgNames({"batch", "size"})
    ->Args({1, 64})
    ->Args({128, 64})
    ->Args({1, 1200})
    ->Args({128, 1200})
    ->UseRealTime();

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// This thread's CPU time, system time included: on loopback the kernel delivers each datagram to
// the receiving socket inside the sender's system call, so that work is counted too. Other load
// on the machine disturbs it much less than wall time.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Wall and CPU seconds spent sending and receiving, and the datagrams moved.
struct PhaseTimes {
  double send_wall = 0, send_cpu = 0, recv_wall = 0, recv_cpu = 0;
  uint64_t packets = 0;

  void Round(Pair& pair) {
    const uint64_t before = pair.counter.received;
    const double w0 = WallSeconds(), c0 = ThreadCpuSeconds();
    pair.sender->SendBatch(pair.items);
    const double w1 = WallSeconds(), c1 = ThreadCpuSeconds();
    SpinUntil(
        pair.loop.get(), [&pair] { return pair.counter.received; }, before + kRound);
    const double w2 = WallSeconds(), c2 = ThreadCpuSeconds();
    send_wall += w1 - w0;
    send_cpu += c1 - c0;
    recv_wall += w2 - w1;
    recv_cpu += c2 - c1;
    packets += pair.counter.received - before;
  }
};

// Both modes in the same run, alternating rounds, so drift hits both alike. Counters:
//   speedup       batched / unbatched packets per second (wall clock, send + receive)
//   speedup_cpu   the same from this thread's CPU time per packet
//   send_speedup, recv_speedup   the CPU-time ratio of each phase alone
void BM_BatchingSpeedup(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  Pair batched(kMaxBatch, size);
  Pair unbatched(1, size);
  PhaseTimes b;
  PhaseTimes u;
  for (auto _ : state) {
    u.Round(unbatched);
    b.Round(batched);
  }
  const double bp = static_cast<double>(b.packets);
  const double up = static_cast<double>(u.packets);
  state.SetItemsProcessed(static_cast<int64_t>(b.packets + u.packets));
  state.counters["batched_pps"] = bp / (b.send_wall + b.recv_wall);
  state.counters["unbatched_pps"] = up / (u.send_wall + u.recv_wall);
  state.counters["speedup"] =
      (bp / (b.send_wall + b.recv_wall)) / (up / (u.send_wall + u.recv_wall));
  state.counters["speedup_cpu"] =
      ((u.send_cpu + u.recv_cpu) / up) / ((b.send_cpu + b.recv_cpu) / bp);
  state.counters["send_speedup"] = (u.send_cpu / up) / (b.send_cpu / bp);
  state.counters["recv_speedup"] = (u.recv_cpu / up) / (b.recv_cpu / bp);
}
BENCHMARK(BM_BatchingSpeedup)->ArgName("size")->Arg(64)->Arg(1200)->UseRealTime();

// ---- The receive path alone: the library's against libuv's uv_udp_t ----
//
// The sender is always the library with sendmmsg batches of 128. The receiver is:
//   0  the library, uv_poll + recvmmsg(2) straight into pool buffers (no copy)
//   1  the library with batch 1 (recvmsg per datagram)
//   2  libuv uv_udp_t with UV_UDP_RECVMMSG: libuv reads up to 20 datagrams per call into 64 KiB
//      slices of one big buffer, then we copy each into a pool buffer (what a data plane with
//      headroom needs)
//   3  libuv uv_udp_t without mmsg: one recvmsg per datagram, plus the copy
class LibuvReceiver {
 public:
  LibuvReceiver(uv_loop_t* loop, PacketPool* pool, bool mmsg) : pool_(pool) {
    const unsigned flags = AF_INET | (mmsg ? UV_UDP_RECVMMSG : 0);
    udp_ = std::move(*UvUdp::Create(loop, uv_udp_init_ex, flags));
    udp_.set_owner(this);
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_udp_bind(udp_.get(), reinterpret_cast<const sockaddr*>(&addr), 0);
    int size = 4 << 20;
    uv_recv_buffer_size(udp_.base(), &size);
    // libuv's mmsg mode slices the buffer into 64 KiB pieces, at most 20 of them.
    slab_.reset(new char[(mmsg ? 20 : 1) * 65536]);
    slab_size_ = (mmsg ? 20 : 1) * 65536;
    uv_udp_recv_start(udp_.get(), &LibuvReceiver::OnAlloc, &LibuvReceiver::OnRecv);
  }
  Endpoint local() const {
    sockaddr_storage ss;
    int len = sizeof(ss);
    uv_udp_getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    return *Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  }
  uint64_t received = 0;

 private:
  static void OnAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* self = static_cast<LibuvReceiver*>(h->data);
    *buf = uv_buf_init(self->slab_.get(), static_cast<unsigned>(self->slab_size_));
  }
  static void OnRecv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                     unsigned flags) {
    static_cast<LibuvReceiver*>(h->data)->Handle(nread, buf, addr, flags);
  }
  void Handle(ssize_t nread, const uv_buf_t* buf, const sockaddr* addr, unsigned flags) {
    if ((flags & UV_UDP_MMSG_FREE) != 0 || nread <= 0 || addr == nullptr) return;
    PacketBuffer* b = pool_->Acquire();
    if (b == nullptr) return;
    std::memcpy(b->writable().data(), buf->base, static_cast<size_t>(nread));
    (void)b->SetSize(static_cast<size_t>(nread));
    const std::optional<Endpoint> from = Endpoint::FromSockaddr(addr, sizeof(sockaddr_in));
    benchmark::DoNotOptimize(from);
    ++received;
    pool_->Release(b);
  }

  PacketPool* pool_;
  UvUdp udp_;
  std::unique_ptr<char[]> slab_;
  size_t slab_size_ = 0;
};

void BM_ReceivePath(benchmark::State& state) {
  const int impl = static_cast<int>(state.range(0));
  const std::string payload(static_cast<size_t>(state.range(1)), 'x');
  UvLoop loop;
  PacketPool pool(2 * kMaxBatch + 16, 2048);
  {
    UdpSocketOptions o;
    o.bind = Endpoint::Loopback(AddressFamily::kIpv4, 0);
    o.receive_buffer_bytes = 4 << 20;
    o.max_reads_per_wakeup = kMaxBatch;
    auto sender = std::move(*UdpSocket::Open(loop.get(), &pool, o));
    std::unique_ptr<UdpSocket> lib_receiver;
    std::unique_ptr<LibuvReceiver> uv_receiver;
    Counter counter;
    Endpoint to;
    if (impl <= 1) {
      o.batch_size = impl == 0 ? kMaxBatch : 1;
      lib_receiver = std::move(*UdpSocket::Open(loop.get(), &pool, o));
      (void)lib_receiver->Start(&counter);
      to = lib_receiver->local_endpoint();
    } else {
      uv_receiver = std::make_unique<LibuvReceiver>(loop.get(), &pool, impl == 2);
      to = uv_receiver->local();
    }
    auto count = [&] { return uv_receiver ? uv_receiver->received : counter.received; };
    std::vector<SendItem> items(kRound, SendItem{AsBytes(payload), to});
    uint64_t packets = 0;
    for (auto _ : state) {
      // Only the receive side is timed: the send (and, on loopback, the kernel's delivery into
      // the receiving socket) happens while the clock is paused.
      state.PauseTiming();
      const uint64_t before = count();
      sender->SendBatch(items);
      state.ResumeTiming();
      SpinUntil(loop.get(), count, before + kRound);
      packets += count() - before;
    }
    state.SetItemsProcessed(static_cast<int64_t>(packets));
    state.SetBytesProcessed(static_cast<int64_t>(packets * payload.size()));
    static const char* const kNames[] = {"lib_recvmmsg", "lib_recvmsg", "libuv_mmsg",
                                         "libuv_plain"};
    state.SetLabel(kNames[impl]);
  }
  (void)loop.Close();
}
BENCHMARK(BM_ReceivePath)
    ->ArgNames({"impl", "size"})
    ->ArgsProduct({{0, 1, 2, 3}, {64, 1200}})
    ->UseRealTime();

}  // namespace
}  // namespace meshvpn::udp
