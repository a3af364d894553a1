// Name: a domain name as uncompressed wire labels in a fixed 255-byte buffer (no allocation),
// with presentation-format text, case-insensitive comparison and zone (suffix) matching.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/dns/parse_error.h"
#include "meshvpn/dns/wire.h"

namespace meshvpn::dns {

// ASCII-only case folding, as DNS compares names (RFC 4343): only 'A'..'Z' change.
constexpr uint8_t AsciiLower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c | 0x20) : c;
}

// Case-insensitive comparison of two byte ranges of equal length.
bool EqualsIgnoreCase(const uint8_t* a, const uint8_t* b, size_t n);

// Uncompressed wire names given as spans (labels ending in the root label; see Name::FromWire
// for what is valid). These do not check validity.
bool WireNameEqualsIgnoreCase(std::span<const uint8_t> a, std::span<const uint8_t> b);
// True if `name` is `zone` or below it, compared case-insensitively on label boundaries:
// "a.ts.net" is in "ts.net"; "ats.net" is not. Every name is in the root.
bool WireNameIsSubdomain(std::span<const uint8_t> name, std::span<const uint8_t> zone);

// A domain name. Holds the uncompressed wire form, always valid: length bytes 0..63 ending in the
// root label, 1..255 bytes in all. Case is kept as given; operator== is byte-exact (so a 0x20
// mixed-case name round-trips), EqualsIgnoreCase is how DNS matches names. Copyable, 256 bytes.
class Name {
 public:
  // The root (".").
  Name() = default;

  // Presentation format: "example.com", "example.com." and "." (the root). Escapes: "\X" is the
  // character X (e.g. "\." is a dot inside a label), "\DDD" the byte of that decimal value. No
  // allocation. Errors: kEmptyLabel, kLabelTooLong, kNameTooLong, kBadEscape.
  static ParseError FromText(std::string_view text, Name* out);
  // FromText with a Status (for configuration and tests).
  static absl::StatusOr<Name> Parse(std::string_view text);
  // An uncompressed wire name that must end exactly at the end of `wire`. Errors:
  // kTruncated, kBadLabelType (a compression pointer or a length above 63), kNameTooLong.
  static ParseError FromWire(std::span<const uint8_t> wire, Name* out);

  std::span<const uint8_t> wire() const { return {wire_.data(), size_}; }
  const uint8_t* data() const { return wire_.data(); }
  // The wire length, 1 (root) to 255.
  size_t size() const { return size_; }
  bool IsRoot() const { return size_ == 1; }
  size_t LabelCount() const;
  // The wire bytes as characters: a key for a hash map (use Lowercase() first).
  std::string_view key() const { return {reinterpret_cast<const char*>(wire_.data()), size_}; }

  Name Lowercase() const;
  bool EqualsIgnoreCase(const Name& other) const {
    return WireNameEqualsIgnoreCase(wire(), other.wire());
  }
  // Case-insensitive, on label boundaries; a name is a subdomain of itself.
  bool IsSubdomainOf(const Name& zone) const { return WireNameIsSubdomain(wire(), zone.wire()); }

  // Presentation format without the trailing dot ("." for the root), escaping '.', '\' and bytes
  // outside '!'..'~' ("\032" for a space), so FromText reads it back to the same name. Allocates.
  std::string ToString() const;

  friend bool operator==(const Name& a, const Name& b);

  // For decoders that write the wire form in place: the buffer, then set_size with the length of
  // a valid name written into it.
  uint8_t* mutable_data() { return wire_.data(); }
  void set_size(size_t size) { size_ = static_cast<uint8_t>(size); }

 private:
  std::array<uint8_t, kMaxNameLength> wire_{};  // zeroed once; only size_ bytes matter
  uint8_t size_ = 1;
};

}  // namespace meshvpn::dns
