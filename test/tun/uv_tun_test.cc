// The driver against a SOCK_SEQPACKET socket pair: like a TUN, each read returns one packet, and
// the test holds the other end (the "kernel" side).
#include "meshvpn/tun/uv_tun.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "meshvpn/base/uv_loop.h"
#include "uv_test_util.h"

namespace meshvpn::tun {
namespace {

class SocketPair {
 public:
  SocketPair() { REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds_) == 0); }
  ~SocketPair() {
    CloseKernelSide();
    ::close(fds_[0]);
  }
  int driver_side() const { return fds_[0]; }
  void Send(const std::string& packet) {
    REQUIRE(::send(fds_[1], packet.data(), packet.size(), 0) == ssize_t(packet.size()));
  }
  // What the driver wrote, or "" when nothing is pending.
  std::string Receive() {
    char buf[2048];
    const ssize_t n = ::recv(fds_[1], buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
  }
  bool KernelSideHasData() {
    char c;
    return ::recv(fds_[1], &c, 1, MSG_DONTWAIT | MSG_PEEK) > 0;
  }
  void CloseKernelSide() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

// Records every batch; can keep buffers (taking ownership) instead of letting the driver
// release them.
class Recorder final : public TunPacketHandler {
 public:
  explicit Recorder(PacketPool* pool) : pool_(pool) {}
  ~Recorder() override {
    for (PacketBuffer* b : kept_) pool_->Release(b);
  }
  void OnTunPackets(std::span<PacketBuffer*> batch) override {
    batch_sizes.push_back(batch.size());
    for (PacketBuffer*& b : batch) {
      packets.push_back(meshvpn::ToString(b->span()));
      headrooms.push_back(b->headroom());
      if (keep) {
        kept_.push_back(b);
        b = nullptr;
      }
    }
  }
  void OnTunError(const absl::Status& error) override { errors.push_back(error); }
  void ReleaseKept() {
    for (PacketBuffer* b : kept_) pool_->Release(b);
    kept_.clear();
  }

  bool keep = false;
  std::vector<size_t> batch_sizes;
  std::vector<std::string> packets;
  std::vector<size_t> headrooms;
  std::vector<absl::Status> errors;

 private:
  PacketPool* pool_;
  std::vector<PacketBuffer*> kept_;
};

TEST_CASE("a burst is read as one batch, in order, with headroom kept in front") {
  UvLoop loop;
  SocketPair pair;
  PacketPool pool(16, 512);
  Recorder recorder(&pool);
  {
    auto driver = UvTunDriver::Create(loop.get(), pair.driver_side(), &pool, &recorder);
    REQUIRE(driver.ok());
    for (int i = 0; i < 5; ++i) pair.Send("packet " + std::to_string(i));
    REQUIRE((*driver)->Start().ok());
    REQUIRE(test::RunUntil(loop, [&] { return recorder.packets.size() == 5; }));
    CHECK(recorder.batch_sizes == std::vector<size_t>{5});
    CHECK(recorder.packets ==
          std::vector<std::string>{"packet 0", "packet 1", "packet 2", "packet 3", "packet 4"});
    for (size_t h : recorder.headrooms) CHECK(h == PacketBuffer::kDefaultHeadroom);
    const TunStats& stats = (*driver)->stats();
    CHECK(stats.packets_read == 5);
    CHECK(stats.bytes_read == 5 * 8);
    CHECK(stats.read_batches == 1);
    CHECK(stats.largest_batch == 5);
    CHECK(stats.total_dropped() == 0);
    CHECK(pool.available() == pool.capacity());  // every buffer came back
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("batches are capped at max_batch, the rest is read on the next iteration") {
  UvLoop loop;
  SocketPair pair;
  PacketPool pool(16, 256);
  Recorder recorder(&pool);
  {
    auto driver = UvTunDriver::Create(loop.get(), pair.driver_side(), &pool, &recorder,
                                      UvTunOptions{.max_batch = 4});
    REQUIRE(driver.ok());
    for (int i = 0; i < 10; ++i) pair.Send("p" + std::to_string(i));
    REQUIRE((*driver)->Start().ok());
    REQUIRE(test::RunUntil(loop, [&] { return recorder.packets.size() == 10; }));
    CHECK(recorder.batch_sizes == std::vector<size_t>{4, 4, 2});
    CHECK(recorder.packets.back() == "p9");
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("a pool smaller than the batch is recycled within one wake-up") {
  UvLoop loop;
  SocketPair pair;
  PacketPool pool(3, 256);
  Recorder recorder(&pool);
  {
    auto driver = UvTunDriver::Create(loop.get(), pair.driver_side(), &pool, &recorder);
    REQUIRE(driver.ok());
    for (int i = 0; i < 7; ++i) pair.Send("x");
    REQUIRE((*driver)->Start().ok());
    REQUIRE(test::RunUntil(loop, [&] { return recorder.packets.size() == 7; }));
    CHECK(recorder.batch_sizes == std::vector<size_t>{3, 3, 1});
    CHECK((*driver)->stats().total_dropped() == 0);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("a handler keeps buffers, and when none are left packets are drained and counted") {
  UvLoop loop;
  SocketPair pair;
  PacketPool pool(2, 256);
  Recorder recorder(&pool);
  recorder.keep = true;
  {
    auto driver = UvTunDriver::Create(loop.get(), pair.driver_side(), &pool, &recorder);
    REQUIRE(driver.ok());
    for (int i = 0; i < 5; ++i) pair.Send("k" + std::to_string(i));
    REQUIRE((*driver)->Start().ok());
    REQUIRE(test::RunUntil(
        loop, [&] { return (*driver)->stats().dropped(TunDropReason::kPoolExhausted) == 3; }));
    CHECK(recorder.packets == std::vector<std::string>{"k0", "k1"});
    CHECK(pool.available() == 0);
    CHECK_FALSE(pair.KernelSideHasData());
    // The socket was drained, so the level-triggered poll is quiet: no busy loop.
    CHECK((*driver)->stats().packets_read == 2);

    recorder.ReleaseKept();
    recorder.keep = false;
    pair.Send("after");
    REQUIRE(test::RunUntil(loop, [&] { return recorder.packets.size() == 3; }));
    CHECK(recorder.packets.back() == "after");
    CHECK(pool.available() == 2);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("Write and WriteBatch hand packets to the device and count them") {
  UvLoop loop;
  SocketPair pair;
  PacketPool pool(4, 256);
  Recorder recorder(&pool);
  {
    auto driver = UvTunDriver::Create(loop.get(), pair.driver_side(), &pool, &recorder);
    REQUIRE(driver.ok());
    CHECK((*driver)->Write(AsBytes("one")));
    PacketBuffer* a = pool.Acquire();
    PacketBuffer* b = pool.Acquire();
    std::memcpy(a->writable().data(), "two", 3);
    REQUIRE(a->SetSize(3));
    std::memcpy(b->writable().data(), "three", 5);
    REQUIRE(b->SetSize(5));
    PacketBuffer* batch[] = {a, b};
    CHECK((*driver)->WriteBatch(batch) == 2);
    pool.Release(a);
    pool.Release(b);
    CHECK(pair.Receive() == "one");
    CHECK(pair.Receive() == "two");
    CHECK(pair.Receive() == "three");
    CHECK((*driver)->stats().packets_written == 3);
    CHECK((*driver)->stats().bytes_written == 11);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("a failed write is a counted drop, not an error status") {
  UvLoop loop;
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  PacketPool pool(2, 256);
  Recorder recorder(&pool);
  {
    // The read end of a pipe cannot be written: write() fails with EBADF.
    auto driver = UvTunDriver::Create(loop.get(), pipe_fds[0], &pool, &recorder);
    REQUIRE(driver.ok());
    CHECK_FALSE((*driver)->Write(AsBytes("lost")));
    CHECK((*driver)->stats().dropped(TunDropReason::kWriteError) == 1);
    CHECK((*driver)->stats().packets_written == 0);
  }
  CHECK(loop.Close() == 0);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_CASE("end of file stops reading and reports an error to the handler") {
  UvLoop loop;
  SocketPair pair;
  PacketPool pool(4, 256);
  Recorder recorder(&pool);
  {
    auto driver = UvTunDriver::Create(loop.get(), pair.driver_side(), &pool, &recorder);
    REQUIRE(driver.ok());
    pair.Send("last");
    pair.CloseKernelSide();
    REQUIRE((*driver)->Start().ok());
    REQUIRE(test::RunUntil(loop, [&] { return !recorder.errors.empty(); }));
    CHECK(recorder.packets == std::vector<std::string>{"last"});
    CHECK(recorder.errors[0].message() == "tun: read: end of file");
    CHECK_FALSE((*driver)->reading());
    CHECK(pool.available() == pool.capacity());
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("Stop pauses reading and Start resumes it") {
  UvLoop loop;
  SocketPair pair;
  PacketPool pool(4, 256);
  Recorder recorder(&pool);
  {
    auto driver = UvTunDriver::Create(loop.get(), pair.driver_side(), &pool, &recorder);
    REQUIRE(driver.ok());
    REQUIRE((*driver)->Start().ok());
    REQUIRE((*driver)->Start().ok());  // idempotent
    (*driver)->Stop();
    pair.Send("waiting");
    // Nothing watches the descriptor: the loop has nothing to do and returns.
    CHECK(loop.Run(UV_RUN_NOWAIT) == 0);
    CHECK(recorder.packets.empty());
    REQUIRE((*driver)->Start().ok());
    REQUIRE(test::RunUntil(loop, [&] { return recorder.packets.size() == 1; }));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("Create checks its arguments") {
  UvLoop loop;
  SocketPair pair;
  PacketPool pool(1, 256);
  Recorder recorder(&pool);
  CHECK(UvTunDriver::Create(loop.get(), pair.driver_side(), nullptr, &recorder).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(UvTunDriver::Create(loop.get(), pair.driver_side(), &pool, &recorder,
                            UvTunOptions{.max_batch = 0})
            .status()
            .message() == "tun: max_batch 0 is outside 1..128");
  CHECK_FALSE(UvTunDriver::Create(loop.get(), pair.driver_side(), &pool, &recorder,
                                  UvTunOptions{.max_batch = 129})
                  .ok());
  const auto bad_fd = UvTunDriver::Create(loop.get(), -1, &pool, &recorder);
  REQUIRE_FALSE(bad_fd.ok());
  CHECK(bad_fd.status().message().find("tun: watch descriptor -1: ") == 0);
  CHECK(loop.Close() == 0);
}

TEST_CASE("drop reasons have names") {
  CHECK(ToString(TunDropReason::kPoolExhausted) == "pool exhausted");
  CHECK(ToString(TunDropReason::kTooBig) == "too big");
  CHECK(ToString(TunDropReason::kWriteError) == "write error");
  TunStats stats;
  stats.CountDrop(TunDropReason::kTooBig);
  stats.CountDrop(TunDropReason::kTooBig);
  stats.CountDrop(TunDropReason::kReadError);
  CHECK(stats.dropped(TunDropReason::kTooBig) == 2);
  CHECK(stats.total_dropped() == 3);
}

}  // namespace
}  // namespace meshvpn::tun
