// Headers: case-insensitive lookup, token lists, and the field check the serializer uses.
#include "meshvpn/http/headers.h"

#include <algorithm>

namespace meshvpn::http {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 5.6.2 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':  // NOLINT
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsValidField(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  if (!std::all_of(name.begin(), name.end(), IsTokenChar)) return false;
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

void Headers::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Set(std::string_view name, std::string value) {
  Remove(name);
  fields_.emplace_back(std::string(name), std::move(value));
}

size_t Headers::Remove(std::string_view name) {
  const size_t before = fields_.size();
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const Field& f) { return EqualsIgnoreCase(f.first, name); }),
                fields_.end());
  return before - fields_.size();
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const Field& f : fields_) {
    if (EqualsIgnoreCase(f.first, name)) return std::string_view(f.second);
  }
  return std::nullopt;
}

std::vector<std::string_view> Headers::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Field& f : fields_) {
    if (EqualsIgnoreCase(f.first, name)) out.emplace_back(f.second);
  }
  return out;
}

bool Headers::HasToken(std::string_view name, std::string_view token) const {
  for (const Field& f : fields_) {
    if (!EqualsIgnoreCase(f.first, name)) continue;
    std::string_view rest = f.second;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      std::string_view item = Trim(rest.substr(0, comma));
      // A parameter ("chunked;q=1") is not part of the token.
      item = Trim(item.substr(0, item.find(';')));
      if (EqualsIgnoreCase(item, token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace meshvpn::http
