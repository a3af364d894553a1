// The Internet checksum (RFC 1071) that IPv4, ICMP, TCP and UDP carry, their pseudo-headers, and
// incremental update (RFC 1624) for rewriting a header field in place.
#pragma once

#include <cstdint>

#include "meshvpn/base/bytes.h"

namespace meshvpn::tun {

// Sums data as 16-bit big-endian words in one's-complement arithmetic. Data may arrive in pieces
// of any length: an odd-length piece shifts the next one by a byte, exactly as if the pieces were
// one buffer (a trailing odd byte is padded with zero, RFC 1071).
//
//   ChecksumAccumulator acc;
//   acc.Add(header_without_checksum); acc.Add(payload);
//   store_be16(checksum_field, acc.Finish());
//   ...
//   verify: acc over the bytes *including* the checksum field has Sum() == 0xffff.
class ChecksumAccumulator {
 public:
  void Add(ByteSpan data);
  // One big-endian 16-bit word; `value` lands as if its two bytes were added with Add().
  void AddU16(uint16_t value);
  // One big-endian 32-bit word (as two 16-bit words).
  void AddU32(uint32_t value);

  // The sum folded to 16 bits (not inverted). Over data that includes a correct checksum this is
  // 0xffff.
  uint16_t Sum() const;
  // The checksum to store: the inverted folded sum. For UDP store 0xffff when this is 0 (RFC 768).
  uint16_t Finish() const { return static_cast<uint16_t>(~Sum()); }

 private:
  uint64_t sum_ = 0;
  bool odd_ = false;  // an odd number of bytes has been added so far
};

// The checksum of one buffer (IPv4 header, ICMP message): Finish() of Add(data).
uint16_t InternetChecksum(ByteSpan data);

// Adds the IPv4 pseudo-header (RFC 768, RFC 9293 3.1): source, destination, zero, protocol,
// upper-layer length. `src` and `dst` are 4 bytes each.
void AddIpv4PseudoHeader(ChecksumAccumulator& acc, ByteSpan src, ByteSpan dst, uint8_t protocol,
                         uint16_t length);
// Adds the IPv6 pseudo-header (RFC 8200 8.1): source, final destination, 32-bit upper-layer
// length, three zero bytes, next header. `src` and `dst` are 16 bytes each.
void AddIpv6PseudoHeader(ChecksumAccumulator& acc, ByteSpan src, ByteSpan dst, uint8_t protocol,
                         uint32_t length);

// RFC 1624 equation 3: the new checksum after a 16-bit word covered by `checksum` changes from
// `old_word` to `new_word`, without re-summing the data: HC' = ~(~HC + ~m + m').
uint16_t ChecksumUpdate16(uint16_t checksum, uint16_t old_word, uint16_t new_word);
// The same for a field of several words (an IPv4 or IPv6 address when NATing, a port pair).
// `old_bytes` and `new_bytes` have equal, even length and start at an even offset in the data.
uint16_t ChecksumUpdate(uint16_t checksum, ByteSpan old_bytes, ByteSpan new_bytes);

}  // namespace meshvpn::tun
