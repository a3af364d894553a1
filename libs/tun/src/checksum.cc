#include "meshvpn/tun/checksum.h"

#include <bit>
#include <cassert>
#include <cstring>

namespace meshvpn::tun {
namespace {

uint16_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// The one's-complement sum of `n` bytes (a multiple of 8) as 16-bit words in the host's byte
// order, folded to 16 bits and returned as the sum of big-endian words. RFC 1071 2(B): the sum is
// byte-order independent up to a final swap, so eight bytes can be added at a time (with carry,
// in a 128-bit accumulator) instead of decoding big-endian words one by one.
uint32_t SumBulkBe(const uint8_t* p, size_t n) {
  unsigned __int128 acc = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    acc += word;
  }
  uint64_t lo = static_cast<uint64_t>(acc);
  const uint64_t hi = static_cast<uint64_t>(acc >> 64);
  lo += hi;
  if (lo < hi) ++lo;  // end-around carry
  uint64_t sum = (lo & 0xffffffff) + (lo >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  if constexpr (std::endian::native == std::endian::little) {
    sum = ((sum & 0xff) << 8) | (sum >> 8);
  }
  return static_cast<uint32_t>(sum);
}

}  // namespace

void ChecksumAccumulator::Add(ByteSpan data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  if (n == 0) return;
  if (odd_) {
    // The previous piece ended mid-word: this byte is that word's low half.
    sum_ += p[0];
    ++p;
    --n;
    odd_ = false;
  }
  if (n >= 64) {
    const size_t bulk = n & ~size_t{7};
    sum_ += SumBulkBe(p, bulk);
    p += bulk;
    n -= bulk;
  }
  // Adding 32-bit big-endian words into a 64-bit sum and folding at the end gives the same
  // one's-complement result as adding 16-bit words (end-around carry is associative); 2^32 words
  // fit before the accumulator could overflow, far more than any packet.
  while (n >= 4) {
    sum_ += LoadBe32(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    sum_ += (uint32_t{p[0]} << 8) | p[1];
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    sum_ += uint32_t{p[0]} << 8;
    odd_ = true;
  }
}

void ChecksumAccumulator::AddU16(uint16_t value) {
  const uint8_t bytes[2] = {static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
  Add(bytes);
}

void ChecksumAccumulator::AddU32(uint32_t value) {
  AddU16(static_cast<uint16_t>(value >> 16));
  AddU16(static_cast<uint16_t>(value));
}

uint16_t ChecksumAccumulator::Sum() const { return Fold(sum_); }

uint16_t InternetChecksum(ByteSpan data) {
  ChecksumAccumulator acc;
  acc.Add(data);
  return acc.Finish();
}

void AddIpv4PseudoHeader(ChecksumAccumulator& acc, ByteSpan src, ByteSpan dst, uint8_t protocol,
                         uint16_t length) {
  assert(src.size() == 4 && dst.size() == 4);
  acc.Add(src);
  acc.Add(dst);
  acc.AddU16(protocol);  // a zero byte, then the protocol
  acc.AddU16(length);
}

void AddIpv6PseudoHeader(ChecksumAccumulator& acc, ByteSpan src, ByteSpan dst, uint8_t protocol,
                         uint32_t length) {
  assert(src.size() == 16 && dst.size() == 16);
  acc.Add(src);
  acc.Add(dst);
  acc.AddU32(length);
  acc.AddU32(protocol);  // three zero bytes, then the next header
}

uint16_t ChecksumUpdate16(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  const uint64_t sum = uint64_t{static_cast<uint16_t>(~checksum)} +
                       uint64_t{static_cast<uint16_t>(~old_word)} + uint64_t{new_word};
  return static_cast<uint16_t>(~Fold(sum));
}

uint16_t ChecksumUpdate(uint16_t checksum, ByteSpan old_bytes, ByteSpan new_bytes) {
  assert(old_bytes.size() == new_bytes.size() && old_bytes.size() % 2 == 0);
  uint64_t sum = static_cast<uint16_t>(~checksum);
  for (size_t i = 0; i + 1 < old_bytes.size(); i += 2) {
    const uint16_t old_word = static_cast<uint16_t>((old_bytes[i] << 8) | old_bytes[i + 1]);
    const uint16_t new_word = static_cast<uint16_t>((new_bytes[i] << 8) | new_bytes[i + 1]);
    sum += static_cast<uint16_t>(~old_word);
    sum += new_word;
  }
  return static_cast<uint16_t>(~Fold(sum));
}

}  // namespace meshvpn::tun
