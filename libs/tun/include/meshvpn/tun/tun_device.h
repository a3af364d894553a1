// Creates and configures a TUN device (layer-3 packets, no packet-info header): its name,
// addresses, MTU and link state. Setup code: blocking calls, run before or beside the loop.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/log.h"
#include "meshvpn/tun/ip_address.h"

namespace meshvpn::tun {

struct TunConfig {
  // "" lets the kernel choose (tun0, tun1, ...); a pattern with %d works too ("mvpn%d"). At
  // most 15 characters (IFNAMSIZ - 1).
  std::string name;
  // Interface addresses with their prefix (10.0.0.1/24 routes 10.0.0.0/24 into the device).
  std::vector<IpPrefix> addresses;
  // 1420 leaves room for WireGuard's 80 bytes of IPv6+UDP+WireGuard overhead on a 1500-byte
  // path. 0 keeps the kernel's default (1500).
  int mtu = 1420;
  bool up = true;
  // IFF_VNET_HDR with checksum and TCP segmentation offload (TUNSETOFFLOAD): the kernel may hand
  // over partial checksums and 64 KiB TCP super-packets, which a UvTunDriver with vnet_header set
  // completes and cuts (virtio_net.h). Fewer, larger reads for TCP. Falls back to no offload (a
  // log line) when the kernel refuses TUNSETOFFLOAD; the header stays.
  bool offload = false;
};

// An open TUN device: IFF_TUN | IFF_NO_PI, so each read() returns exactly one IP packet and each
// write() injects one. The file descriptor is non-blocking and close-on-exec. The device is not
// persistent: it disappears, with its addresses and routes, when the descriptor is closed.
//
// Needs CAP_NET_ADMIN (root) and /dev/net/tun. Errors name the step and the device:
//   "tun: set MTU 1420 on mvpn0: Operation not permitted"
class TunDevice {
 public:
  // Opens /dev/net/tun, creates the device, then sets the MTU (SIOCSIFMTU), brings the link up
  // (SIOCSIFFLAGS) and adds the addresses (netlink RTM_NEWADDR), in that order. When it returns,
  // packets to every address are delivered (see AddAddress). On any error the device is gone
  // again. Logs one info line on success.
  static absl::StatusOr<TunDevice> Create(const TunConfig& config, LogSink* log_sink = nullptr);

  TunDevice(TunDevice&& other) noexcept;
  TunDevice& operator=(TunDevice&& other) noexcept;
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;
  ~TunDevice();

  int fd() const { return fd_; }
  // The name the kernel gave the device ("tun0" when the config left it empty).
  const std::string& name() const { return name_; }
  // The interface index (as in `ip link` and RTM_* messages).
  int index() const { return index_; }
  // Every read and write carries a virtio-net header (TunConfig::offload).
  bool vnet_header() const { return vnet_header_; }

  // The steps Create() runs, for changing a device later.
  absl::Status SetMtu(int mtu);
  // Adds the address and, if the link is up, waits (up to 2 s) until the kernel delivers packets
  // to it: an IPv6 address becomes usable asynchronously, a few milliseconds later, even without
  // duplicate address detection; a packet written for it before then is dropped.
  absl::Status AddAddress(const IpPrefix& prefix);
  // SetUp(true) does not wait for addresses already on the device to become usable.
  absl::Status SetUp(bool up);

  // Closes the descriptor (deleting the device). Also done by the destructor.
  void Close();

 private:
  TunDevice(int fd, std::string name, int index) : fd_(fd), name_(std::move(name)), index_(index) {}

  int fd_ = -1;
  std::string name_;
  int index_ = 0;
  bool vnet_header_ = false;
};

}  // namespace meshvpn::tun
