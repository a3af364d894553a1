// JsonValue's accessors and builders, and ToJson: a value tree written back as compact RFC 8259
// JSON (strings escaped, numbers exactly as they were written).
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meshvpn/acl/hujson.h"

namespace meshvpn::acl {
namespace {

// `s` as a JSON string: `"` and `\` escaped, control characters as \u00XX, the rest (UTF-8)
// copied as is.
void AppendString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c != '"' && c != '\\' && c >= 0x20) continue;
    out->append(s.substr(run, i - run));
    run = i + 1;
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    }
  }
  out->append(s.substr(run));
  out->push_back('"');
}

// The number's source text; a number built without one (JsonValue::Number(x, "")) is written in
// the shortest form that reads back as the same double, and a non-finite one as null.
void AppendNumber(const JsonValue& value, std::string* out) {
  if (!value.text().empty()) {
    out->append(value.text());
    return;
  }
  const double d = value.number_value();
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof(buf), d);
  out->append(buf, result.ptr);
}

// Recursion as deep as the value's nesting, which the parser bounds (HuJsonLimits::max_depth).
void Append(const JsonValue& value, std::string* out) {
  switch (value.kind()) {
    case JsonValue::Kind::kNull:
      out->append("null");
      return;
    case JsonValue::Kind::kBool:
      out->append(value.bool_value() ? "true" : "false");
      return;
    case JsonValue::Kind::kNumber:
      AppendNumber(value, out);
      return;
    case JsonValue::Kind::kString:
      AppendString(value.text(), out);
      return;
    case JsonValue::Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const JsonValue& element : value.elements()) {
        if (!first) out->push_back(',');
        first = false;
        Append(element, out);
      }
      out->push_back(']');
      return;
    }
    case JsonValue::Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.members()) {
        if (!first) out->push_back(',');
        first = false;
        AppendString(key, out);
        out->push_back(':');
        Append(member, out);
      }
      out->push_back('}');
      return;
    }
  }
}

}  // namespace

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& [name, value] : members_) {
    if (name == key) return &value;
  }
  return nullptr;
}

std::string_view JsonValue::KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
  }
  return "unknown";
}

JsonValue JsonValue::Null(SourcePosition at) {
  JsonValue v;
  v.position_ = at;
  return v;
}

JsonValue JsonValue::Bool(bool value, SourcePosition at) {
  JsonValue v;
  v.kind_ = Kind::kBool;
  v.position_ = at;
  v.bool_ = value;
  return v;
}

JsonValue JsonValue::Number(double value, std::string text, SourcePosition at) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.position_ = at;
  v.number_ = value;
  v.text_ = std::move(text);
  return v;
}

JsonValue JsonValue::String(std::string value, SourcePosition at) {
  JsonValue v;
  v.kind_ = Kind::kString;
  v.position_ = at;
  v.text_ = std::move(value);
  return v;
}

JsonValue JsonValue::Array(std::vector<JsonValue> elements, SourcePosition at) {
  JsonValue v;
  v.kind_ = Kind::kArray;
  v.position_ = at;
  v.elements_ = std::move(elements);
  return v;
}

JsonValue JsonValue::Object(std::vector<Member> members, SourcePosition at) {
  JsonValue v;
  v.kind_ = Kind::kObject;
  v.position_ = at;
  v.members_ = std::move(members);
  return v;
}

std::string ToJson(const JsonValue& value) {
  std::string out;
  Append(value, &out);
  return out;
}

}  // namespace meshvpn::acl
