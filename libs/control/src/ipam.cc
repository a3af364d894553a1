#include "meshvpn/control/ipam.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace meshvpn::control {
namespace {

int AddressBits(IpFamily family) { return family == IpFamily::kIpv4 ? 32 : 128; }
size_t AddressBytes(IpFamily family) { return family == IpFamily::kIpv4 ? 4 : 16; }

// Big-endian reads and writes of the 64 bits ending at byte `end` (IPv6: 8 or 16; IPv4: 4).
uint64_t ReadLow(const IpAddress& address, size_t begin, size_t end) {
  uint64_t value = 0;
  for (size_t i = begin; i < end; ++i) value = (value << 8) | address.bytes[i];
  return value;
}

void WriteLow(IpAddress& address, size_t begin, size_t end, uint64_t value) {
  for (size_t i = end; i > begin; --i) {
    address.bytes[i - 1] = static_cast<uint8_t>(value & 0xff);
    value >>= 8;
  }
}

// The bytes that hold an offset: IPv4's 4, IPv6's low 8.
size_t OffsetBegin(IpFamily family) { return family == IpFamily::kIpv4 ? 0 : 8; }
size_t OffsetEnd(IpFamily family) { return AddressBytes(family); }

bool HostBitsZero(const IpAddress& address, int length) {
  const int bits = AddressBits(address.family);
  for (int bit = length; bit < bits; ++bit) {
    if (address.bytes[bit / 8] & (0x80 >> (bit % 8))) return false;
  }
  return true;
}

}  // namespace

std::string_view ToString(IpFamily family) { return family == IpFamily::kIpv4 ? "IPv4" : "IPv6"; }

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  const int af = family == IpFamily::kIpv4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes.data(), text, sizeof(text)) == nullptr) return "?";
  return text;
}

absl::StatusOr<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IP address: \"", std::string(text), "\""));
  }
  const std::string copy(text);  // inet_pton needs a terminated string
  IpAddress address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
    address.family = IpFamily::kIpv4;
    return address;
  }
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
    address.family = IpFamily::kIpv6;
    return address;
  }
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: \"", std::string(text), "\""));
}

std::string IpPrefix::ToString() const { return absl::StrCat(network.ToString(), "/", length); }

bool IpPrefix::Contains(const IpAddress& address) const {
  if (address.family != network.family) return false;
  for (int bit = 0; bit < length; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((address.bytes[bit / 8] & mask) != (network.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

absl::StatusOr<IpPrefix> ParseIpPrefix(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("prefix \"", std::string(text),
                                                   "\" has no length (write it as 100.64.0.0/10)"));
  }
  auto address = ParseIpAddress(text.substr(0, slash));
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix \"", std::string(text), "\": ", address.status().message()));
  }
  const std::string_view length_text = text.substr(slash + 1);
  int length = -1;
  const auto [end, error] =
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (length_text.empty() || error != std::errc() ||
      end != length_text.data() + length_text.size() || length < 0 ||
      length > AddressBits(address->family)) {
    return absl::InvalidArgumentError(absl::StrCat("prefix \"", std::string(text),
                                                   "\": the length must be 0..",
                                                   AddressBits(address->family)));
  }
  if (!HostBitsZero(*address, length)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prefix \"", std::string(text), "\" has host bits set (did you mean a network address?)"));
  }
  return IpPrefix{*address, length};
}

AddressPool::AddressPool(IpPrefix prefix) : prefix_(std::move(prefix)) {}

absl::StatusOr<AddressPool> AddressPool::Parse(std::string_view prefix_text) {
  auto prefix = ParseIpPrefix(prefix_text);
  if (!prefix.ok()) return prefix.status();
  return Create(*prefix);
}

absl::StatusOr<AddressPool> AddressPool::Create(const IpPrefix& prefix) {
  const IpFamily family = prefix.network.family;
  const int host_bits = AddressBits(family) - prefix.length;
  if (host_bits < 2) {
    return absl::InvalidArgumentError(absl::StrCat("prefix ", prefix.ToString(),
                                                   " is too small for nodes (at most /",
                                                   AddressBits(family) - 2, ")"));
  }
  AddressPool pool(prefix);
  pool.size_ = host_bits >= 62 ? (uint64_t{1} << 62) : (uint64_t{1} << host_bits);
  uint64_t reserved = 1;                      // the network address
  if (family == IpFamily::kIpv4) ++reserved;  // the broadcast address
  auto magic = ParseIpAddress(family == IpFamily::kIpv4 ? kMagicDnsIpv4 : kMagicDnsIpv6);
  if (magic.ok()) {
    auto offset = pool.OffsetOf(*magic);
    if (offset.ok() && !pool.IsReserved(*offset)) {
      pool.magic_dns_offset_ = *offset;
      ++reserved;
    }
  }
  if (pool.size_ <= reserved) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix ", prefix.ToString(), " has no address left for nodes"));
  }
  pool.usable_ = pool.size_ - reserved;
  return pool;
}

bool AddressPool::IsReserved(uint64_t offset) const {
  if (offset == 0) return true;
  if (family() == IpFamily::kIpv4 && offset == size_ - 1) return true;
  return magic_dns_offset_ != 0 && offset == magic_dns_offset_;
}

IpAddress AddressPool::AddressAt(uint64_t offset) const {
  IpAddress address = prefix_.network;
  const size_t begin = OffsetBegin(family());
  const size_t end = OffsetEnd(family());
  // The host bits of the network are zero and offset < size() fits in them: no carry.
  WriteLow(address, begin, end, ReadLow(address, begin, end) + offset);
  return address;
}

absl::StatusOr<uint64_t> AddressPool::OffsetOf(const IpAddress& address) const {
  if (!prefix_.Contains(address)) {
    return absl::NotFoundError(absl::StrCat(address.ToString(), " is not in ", prefix_.ToString()));
  }
  const size_t begin = OffsetBegin(family());
  const size_t end = OffsetEnd(family());
  // IPv6: the bytes above the offset's 64 bits must be the network's (they are for /64 and
  // longer; a shorter prefix uses only its first 2^62 addresses).
  for (size_t i = 0; i < begin; ++i) {
    if (address.bytes[i] != prefix_.network.bytes[i]) {
      return absl::NotFoundError(absl::StrCat(
          address.ToString(), " is outside the addresses used of ", prefix_.ToString()));
    }
  }
  const uint64_t offset = ReadLow(address, begin, end) - ReadLow(prefix_.network, begin, end);
  if (offset >= size_) {
    return absl::NotFoundError(
        absl::StrCat(address.ToString(), " is outside the addresses used of ", prefix_.ToString()));
  }
  return offset;
}

absl::StatusOr<uint64_t> AddressPool::FindFree(
    uint64_t start, const std::function<absl::StatusOr<bool>(uint64_t)>& is_used) const {
  if (start == 0 || start >= size_) start = 1;
  uint64_t offset = start;
  uint64_t tried = 0;
  // Every offset is visited at most once: from start to the end, then from 1 back to start.
  for (uint64_t step = 0; step < size_ - 1 && tried < usable_; ++step) {
    if (!IsReserved(offset)) {
      ++tried;
      absl::StatusOr<bool> used = is_used(offset);
      if (!used.ok()) return used.status();
      if (!*used) return offset;
    }
    offset = offset + 1 >= size_ ? 1 : offset + 1;
  }
  return absl::ResourceExhaustedError(absl::StrCat("no free ", std::string(ToString(family())),
                                                   " address left in ", prefix_.ToString()));
}

}  // namespace meshvpn::control
