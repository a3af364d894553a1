#include "meshvpn/dns/name.h"

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace meshvpn::dns {

bool EqualsIgnoreCase(const uint8_t* a, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool WireNameEqualsIgnoreCase(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && EqualsIgnoreCase(a.data(), b.data(), a.size());
}

bool WireNameIsSubdomain(std::span<const uint8_t> name, std::span<const uint8_t> zone) {
  if (zone.size() > name.size() || zone.empty()) return false;
  size_t pos = 0;
  while (name.size() - pos > zone.size()) {
    const uint8_t len = name[pos];
    if (len == 0) return false;
    pos += size_t{len} + 1;
  }
  return name.size() - pos == zone.size() &&
         EqualsIgnoreCase(name.data() + pos, zone.data(), zone.size());
}

ParseError Name::FromText(std::string_view text, Name* out) {
  if (text.empty()) return ParseError::kEmptyLabel;
  if (text == ".") {
    out->wire_[0] = 0;
    out->size_ = 1;
    return ParseError::kOk;
  }
  std::array<uint8_t, kMaxNameLength + 1> buf;
  size_t label_start = 0;  // where the current label's length byte goes
  size_t pos = 1;          // the next byte to write
  size_t label_len = 0;
  bool ended_with_dot = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (label_len == 0) return ParseError::kEmptyLabel;
      if (pos >= buf.size()) return ParseError::kNameTooLong;
      buf[label_start] = static_cast<uint8_t>(label_len);
      label_start = pos++;
      label_len = 0;
      ended_with_dot = i + 1 == text.size();
      continue;
    }
    uint8_t b = static_cast<uint8_t>(c);
    if (c == '\\') {
      if (i + 1 >= text.size()) return ParseError::kBadEscape;
      const char d = text[i + 1];
      if (d >= '0' && d <= '9') {
        if (i + 3 >= text.size()) return ParseError::kBadEscape;
        unsigned v = 0;
        for (size_t k = 1; k <= 3; ++k) {
          const char x = text[i + k];
          if (x < '0' || x > '9') return ParseError::kBadEscape;
          v = v * 10 + static_cast<unsigned>(x - '0');
        }
        if (v > 255) return ParseError::kBadEscape;
        b = static_cast<uint8_t>(v);
        i += 3;
      } else {
        b = static_cast<uint8_t>(d);
        i += 1;
      }
    }
    if (label_len == kMaxLabelLength) return ParseError::kLabelTooLong;
    if (pos >= buf.size()) return ParseError::kNameTooLong;
    buf[pos++] = b;
    ++label_len;
  }
  size_t size;
  if (ended_with_dot) {
    buf[label_start] = 0;
    size = label_start + 1;
  } else {
    buf[label_start] = static_cast<uint8_t>(label_len);
    if (pos >= buf.size()) return ParseError::kNameTooLong;
    buf[pos] = 0;
    size = pos + 1;
  }
  if (size > kMaxNameLength) return ParseError::kNameTooLong;
  std::memcpy(out->wire_.data(), buf.data(), size);
  out->size_ = static_cast<uint8_t>(size);
  return ParseError::kOk;
}

absl::StatusOr<Name> Name::Parse(std::string_view text) {
  Name n;
  const ParseError e = FromText(text, &n);
  if (e != ParseError::kOk) {
    return absl::InvalidArgumentError(absl::StrFormat("dns name: %s", dns::ToString(e)));
  }
  return n;
}

ParseError Name::FromWire(std::span<const uint8_t> wire, Name* out) {
  size_t pos = 0;
  while (true) {
    if (pos >= wire.size()) return ParseError::kTruncated;
    const uint8_t len = wire[pos];
    if (len == 0) break;
    if (len > kMaxLabelLength) return ParseError::kBadLabelType;
    pos += size_t{len} + 1;
    if (pos + 1 > kMaxNameLength) return ParseError::kNameTooLong;
  }
  if (pos + 1 != wire.size()) return ParseError::kTruncated;
  std::memcpy(out->wire_.data(), wire.data(), wire.size());
  out->size_ = static_cast<uint8_t>(wire.size());
  return ParseError::kOk;
}

size_t Name::LabelCount() const {
  size_t n = 0;
  for (size_t pos = 0; wire_[pos] != 0; pos += size_t{wire_[pos]} + 1) ++n;
  return n;
}

Name Name::Lowercase() const {
  Name n;
  for (size_t i = 0; i < size_; ++i) n.wire_[i] = AsciiLower(wire_[i]);
  n.size_ = size_;
  return n;
}

std::string Name::ToString() const {
  if (IsRoot()) return ".";
  std::string s;
  s.reserve(size_);
  for (size_t pos = 0; wire_[pos] != 0; pos += size_t{wire_[pos]} + 1) {
    if (pos != 0) s.push_back('.');
    const uint8_t len = wire_[pos];
    for (size_t i = 1; i <= len; ++i) {
      const uint8_t c = wire_[pos + i];
      if (c == '.' || c == '\\') {
        s.push_back('\\');
        s.push_back(static_cast<char>(c));
      } else if (c < '!' || c > '~') {
        s.push_back('\\');
        s.push_back(static_cast<char>('0' + c / 100));
        s.push_back(static_cast<char>('0' + (c / 10) % 10));
        s.push_back(static_cast<char>('0' + c % 10));
      } else {
        s.push_back(static_cast<char>(c));
      }
    }
  }
  return s;
}

bool operator==(const Name& a, const Name& b) {
  return a.size_ == b.size_ && std::memcmp(a.wire_.data(), b.wire_.data(), a.size_) == 0;
}

}  // namespace meshvpn::dns
