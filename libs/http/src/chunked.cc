// The chunked transfer coding's encoder.
#include "meshvpn/http/chunked.h"

#include <array>

namespace meshvpn::http {
namespace {

// Appends `n` in lower-case hex without leading zeros.
void AppendHex(size_t n, std::string* out) {
  std::array<char, 2 * sizeof(size_t)> digits;
  size_t len = 0;
  do {
    digits[len++] = "0123456789abcdef"[n & 0xf];
    n >>= 4;
  } while (n != 0);
  while (len > 0) out->push_back(digits[--len]);
}

size_t HexDigits(size_t n) {
  size_t d = 1;
  while (n >>= 4) ++d;
  return d;
}

}  // namespace

void AppendChunk(std::string_view data, std::string* out) {
  if (data.empty()) return;
  out->reserve(out->size() + ChunkOverhead(data.size()) + data.size());
  AppendHex(data.size(), out);
  out->append("\r\n");
  out->append(data);
  out->append("\r\n");
}

void AppendLastChunk(const Headers& trailers, std::string* out) {
  out->append("0\r\n");
  for (const auto& [name, value] : trailers) {
    if (!IsValidField(name, value)) continue;
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  out->append("\r\n");
}

size_t ChunkOverhead(size_t data_size) { return data_size == 0 ? 0 : HexDigits(data_size) + 4; }

}  // namespace meshvpn::http
