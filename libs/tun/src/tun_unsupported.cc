// TunDevice where tun has no backend yet (anything but Linux): every call says so.
#include <utility>

#include "meshvpn/tun/tun_device.h"

namespace meshvpn::tun {
namespace {

absl::Status Unsupported() {
  return absl::UnimplementedError("tun: TUN devices are only supported on Linux so far");
}

}  // namespace

absl::StatusOr<TunDevice> TunDevice::Create(const TunConfig&, LogSink*) { return Unsupported(); }
TunDevice::TunDevice(TunDevice&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      index_(other.index_),
      vnet_header_(other.vnet_header_) {}
TunDevice& TunDevice::operator=(TunDevice&& other) noexcept {
  fd_ = std::exchange(other.fd_, -1);
  name_ = std::move(other.name_);
  index_ = other.index_;
  vnet_header_ = other.vnet_header_;
  return *this;
}
TunDevice::~TunDevice() = default;
void TunDevice::Close() { fd_ = -1; }
absl::Status TunDevice::SetMtu(int) { return Unsupported(); }
absl::Status TunDevice::AddAddress(const IpPrefix&) { return Unsupported(); }
absl::Status TunDevice::SetUp(bool) { return Unsupported(); }

}  // namespace meshvpn::tun
