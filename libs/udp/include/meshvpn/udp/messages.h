// Sizes and limits of UDP over IPv4 and IPv6 that the udp library's buffers and batches are built
// on.
#pragma once

#include <cstddef>

namespace meshvpn::udp {

// Header sizes (RFC 768, RFC 791 without options, RFC 8200 without extension headers).
inline constexpr size_t kUdpHeaderSize = 8;
inline constexpr size_t kIpv4HeaderSize = 20;
inline constexpr size_t kIpv6HeaderSize = 40;

// The IPv4 total-length field is 16 bits and covers the IP and UDP headers; IPv6's payload-length
// field covers only what follows the IPv6 header (jumbograms aside).
inline constexpr size_t kMaxUdpPayloadV4 = 65535 - kIpv4HeaderSize - kUdpHeaderSize;
inline constexpr size_t kMaxUdpPayloadV6 = 65535 - kUdpHeaderSize;
static_assert(kMaxUdpPayloadV4 == 65507);
static_assert(kMaxUdpPayloadV6 == 65527);

// What fits in one 1500-byte Ethernet frame without IP fragmentation.
inline constexpr size_t kEthernetMtu = 1500;
inline constexpr size_t kMaxUnfragmentedPayloadV4 = kEthernetMtu - kIpv4HeaderSize - kUdpHeaderSize;
inline constexpr size_t kMaxUnfragmentedPayloadV6 = kEthernetMtu - kIpv6HeaderSize - kUdpHeaderSize;
static_assert(kMaxUnfragmentedPayloadV4 == 1472);
static_assert(kMaxUnfragmentedPayloadV6 == 1452);

// The most datagrams moved by one recvmmsg(2) / sendmmsg(2) call and handed over in one batch
// (wireguard-go and the WireGuard data plane work in batches of this size too).
inline constexpr size_t kMaxBatch = 128;

// The default bound on datagrams waiting for the socket to become writable (the Linux WireGuard
// module's MAX_QUEUED_PACKETS).
inline constexpr size_t kDefaultSendQueueLimit = 1024;

}  // namespace meshvpn::udp
