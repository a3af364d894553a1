// A small, strict JSON (RFC 8259) reader for tests: loads Wycheproof and other vector files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace meshvpn::test {

// One JSON value. Objects keep their members in file order; duplicate keys are rejected by the
// parser. Accessors named As*() abort the test binary with a message when the value has another
// type (in a test that is a bug in the test or the data file, not a condition to handle).
class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<JsonValue>;
  using Member = std::pair<std::string, JsonValue>;
  using Object = std::vector<Member>;

  JsonValue() = default;  // null
  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool b);
  // `lexeme` is the number exactly as written in the file (kept so integers stay exact).
  static JsonValue Number(double value, std::string lexeme);
  static JsonValue String(std::string s);
  static JsonValue MakeArray(Array items);
  static JsonValue MakeObject(Object members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool AsBool() const;
  double AsDouble() const;
  // The number as an integer; aborts if it has a fraction/exponent or does not fit in int64_t.
  int64_t AsInt64() const;
  // The number's text as written in the file, e.g. "1e3" or "-0.5".
  const std::string& NumberLexeme() const;
  const std::string& AsString() const;
  const Array& AsArray() const;
  const Object& AsObject() const;

  // Object member lookup: nullptr if this is not an object or has no member `key`.
  const JsonValue* Find(std::string_view key) const;
  // Object member lookup that aborts with the key's name if the member is missing.
  const JsonValue& at(std::string_view key) const;
  // Array element access that aborts if out of range or not an array.
  const JsonValue& at(size_t index) const;
  // Number of array elements or object members; 0 for scalars.
  size_t size() const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string text_;  // string contents, or a number's lexeme
  Array array_;
  Object object_;
};

// Human-readable name of a type ("null", "bool", "number", "string", "array", "object").
std::string_view ToString(JsonValue::Type type);

// Parses one JSON text (surrounding whitespace allowed, nothing else after it). Strings must be
// valid UTF-8; \u escapes (including surrogate pairs) are decoded to UTF-8. Errors give the
// 1-based line and column. Nesting deeper than 256 levels is rejected.
absl::StatusOr<JsonValue> ParseJson(std::string_view text);

// Reads and parses a whole file.
absl::StatusOr<JsonValue> ReadJsonFile(const std::string& path);

}  // namespace meshvpn::test
