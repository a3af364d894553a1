#include "meshvpn/dns/reverse.h"

#include <cstring>

namespace meshvpn::dns {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool LabelIs(const uint8_t* label, std::string_view text) {
  return label[0] == text.size() &&
         EqualsIgnoreCase(label + 1, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// "0".."255", no leading zero.
bool ParseOctet(const uint8_t* label, uint8_t* out) {
  const size_t len = label[0];
  if (len == 0 || len > 3 || (len > 1 && label[1] == '0')) return false;
  unsigned v = 0;
  for (size_t i = 1; i <= len; ++i) {
    if (label[i] < '0' || label[i] > '9') return false;
    v = v * 10 + (label[i] - '0');
  }
  if (v > 255) return false;
  *out = static_cast<uint8_t>(v);
  return true;
}

bool ParseNibble(const uint8_t* label, uint8_t* out) {
  if (label[0] != 1) return false;
  const uint8_t c = AsciiLower(label[1]);
  if (c >= '0' && c <= '9') {
    *out = c - '0';
  } else if (c >= 'a' && c <= 'f') {
    *out = static_cast<uint8_t>(c - 'a' + 10);
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool ReverseName(std::span<const uint8_t> address, Name* out) {
  uint8_t* p = out->mutable_data();
  size_t n = 0;
  auto label = [&](std::string_view s) {
    p[n++] = static_cast<uint8_t>(s.size());
    std::memcpy(p + n, s.data(), s.size());
    n += s.size();
  };
  if (address.size() == 4) {
    for (size_t i = 4; i-- > 0;) {
      const uint8_t b = address[i];
      char digits[3];
      size_t len = 0;
      if (b >= 100) digits[len++] = static_cast<char>('0' + b / 100);
      if (b >= 10) digits[len++] = static_cast<char>('0' + (b / 10) % 10);
      digits[len++] = static_cast<char>('0' + b % 10);
      label({digits, len});
    }
    label("in-addr");
  } else if (address.size() == 16) {
    for (size_t i = 16; i-- > 0;) {
      p[n++] = 1;
      p[n++] = static_cast<uint8_t>(kHex[address[i] & 0xf]);
      p[n++] = 1;
      p[n++] = static_cast<uint8_t>(kHex[address[i] >> 4]);
    }
    label("ip6");
  } else {
    return false;
  }
  label("arpa");
  p[n++] = 0;
  out->set_size(n);
  return true;
}

std::string_view ToString(ReverseParse r) {
  switch (r) {
    case ReverseParse::kOk:
      return "ok";
    case ReverseParse::kNotReverse:
      return "not a reverse name";
    case ReverseParse::kMalformed:
      return "malformed reverse name";
  }
  return "unknown";
}

ReverseParse ParseReverseName(std::span<const uint8_t> wire, ReverseAddress* out) {
  // Label starts; a valid name has at most 127 labels.
  std::array<uint8_t, kMaxNameLength / 2 + 1> starts;
  size_t n = 0;
  for (size_t pos = 0; pos < wire.size() && wire[pos] != 0; pos += size_t{wire[pos]} + 1) {
    if (n == starts.size()) return ReverseParse::kNotReverse;
    starts[n++] = static_cast<uint8_t>(pos);
  }
  if (n < 2 || !LabelIs(wire.data() + starts[n - 1], "arpa")) return ReverseParse::kNotReverse;
  const uint8_t* zone = wire.data() + starts[n - 2];
  const size_t k = n - 2;  // the address labels
  ReverseAddress r;
  if (LabelIs(zone, "in-addr")) {
    r.family = udp::AddressFamily::kIpv4;
    if (k > 4) return ReverseParse::kMalformed;
    for (size_t j = 0; j < k; ++j) {
      if (!ParseOctet(wire.data() + starts[j], &r.bytes[k - 1 - j])) {
        return ReverseParse::kMalformed;
      }
    }
    r.prefix_bits = 8 * k;
  } else if (LabelIs(zone, "ip6")) {
    r.family = udp::AddressFamily::kIpv6;
    if (k > 32) return ReverseParse::kMalformed;
    for (size_t j = 0; j < k; ++j) {
      uint8_t nibble = 0;
      if (!ParseNibble(wire.data() + starts[j], &nibble)) return ReverseParse::kMalformed;
      const size_t at = k - 1 - j;  // nibble index from the top of the address
      r.bytes[at / 2] |= static_cast<uint8_t>(at % 2 == 0 ? nibble << 4 : nibble);
    }
    r.prefix_bits = 4 * k;
  } else {
    return ReverseParse::kNotReverse;
  }
  *out = r;
  return ReverseParse::kOk;
}

}  // namespace meshvpn::dns
