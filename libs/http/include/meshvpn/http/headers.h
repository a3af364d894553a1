// Headers: an ordered list of HTTP header fields with case-insensitive lookup by name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshvpn::http {

// Field names compare case-insensitively (RFC 9110 5.1); values are kept as received, with
// surrounding whitespace removed. Order and repeated fields are preserved.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  // Appends a field (a repeated name is kept as a second field).
  void Add(std::string name, std::string value);
  // Replaces every field called `name` with one.
  void Set(std::string_view name, std::string value);
  // Removes every field called `name`; returns how many were removed.
  size_t Remove(std::string_view name);

  // The first field called `name`.
  std::optional<std::string_view> Get(std::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string_view> GetAll(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  // True if any field `name` holds `token` in its comma-separated list, case-insensitively
  // (Connection: keep-alive, Upgrade; Transfer-Encoding: gzip, chunked).
  bool HasToken(std::string_view name, std::string_view token) const;

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }

  // Mutable access to the last field, for a parser that receives a value in pieces.
  Field& back() { return fields_.back(); }

 private:
  std::vector<Field> fields_;
};

// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// True if `name` is a valid field name (an RFC 9110 token) and `value` has no CR, LF or NUL:
// the check the serializer makes so a handler cannot split a response.
bool IsValidField(std::string_view name, std::string_view value);

}  // namespace meshvpn::http
