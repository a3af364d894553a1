// EDNS(0) (RFC 6891): the OPT pseudo-record's fields, its options, and the UDP payload size a
// response may use.
#pragma once

#include <cstddef>
#include <cstdint>

#include "meshvpn/base/bytes.h"
#include "meshvpn/dns/parse_error.h"
#include "meshvpn/dns/reader.h"
#include "meshvpn/dns/wire.h"

namespace meshvpn::dns {

// The DO bit (RFC 3225) in Opt::flags.
inline constexpr uint16_t kEdnsDoBit = 0x8000;
// An OPT record's fixed part: root name, type, class, TTL, rdlength.
inline constexpr size_t kOptFixedSize = 11;

// An OPT record, read or to be written. On the wire: owner "." | type 41 | class = UDP payload
// size | TTL = extended rcode (8 bits) | version (8) | DO (1) | Z (15) | rdata = options.
// `options` are the raw option bytes (code, length, data ...), pointing into the message when
// read: valid only while it is.
struct Opt {
  uint16_t udp_payload_size = kDefaultMaxUdpSize;
  uint8_t extended_rcode = 0;  // the high 8 bits of a 12-bit rcode
  uint8_t version = 0;
  uint16_t flags = 0;  // DO and the 15 Z bits, as sent
  ByteSpan options;

  bool dnssec_ok() const { return (flags & kEdnsDoBit) != 0; }
  size_t WireSize() const { return kOptFixedSize + options.size(); }
};

// An OPT record found by the reader: its owner must be the root (kBadOptName) and its options
// must tile the rdata (kBadOptOptions). Does not check the section (the caller knows it).
ParseError DecodeOpt(const RecordView& r, Opt* out);

// Walks options: each is code (16 bits), length (16), data.
//   OptionReader o(opt.options);  uint16_t code;  ByteSpan data;
//   while (o.Next(&code, &data)) ...;  if (!o.ok()) ... malformed
class OptionReader {
 public:
  explicit OptionReader(ByteSpan options) : options_(options) {}
  bool Next(uint16_t* code, ByteSpan* data);
  bool ok() const { return ok_; }

 private:
  ByteSpan options_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// The most a UDP response may hold: 512 without EDNS; with it, the client's payload size (at
// least 512, RFC 6891 6.2.3) capped at `max_udp_size` (our own limit, e.g. 1232).
constexpr size_t ResponseUdpSize(bool has_edns, uint16_t client_payload_size, size_t max_udp_size) {
  if (!has_edns) return kClassicUdpSize;
  size_t n = client_payload_size < kClassicUdpSize ? kClassicUdpSize : client_payload_size;
  if (max_udp_size < kClassicUdpSize) max_udp_size = kClassicUdpSize;
  return n < max_udp_size ? n : max_udp_size;
}

}  // namespace meshvpn::dns
