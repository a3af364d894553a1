// TunDevice on Linux: /dev/net/tun with TUNSETIFF (Documentation/networking/tuntap.rst),
// interface ioctls for MTU and flags, rtnetlink for addresses.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "meshvpn/base/errno_status.h"
#include "meshvpn/base/status.h"
#include "meshvpn/tun/tun_device.h"
#include "netlink_linux.h"

namespace meshvpn::tun {
namespace {

// How long AddAddress waits for the kernel to start delivering packets to a new address.
constexpr std::chrono::milliseconds kAddressReadyTimeout(2000);

// An ifreq naming `name` (which the caller checked fits).
ifreq RequestFor(const std::string& name) {
  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), name.size());
  return request;
}

// Interface ioctls (SIOCSIFMTU, SIOCGIFFLAGS...) go through any socket; an AF_INET datagram
// socket is the customary one.
absl::Status InterfaceIoctl(unsigned long command, ifreq& request, std::string_view step) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrFormat("%s: socket", step));
  const int rc = ::ioctl(fd, command, &request);
  const int error = errno;
  ::close(fd);
  if (rc < 0) return ErrnoToStatus(error, step);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TunDevice> TunDevice::Create(const TunConfig& config, LogSink* log_sink) {
  if (config.name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tun: device name \"%s\" is longer than %d characters", config.name, IFNAMSIZ - 1));
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "tun: open /dev/net/tun");

  ifreq request = RequestFor(config.name);
  request.ifr_flags = IFF_TUN | IFF_NO_PI | (config.offload ? IFF_VNET_HDR : 0);
  if (::ioctl(fd, TUNSETIFF, &request) < 0) {
    const int error = errno;
    ::close(fd);
    const std::string what = config.name.empty() ? "a tun device" : config.name;
    return ErrnoToStatus(error, absl::StrFormat("tun: create %s (TUNSETIFF)", what));
  }
  // The kernel wrote the final name back (it chose tunN, or expanded %d).
  std::string name(request.ifr_name, ::strnlen(request.ifr_name, IFNAMSIZ));

  ifreq index_request = RequestFor(name);
  if (absl::Status s = InterfaceIoctl(SIOCGIFINDEX, index_request,
                                      absl::StrFormat("tun: get index of %s", name));
      !s.ok()) {
    ::close(fd);
    return s;
  }
  // From here on the TunDevice owns the descriptor; returning an error closes it.
  TunDevice device(fd, std::move(name), index_request.ifr_ifindex);
  Logger log(log_sink, "tun");
  if (config.offload) {
    device.vnet_header_ = true;
    const unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    if (::ioctl(fd, TUNSETOFFLOAD, offloads) < 0) {
      log.Warning("%s: TUNSETOFFLOAD refused (%s): no checksum or TSO offload", device.name(),
                  std::strerror(errno));
    }
  }
  if (config.mtu != 0) {
    if (absl::Status s = device.SetMtu(config.mtu); !s.ok()) return s;
  }
  // Up first, so that AddAddress waits for each address to become usable.
  if (config.up) {
    if (absl::Status s = device.SetUp(true); !s.ok()) return s;
  }
  for (const IpPrefix& prefix : config.addresses) {
    if (absl::Status s = device.AddAddress(prefix); !s.ok()) return s;
  }
  std::string addresses;
  for (const IpPrefix& prefix : config.addresses) {
    absl::StrAppendFormat(&addresses, " %s", prefix.ToString());
  }
  log.Info("created %s (index %d, mtu %d%s%s)%s", device.name(), device.index(),
           config.mtu == 0 ? 1500 : config.mtu, config.up ? ", up" : "",
           config.offload ? ", TSO offload" : "", addresses);
  return device;
}

TunDevice::TunDevice(TunDevice&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      index_(std::exchange(other.index_, 0)),
      vnet_header_(std::exchange(other.vnet_header_, false)) {}

TunDevice& TunDevice::operator=(TunDevice&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    name_ = std::move(other.name_);
    index_ = std::exchange(other.index_, 0);
    vnet_header_ = std::exchange(other.vnet_header_, false);
  }
  return *this;
}

TunDevice::~TunDevice() { Close(); }

void TunDevice::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

absl::Status TunDevice::SetMtu(int mtu) {
  ifreq request = RequestFor(name_);
  request.ifr_mtu = mtu;
  return InterfaceIoctl(SIOCSIFMTU, request, absl::StrFormat("tun: set MTU %d on %s", mtu, name_));
}

absl::Status TunDevice::AddAddress(const IpPrefix& prefix) {
  MESHVPN_RETURN_IF_ERROR(internal::NetlinkAddAddress(index_, name_, prefix));
  ifreq request = RequestFor(name_);
  const bool up = InterfaceIoctl(SIOCGIFFLAGS, request, "").ok() && (request.ifr_flags & IFF_UP);
  if (!up) return absl::OkStatus();  // the kernel finishes the address when the link comes up
  return internal::NetlinkWaitUntilLocal(prefix.address, name_, kAddressReadyTimeout);
}

absl::Status TunDevice::SetUp(bool up) {
  const std::string step = absl::StrFormat("tun: set %s %s", name_, up ? "up" : "down");
  ifreq request = RequestFor(name_);
  MESHVPN_RETURN_IF_ERROR(InterfaceIoctl(SIOCGIFFLAGS, request, step));
  if (up) {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  } else {
    request.ifr_flags = static_cast<short>(request.ifr_flags & ~IFF_UP);
  }
  return InterfaceIoctl(SIOCSIFFLAGS, request, step);
}

}  // namespace meshvpn::tun
