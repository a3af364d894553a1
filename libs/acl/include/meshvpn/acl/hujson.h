// HuJSON (JSON with `//` and `/* */` comments and trailing commas) parsed into a JSON value tree
// that remembers where each value was written, so that policy errors can name a line and column.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace meshvpn::acl {

// Where a value starts in the source text: 1-based line and column (columns count bytes).
struct SourcePosition {
  int line = 0;
  int column = 0;
};

// A parsed JSON value. Objects keep their members in source order (duplicate keys are a parse
// error, so each key appears once). Numbers keep their source text as well as their double value,
// so that 65535 and 1e3 can be told apart by a caller that wants integers.
class JsonValue {
 public:
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  Kind kind() const { return kind_; }
  SourcePosition position() const { return position_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool bool_value() const { return bool_; }
  double number_value() const { return number_; }
  // The number exactly as written ("22", "-1", "1.5e3"), or the decoded string (UTF-8).
  const std::string& text() const { return text_; }
  const std::vector<JsonValue>& elements() const { return elements_; }
  const std::vector<Member>& members() const { return members_; }
  // The member named `key`, or nullptr (objects only; nullptr for other kinds).
  const JsonValue* Find(std::string_view key) const;

  // "null", "boolean", "number", "string", "array", "object": for error messages.
  static std::string_view KindName(Kind kind);

  // Builders, used by the parser and by tests.
  static JsonValue Null(SourcePosition at = {});
  static JsonValue Bool(bool value, SourcePosition at = {});
  static JsonValue Number(double value, std::string text, SourcePosition at = {});
  static JsonValue String(std::string value, SourcePosition at = {});
  static JsonValue Array(std::vector<JsonValue> elements, SourcePosition at = {});
  static JsonValue Object(std::vector<Member> members, SourcePosition at = {});

 private:
  Kind kind_ = Kind::kNull;
  SourcePosition position_;
  bool bool_ = false;
  double number_ = 0;
  std::string text_;
  std::vector<JsonValue> elements_;
  std::vector<Member> members_;
};

struct HuJsonLimits {
  size_t max_depth = 64;  // nesting of arrays and objects
  // A policy file is kilobytes. A parsed value takes about 55 times its text, so 1 MiB of
  // input is at most some 60 MB of tree.
  size_t max_input_bytes = 1u << 20;
};

// Parses one HuJSON document: RFC 8259 JSON, plus `//` line comments, `/* */` block comments
// (not nested) and a trailing comma after the last element of an array or object. Strict
// otherwise: no single quotes, no unquoted keys, no NaN/Infinity, no leading zeros or `+`, no
// control characters in strings, valid UTF-8 only (also in comments), \u escapes with correct
// surrogate pairs, nothing but whitespace and comments after the value, duplicate keys refused.
// Errors are InvalidArgument with a message "line L, column C: what" (never the whole input).
absl::StatusOr<JsonValue> ParseHuJson(std::string_view text, const HuJsonLimits& limits = {});

// Writes `value` as standard compact JSON (RFC 8259; strings escaped, numbers as written). This
// is how a HuJSON policy is turned into plain JSON for tools that do not take comments.
std::string ToJson(const JsonValue& value);

}  // namespace meshvpn::acl
