// Hex and base64 codecs. Character classes are computed with arithmetic masks instead of table
// lookups or branches, so decoding a secret key does not leak its bits through timing.
#include "meshvpn/base/bytes.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace meshvpn {
namespace {

// -1 if lo <= c <= hi, else 0, without branching (c is a byte value, 0..255).
int InRangeMask(int c, int lo, int hi) { return ((lo - 1 - c) & (c - hi - 1)) >> 8; }

// 0..15, or -1 for a non-hex character.
int HexDigitValue(uint8_t ch) {
  const int c = ch;
  const int v = (InRangeMask(c, '0', '9') & (c - '0' + 1)) |
                (InRangeMask(c, 'a', 'f') & (c - 'a' + 11)) |
                (InRangeMask(c, 'A', 'F') & (c - 'A' + 11));
  return v - 1;
}

char HexDigitChar(unsigned nibble) {
  const int n = static_cast<int>(nibble);
  return static_cast<char>(n + '0' + (((9 - n) >> 8) & ('a' - '0' - 10)));
}

// 0..63, or -1 for a character outside the standard alphabet (including '=').
int Base64Value(uint8_t ch) {
  const int c = ch;
  const int v = (InRangeMask(c, 'A', 'Z') & (c - 'A' + 1)) |
                (InRangeMask(c, 'a', 'z') & (c - 'a' + 27)) |
                (InRangeMask(c, '0', '9') & (c - '0' + 53)) | (InRangeMask(c, '+', '+') & 63) |
                (InRangeMask(c, '/', '/') & 64);
  return v - 1;
}

char Base64Char(unsigned value) {
  const int x = static_cast<int>(value);
  int c = x + 'A';
  c += ((25 - x) >> 8) & 6;   // a..z
  c -= ((51 - x) >> 8) & 75;  // 0..9
  c -= ((61 - x) >> 8) & 15;  // '+'
  c += ((62 - x) >> 8) & 3;   // '/'
  return static_cast<char>(c);
}

size_t Base64Padding(std::string_view text) {
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  return pad;
}

}  // namespace

std::string HexEncode(ByteSpan data) {
  std::string out(data.size() * 2, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = HexDigitChar(data[i] >> 4);
    out[2 * i + 1] = HexDigitChar(data[i] & 0xf);
  }
  return out;
}

absl::Status HexDecodeInto(std::string_view hex, MutableByteSpan out) {
  if (hex.size() % 2 != 0) {
    std::fill(out.begin(), out.end(), 0);
    return absl::InvalidArgumentError(
        absl::StrFormat("hex: odd length %d (two characters per byte)", hex.size()));
  }
  if (hex.size() / 2 != out.size()) {
    std::fill(out.begin(), out.end(), 0);
    return absl::InvalidArgumentError(absl::StrFormat(
        "hex: %d characters decode to %d bytes, want %d", hex.size(), hex.size() / 2, out.size()));
  }
  int bad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexDigitValue(static_cast<uint8_t>(hex[2 * i]));
    const int lo = HexDigitValue(static_cast<uint8_t>(hex[2 * i + 1]));
    bad |= hi | lo;
    out[i] = static_cast<uint8_t>(((hi & 0xf) << 4) | (lo & 0xf));
  }
  if (bad < 0) {
    std::fill(out.begin(), out.end(), 0);
    size_t offset = 0;
    while (HexDigitValue(static_cast<uint8_t>(hex[offset])) >= 0) ++offset;
    return absl::InvalidArgumentError(
        absl::StrFormat("hex: invalid character at offset %d", offset));
  }
  return absl::OkStatus();
}

absl::StatusOr<Bytes> HexDecode(std::string_view hex) {
  Bytes out(hex.size() / 2);
  if (absl::Status s = HexDecodeInto(hex, out); !s.ok()) return s;
  return out;
}

std::string Base64Encode(ByteSpan data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += Base64Char((v >> 18) & 63);
    out += Base64Char((v >> 12) & 63);
    out += Base64Char((v >> 6) & 63);
    out += Base64Char(v & 63);
  }
  const size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{data[i]} << 16;
    if (rest == 2) v |= uint32_t{data[i + 1]} << 8;
    out += Base64Char((v >> 18) & 63);
    out += Base64Char((v >> 12) & 63);
    out += rest == 2 ? Base64Char((v >> 6) & 63) : '=';
    out += '=';
  }
  return out;
}

absl::Status Base64DecodeInto(std::string_view text, MutableByteSpan out) {
  auto fail = [&](absl::Status status) {
    std::fill(out.begin(), out.end(), 0);
    return status;
  };
  if (text.size() % 4 != 0) {
    return fail(absl::InvalidArgumentError(
        absl::StrFormat("base64: length %d is not a multiple of 4", text.size())));
  }
  const size_t pad = Base64Padding(text);
  const size_t decoded = text.size() / 4 * 3 - pad;
  if (decoded != out.size()) {
    return fail(absl::InvalidArgumentError(
        absl::StrFormat("base64: decodes to %d bytes, want %d", decoded, out.size())));
  }
  int bad = 0;
  int leftover_bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < text.size(); i += 4) {
    const size_t real = (i + 4 == text.size()) ? 4 - pad : 4;
    int v[4] = {0, 0, 0, 0};
    for (size_t j = 0; j < real; ++j) {
      v[j] = Base64Value(static_cast<uint8_t>(text[i + j]));
      bad |= v[j];
    }
    const uint32_t bits = (uint32_t(v[0] & 63) << 18) | (uint32_t(v[1] & 63) << 12) |
                          (uint32_t(v[2] & 63) << 6) | uint32_t(v[3] & 63);
    const uint8_t triple[3] = {uint8_t(bits >> 16), uint8_t(bits >> 8), uint8_t(bits)};
    for (size_t j = 0; j + 1 < real; ++j) out[o++] = triple[j];
    if (real == 3) leftover_bits = v[2] & 3;
    if (real == 2) leftover_bits = v[1] & 15;
  }
  if (bad < 0) {
    size_t offset = 0;
    while (offset < text.size() - pad && Base64Value(static_cast<uint8_t>(text[offset])) >= 0) {
      ++offset;
    }
    return fail(absl::InvalidArgumentError(
        absl::StrFormat("base64: invalid character at offset %d", offset)));
  }
  if (leftover_bits != 0) {
    return fail(absl::InvalidArgumentError("base64: non-canonical encoding (unused bits set)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Bytes> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("base64: length %d is not a multiple of 4", text.size()));
  }
  Bytes out(text.size() / 4 * 3 - Base64Padding(text));
  if (absl::Status s = Base64DecodeInto(text, out); !s.ok()) return s;
  return out;
}

}  // namespace meshvpn
