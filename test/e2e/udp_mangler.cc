// A UDP relay for end-to-end tests that plays the attacker on the path: it forwards datagrams
// between one client and a server, flips one byte in every Nth client-to-server datagram, and
// sends every Mth one twice (a replay). On SIGINT/SIGTERM it prints what it did:
//   mangler: forwarded=120 flipped=24 replayed=17
//
//   udp_mangler LISTEN_PORT SERVER_IP SERVER_PORT FLIP_EVERY REPLAY_EVERY
// (0 disables flipping or replaying). Plain POSIX sockets: this is test scaffolding, not meshvpn.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int BoundSocket(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("mangler: bind");
    std::exit(1);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr,
                 "usage: udp_mangler LISTEN_PORT SERVER_IP SERVER_PORT FLIP_EVERY REPLAY_EVERY\n");
    return 2;
  }
  const int flip_every = std::atoi(argv[4]);
  const int replay_every = std::atoi(argv[5]);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[3])));
  if (inet_pton(AF_INET, argv[2], &server.sin_addr) != 1) return 2;

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const int front = BoundSocket(static_cast<uint16_t>(std::atoi(argv[1])));  // faces the client
  const int back = BoundSocket(0);                                           // faces the server
  sockaddr_in client{};
  bool have_client = false;
  long forwarded = 0, flipped = 0, replayed = 0, to_client = 0;
  unsigned char buf[65536];
  std::printf("mangler: ready\n");
  std::fflush(stdout);

  while (!g_stop) {
    pollfd fds[2] = {{front, POLLIN, 0}, {back, POLLIN, 0}};
    if (poll(fds, 2, 200) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      socklen_t len = sizeof(client);
      const ssize_t n =
          recvfrom(front, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&client), &len);
      if (n > 0) {
        have_client = true;
        ++forwarded;
        // Never both on one datagram, so each drop on the far side has exactly one cause.
        if (flip_every > 0 && forwarded % flip_every == 0) {
          buf[n / 2] ^= 0x20;  // somewhere in the ciphertext
          ++flipped;
          sendto(back, buf, n, 0, reinterpret_cast<sockaddr*>(&server), sizeof(server));
        } else {
          sendto(back, buf, n, 0, reinterpret_cast<sockaddr*>(&server), sizeof(server));
          if (replay_every > 0 && forwarded % replay_every == 0) {
            ++replayed;
            sendto(back, buf, n, 0, reinterpret_cast<sockaddr*>(&server), sizeof(server));
          }
        }
      }
    }
    if (fds[1].revents & POLLIN) {
      const ssize_t n = recv(back, buf, sizeof(buf), 0);
      if (n > 0 && have_client) {
        ++to_client;
        sendto(front, buf, n, 0, reinterpret_cast<sockaddr*>(&client), sizeof(client));
      }
    }
  }
  std::printf("mangler: forwarded=%ld flipped=%ld replayed=%ld to_client=%ld\n", forwarded, flipped,
              replayed, to_client);
  close(front);
  close(back);
  return 0;
}
