// rtnetlink (RFC 3549, linux/rtnetlink.h): one request, then its answer or acknowledgement.
#include "netlink_linux.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_format.h"
#include "meshvpn/base/errno_status.h"

namespace meshvpn::tun::internal {
namespace {

// A netlink route socket, closed on every return path.
class NetlinkSocket {
 public:
  NetlinkSocket() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
    if (fd_ < 0) return;
    // The kernel answers at once; the timeout only guards against a reply that never comes.
    const timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NetlinkSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// A request under construction: header, fixed part (ifaddrmsg, rtmsg), then attributes, each
// 4-byte aligned.
template <typename Fixed>
struct Request {
  nlmsghdr header;
  Fixed message;
  alignas(NLMSG_ALIGNTO) unsigned char attributes[64];
};

template <typename Fixed>
bool AddAttribute(Request<Fixed>& request, uint16_t type, ByteSpan data) {
  const size_t attribute_size = RTA_LENGTH(data.size());
  if (NLMSG_ALIGN(request.header.nlmsg_len) + RTA_ALIGN(attribute_size) > sizeof(request)) {
    return false;
  }
  auto* attribute = reinterpret_cast<rtattr*>(reinterpret_cast<unsigned char*>(&request) +
                                              NLMSG_ALIGN(request.header.nlmsg_len));
  attribute->rta_type = type;
  attribute->rta_len = static_cast<unsigned short>(attribute_size);
  std::memcpy(RTA_DATA(attribute), data.data(), data.size());
  request.header.nlmsg_len = NLMSG_ALIGN(request.header.nlmsg_len) + RTA_ALIGN(attribute_size);
  return true;
}

// Sends `request` and reads its answer: the first message with its sequence number. Returns 0
// and calls on_reply(message) for an answer, the (negative) error of an NLMSG_ERROR (0 for an
// ack), or -errno if the exchange itself failed.
template <typename OnReply>
int Exchange(int fd, nlmsghdr& request, OnReply on_reply) {
  static std::atomic<uint32_t> next_sequence{1};
  request.nlmsg_seq = next_sequence.fetch_add(1);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &request, request.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
    return -errno;
  }
  alignas(nlmsghdr) unsigned char buffer[8192];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    // Walk the messages in this datagram (what NLMSG_OK/NLMSG_NEXT do, without their
    // signed/unsigned comparisons).
    const size_t received = static_cast<size_t>(n);
    size_t offset = 0;
    while (offset + sizeof(nlmsghdr) <= received) {
      const auto* reply = reinterpret_cast<const nlmsghdr*>(buffer + offset);
      if (reply->nlmsg_len < sizeof(nlmsghdr) || reply->nlmsg_len > received - offset) break;
      if (reply->nlmsg_seq == request.nlmsg_seq) {
        if (reply->nlmsg_type != NLMSG_ERROR) {
          on_reply(*reply);
          return 0;
        }
        if (reply->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return -EPROTO;
        return static_cast<const nlmsgerr*>(NLMSG_DATA(reply))->error;
      }
      offset += NLMSG_ALIGN(reply->nlmsg_len);
    }
  }
}

// The type of the route the kernel would use for `address` (RTN_LOCAL, RTN_UNICAST...), or a
// negative errno.
int RouteType(int fd, const IpAddress& address) {
  Request<rtmsg> request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  request.header.nlmsg_type = RTM_GETROUTE;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.message.rtm_family = address.is_v4() ? AF_INET : AF_INET6;
  request.message.rtm_dst_len = static_cast<unsigned char>(address.size() * 8);
  if (!AddAttribute(request, RTA_DST, address.bytes())) return -EINVAL;
  int type = -EPROTO;
  const int rc = Exchange(fd, request.header, [&](const nlmsghdr& reply) {
    if (reply.nlmsg_type == RTM_NEWROUTE && reply.nlmsg_len >= NLMSG_LENGTH(sizeof(rtmsg))) {
      type = static_cast<const rtmsg*>(NLMSG_DATA(&reply))->rtm_type;
    }
  });
  return rc != 0 ? rc : type;
}

}  // namespace

absl::Status NetlinkAddAddress(int ifindex, std::string_view ifname, const IpPrefix& prefix) {
  const std::string step = absl::StrFormat("tun: add address %s to %s", prefix.ToString(), ifname);
  if (prefix.address.family() == IpAddress::Family::kNone) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: no address", step));
  }
  NetlinkSocket socket;
  if (socket.fd() < 0) return ErrnoToStatus(errno, absl::StrFormat("%s: netlink socket", step));

  Request<ifaddrmsg> request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  request.header.nlmsg_type = RTM_NEWADDR;
  // CREATE|EXCL: add, and fail with EEXIST rather than silently replace an existing address.
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  request.message.ifa_family = prefix.address.is_v4() ? AF_INET : AF_INET6;
  request.message.ifa_prefixlen = static_cast<unsigned char>(prefix.length);
  // No duplicate address detection: a TUN has no neighbours to collide with.
  request.message.ifa_flags = prefix.address.is_v6() ? IFA_F_NODAD : 0;
  request.message.ifa_scope = RT_SCOPE_UNIVERSE;
  request.message.ifa_index = static_cast<unsigned>(ifindex);
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS equal to it (not a peer address)
  // makes the kernel add the prefix route, e.g. 10.0.0.0/24 dev mvpn0.
  if (!AddAttribute(request, IFA_LOCAL, prefix.address.bytes()) ||
      !AddAttribute(request, IFA_ADDRESS, prefix.address.bytes())) {
    return absl::InternalError(absl::StrFormat("%s: request too large", step));
  }
  const int rc = Exchange(socket.fd(), request.header, [](const nlmsghdr&) {});
  if (rc != 0) return ErrnoToStatus(-rc, step);
  return absl::OkStatus();
}

absl::Status NetlinkWaitUntilLocal(const IpAddress& address, std::string_view ifname,
                                   std::chrono::milliseconds timeout) {
  const std::string step =
      absl::StrFormat("tun: wait for %s on %s to be usable", address.ToString(), ifname);
  NetlinkSocket socket;
  if (socket.fd() < 0) return ErrnoToStatus(errno, absl::StrFormat("%s: netlink socket", step));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (RouteType(socket.fd(), address) == RTN_LOCAL) return absl::OkStatus();
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("%s: not a local address after %d ms", step, timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace meshvpn::tun::internal
