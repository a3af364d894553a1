#include "meshvpn/wg/tai64n.h"

#include <chrono>

namespace meshvpn::wg {

Tai64n Tai64n::FromWallTime(WallTime t) {
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  if (since_epoch.count() < 0) return Tai64n(kLabelBase, 0);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nanos = since_epoch - seconds;
  return Tai64n(kLabelBase + static_cast<uint64_t>(seconds.count()),
                static_cast<uint32_t>(nanos.count()));
}

Tai64n Tai64n::FromBytes(std::span<const uint8_t, kSize> b) {
  uint64_t label = 0;
  for (size_t i = 0; i < 8; ++i) label = label << 8 | b[i];
  uint32_t nanos = 0;
  for (size_t i = 8; i < 12; ++i) nanos = nanos << 8 | b[i];
  return Tai64n(label, nanos);
}

void Tai64n::ToBytes(std::span<uint8_t, kSize> out) const {
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(label_ >> (56 - 8 * i));
  for (size_t i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(nanoseconds_ >> (24 - 8 * i));
}

Tai64n::Bytes12 Tai64n::ToBytes() const {
  Bytes12 out;
  ToBytes(out);
  return out;
}

int64_t Tai64n::unix_seconds() const {
  return label_ < kLabelBase ? 0 : static_cast<int64_t>(label_ - kLabelBase);
}

}  // namespace meshvpn::wg
