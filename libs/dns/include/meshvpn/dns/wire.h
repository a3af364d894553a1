// DNS wire constants (types, classes, opcodes, rcodes, limits) and the 12-byte message header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace meshvpn::dns {

// RFC 1035 section 2.3.4 and 4.2.1: sizes the codec enforces.
inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxLabelLength = 63;
inline constexpr size_t kMaxNameLength = 255;        // uncompressed wire form, root byte included
inline constexpr size_t kMaxMessageSize = 65535;     // a TCP length prefix's limit
inline constexpr size_t kClassicUdpSize = 512;       // without EDNS
inline constexpr size_t kDefaultMaxUdpSize = 1232;   // DNS flag day 2020's safe payload size
inline constexpr size_t kMinQuestionSize = 5;        // root name + type + class
inline constexpr size_t kMinRecordSize = 11;         // root name + type + class + ttl + rdlength
inline constexpr size_t kRecordFixedSize = 10;       // type + class + ttl + rdlength
inline constexpr size_t kMaxPointerOffset = 0x3fff;  // a compression pointer holds 14 bits

// Resource record types (RFC 1035 3.2.2, RFC 3596, RFC 2782, RFC 6891) and query types.
namespace rrtype {
inline constexpr uint16_t kA = 1;
inline constexpr uint16_t kNs = 2;
inline constexpr uint16_t kCname = 5;
inline constexpr uint16_t kSoa = 6;
inline constexpr uint16_t kPtr = 12;
inline constexpr uint16_t kHinfo = 13;
inline constexpr uint16_t kMx = 15;
inline constexpr uint16_t kTxt = 16;
inline constexpr uint16_t kAaaa = 28;
inline constexpr uint16_t kSrv = 33;
inline constexpr uint16_t kOpt = 41;
inline constexpr uint16_t kDs = 43;
inline constexpr uint16_t kRrsig = 46;
inline constexpr uint16_t kNsec = 47;
inline constexpr uint16_t kDnskey = 48;
inline constexpr uint16_t kSvcb = 64;
inline constexpr uint16_t kHttps = 65;
inline constexpr uint16_t kTsig = 250;
inline constexpr uint16_t kIxfr = 251;
inline constexpr uint16_t kAxfr = 252;
inline constexpr uint16_t kAny = 255;
inline constexpr uint16_t kCaa = 257;
}  // namespace rrtype

namespace rrclass {
inline constexpr uint16_t kIn = 1;
inline constexpr uint16_t kCh = 3;
inline constexpr uint16_t kHs = 4;
inline constexpr uint16_t kNone = 254;
inline constexpr uint16_t kAny = 255;
}  // namespace rrclass

namespace opcode {
inline constexpr uint8_t kQuery = 0;
inline constexpr uint8_t kIQuery = 1;
inline constexpr uint8_t kStatus = 2;
inline constexpr uint8_t kNotify = 4;
inline constexpr uint8_t kUpdate = 5;
}  // namespace opcode

// Response codes. Values above 15 are extended (RFC 6891): the low 4 bits go in the header, the
// high 8 in the OPT record.
namespace rcode {
inline constexpr uint16_t kNoError = 0;
inline constexpr uint16_t kFormErr = 1;
inline constexpr uint16_t kServFail = 2;
inline constexpr uint16_t kNxDomain = 3;
inline constexpr uint16_t kNotImp = 4;
inline constexpr uint16_t kRefused = 5;
inline constexpr uint16_t kBadVers = 16;
}  // namespace rcode

// "A", "AAAA", ... or "" for a type without a mnemonic here.
std::string_view TypeName(uint16_t type);
// "NOERROR", "FORMERR", ... or "".
std::string_view RcodeName(uint16_t rcode);

// The header's second 16 bits, kept as on the wire (so every bit, Z included, round-trips):
//   QR | Opcode(4) | AA | TC | RD | RA | Z | AD | CD | RCODE(4)
class Flags {
 public:
  constexpr Flags() = default;
  constexpr explicit Flags(uint16_t bits) : bits_(bits) {}

  constexpr uint16_t bits() const { return bits_; }
  constexpr bool qr() const { return Get(15); }
  constexpr uint8_t opcode() const { return (bits_ >> 11) & 0xf; }
  constexpr bool aa() const { return Get(10); }
  constexpr bool tc() const { return Get(9); }
  constexpr bool rd() const { return Get(8); }
  constexpr bool ra() const { return Get(7); }
  constexpr bool z() const { return Get(6); }
  constexpr bool ad() const { return Get(5); }
  constexpr bool cd() const { return Get(4); }
  constexpr uint8_t rcode() const { return bits_ & 0xf; }

  constexpr Flags& set_qr(bool v) { return Set(15, v); }
  constexpr Flags& set_opcode(uint8_t op) {
    bits_ = static_cast<uint16_t>((bits_ & ~0x7800u) | ((op & 0xfu) << 11));
    return *this;
  }
  constexpr Flags& set_aa(bool v) { return Set(10, v); }
  constexpr Flags& set_tc(bool v) { return Set(9, v); }
  constexpr Flags& set_rd(bool v) { return Set(8, v); }
  constexpr Flags& set_ra(bool v) { return Set(7, v); }
  constexpr Flags& set_z(bool v) { return Set(6, v); }
  constexpr Flags& set_ad(bool v) { return Set(5, v); }
  constexpr Flags& set_cd(bool v) { return Set(4, v); }
  // The header's 4 bits of the rcode (the low bits of an extended one).
  constexpr Flags& set_rcode(uint16_t rc) {
    bits_ = static_cast<uint16_t>((bits_ & ~0xfu) | (rc & 0xfu));
    return *this;
  }

  friend constexpr bool operator==(Flags a, Flags b) { return a.bits_ == b.bits_; }

 private:
  constexpr bool Get(int bit) const { return (bits_ >> bit) & 1; }
  constexpr Flags& Set(int bit, bool v) {
    bits_ = static_cast<uint16_t>(v ? (bits_ | (1u << bit)) : (bits_ & ~(1u << bit)));
    return *this;
  }
  uint16_t bits_ = 0;
};

// RFC 1035 section 4.1.1.
struct Header {
  uint16_t id = 0;
  Flags flags;
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;

  friend bool operator==(const Header&, const Header&) = default;
};

// The first 12 bytes of `message` (which must hold at least kHeaderSize) as a Header.
Header ReadHeader(std::span<const uint8_t> message);
// Writes `h` into the first 12 bytes of `out` (which must hold at least kHeaderSize).
void WriteHeader(const Header& h, std::span<uint8_t> out);

// Big-endian fields; the caller has checked the bounds.
inline uint16_t LoadU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t LoadU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline void StoreU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void StoreU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace meshvpn::dns
