// A handshake flooder for the denial-of-service tests (issue 18): it plays the attacker who knows
// only the responder's public key. Anyone can compute mac1 from the public key alone, so every
// initiation it sends passes the responder's first check; mac2 is zero (the flooder never uses a
// cookie), the rest is random. It sends them as fast as it can (or at --rate) from --sockets
// source ports, with every Nth datagram garbage, and counts the cookie replies that come back.
//
//   wg_flooder TARGET_IP TARGET_PORT PUBLIC_KEY_BASE64 SECONDS [--rate PPS] [--sockets N]
//              [--garbage-every N]
//
// A line a second, and a summary at the end (or on SIGINT/SIGTERM), as key=value pairs:
//   flooder: t=3 sent=1203456 rate=401152/s garbage=12034 cookie_replies=803412 replies_rate=...
// Plain POSIX sockets and precomputed messages: this is test scaffolding, not meshvpn.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "meshvpn/wg/cookie.h"
#include "meshvpn/wg/messages.h"
#include "meshvpn/x25519/keys.h"

namespace {

namespace wg = meshvpn::wg;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

constexpr size_t kMessages = 1024;  // distinct initiations, sent round-robin
constexpr size_t kBatch = 64;       // datagrams per sendmmsg
constexpr size_t kGarbageMax = 200;

double NowSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: wg_flooder TARGET_IP TARGET_PORT PUBLIC_KEY_BASE64 SECONDS [--rate PPS]\n"
               "                  [--sockets N] [--garbage-every N]\n");
  std::exit(2);
}

struct Counters {
  uint64_t sent = 0;
  uint64_t send_errors = 0;
  uint64_t garbage = 0;
  uint64_t cookie_replies = 0;
  uint64_t other_replies = 0;
};

void Report(const char* when, double elapsed, const Counters& c, const Counters& last,
            double interval) {
  std::printf(
      "flooder: %s t=%.0f sent=%llu rate=%.0f/s garbage=%llu send_errors=%llu "
      "cookie_replies=%llu replies_rate=%.0f/s other_replies=%llu\n",
      when, elapsed, static_cast<unsigned long long>(c.sent),
      interval > 0 ? static_cast<double>(c.sent - last.sent) / interval : 0.0,
      static_cast<unsigned long long>(c.garbage), static_cast<unsigned long long>(c.send_errors),
      static_cast<unsigned long long>(c.cookie_replies),
      interval > 0 ? static_cast<double>(c.cookie_replies - last.cookie_replies) / interval : 0.0,
      static_cast<unsigned long long>(c.other_replies));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) Usage();
  const char* target_ip = argv[1];
  const int target_port = std::atoi(argv[2]);
  auto public_key = meshvpn::x25519::PublicKey::FromBase64(argv[3]);
  const double seconds = std::atof(argv[4]);
  double rate = 0;  // 0: as fast as possible
  size_t socket_count = 4;
  uint64_t garbage_every = 100;
  for (int i = 5; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage();
    if (flag == "--rate") {
      rate = std::atof(argv[++i]);
    } else if (flag == "--sockets") {
      socket_count = static_cast<size_t>(std::atoi(argv[++i]));
    } else if (flag == "--garbage-every") {
      garbage_every = static_cast<uint64_t>(std::atoll(argv[++i]));
    } else {
      Usage();
    }
  }
  if (!public_key.ok() || target_port <= 0 || target_port > 65535 || seconds <= 0 ||
      socket_count == 0 || socket_count > 256) {
    Usage();
  }

  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(static_cast<uint16_t>(target_port));
  if (inet_pton(AF_INET, target_ip, &target.sin_addr) != 1) Usage();

  std::vector<int> fds;
  for (size_t i = 0; i < socket_count; ++i) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
      std::perror("flooder: socket/connect");
      return 1;
    }
    fds.push_back(fd);
  }

  // Valid-mac1 initiations: random sender index, ephemeral, "encrypted" fields; mac2 zero.
  std::mt19937_64 rng(std::random_device{}());
  const wg::MacKey mac1_key = wg::Mac1Key(public_key->bytes());
  std::vector<std::array<uint8_t, wg::initiation::kSize>> messages(kMessages);
  for (auto& m : messages) {
    for (auto& b : m) b = static_cast<uint8_t>(rng());
    m[0] = static_cast<uint8_t>(wg::MessageType::kHandshakeInitiation);
    m[1] = m[2] = m[3] = 0;
    const meshvpn::noise::Mac16 mac1 = meshvpn::noise::Blake2sMac16(
        mac1_key, meshvpn::ByteSpan(m.data(), wg::initiation::kMac1Offset));
    std::memcpy(m.data() + wg::initiation::kMac1Offset, mac1.data(), mac1.size());
    std::memset(m.data() + wg::initiation::kMac2Offset, 0, wg::kMacSize);
  }
  std::array<std::array<uint8_t, kGarbageMax>, 16> garbage{};
  std::array<size_t, 16> garbage_size{};
  for (size_t i = 0; i < garbage.size(); ++i) {
    for (auto& b : garbage[i]) b = static_cast<uint8_t>(rng());
    garbage_size[i] = 1 + rng() % kGarbageMax;
    if (i % 2 == 0) {  // half of it looks like a transport message for a random index
      garbage[i][0] = 4;
      garbage[i][1] = garbage[i][2] = garbage[i][3] = 0;
      garbage_size[i] = 32 + rng() % (kGarbageMax - 32);
    }
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> rx_msgs{};
  std::array<iovec, kBatch> rx_iov{};
  std::array<std::array<uint8_t, 256>, kBatch> rx_buf{};
  for (size_t i = 0; i < kBatch; ++i) {
    rx_iov[i] = {rx_buf[i].data(), rx_buf[i].size()};
    rx_msgs[i].msg_hdr.msg_iov = &rx_iov[i];
    rx_msgs[i].msg_hdr.msg_iovlen = 1;
  }

  Counters c, last;
  const double start = NowSeconds();
  double last_report = start;
  size_t next_message = 0, next_socket = 0;
  uint64_t index = 0;
  while (!g_stop) {
    const double now = NowSeconds();
    if (now - start >= seconds) break;
    if (now - last_report >= 1.0) {
      Report("progress", now - start, c, last, now - last_report);
      last = c;
      last_report = now;
    }
    if (rate > 0 && static_cast<double>(c.sent) > rate * (now - start)) {
      timespec pause{0, 200000};
      nanosleep(&pause, nullptr);
    } else {
      for (size_t i = 0; i < kBatch; ++i) {
        ++index;
        if (garbage_every > 0 && index % garbage_every == 0) {
          const size_t g = index / garbage_every % garbage.size();
          iov[i] = {garbage[g].data(), garbage_size[g]};
          ++c.garbage;
        } else {
          iov[i] = {messages[next_message].data(), messages[next_message].size()};
          next_message = (next_message + 1) % kMessages;
        }
        msgs[i].msg_hdr = msghdr{};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const int fd = fds[next_socket];
      next_socket = (next_socket + 1) % fds.size();
      const int n = sendmmsg(fd, msgs.data(), kBatch, 0);
      if (n > 0) {
        c.sent += static_cast<uint64_t>(n);
      } else {
        ++c.send_errors;
      }
    }
    // Count what came back (cookie replies are 64 bytes of type 3).
    for (int fd : fds) {
      const int n = recvmmsg(fd, rx_msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      for (int i = 0; i < n; ++i) {
        if (rx_msgs[i].msg_len == wg::cookie_reply::kSize && rx_buf[i][0] == 3) {
          ++c.cookie_replies;
        } else {
          ++c.other_replies;
        }
      }
    }
  }
  const double end = NowSeconds();
  Counters zero;
  Report("done", end - start, c, zero, end - start);
  for (int fd : fds) close(fd);
  return 0;
}
