// A small, strict JSON reader for tests (see json.h).
#include "json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace meshvpn::test {
namespace {

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "json: %s\n", message.c_str());
  std::abort();
}

constexpr int kMaxDepth = 256;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    SkipWhitespace();
    JsonValue value;
    if (absl::Status s = ParseValue(0, value); !s.ok()) return s;
    SkipWhitespace();
    if (pos_ != text_.size()) return Error("unexpected characters after the JSON value");
    return value;
  }

 private:
  absl::Status Error(std::string_view what) const {
    // Compute the 1-based line and column of pos_.
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return absl::InvalidArgumentError(
        absl::StrFormat("JSON parse error at line %d column %d: %s", line, column, what));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  void SkipWhitespace() {
    while (!AtEnd()) {
      const char c = Peek();
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  bool ConsumeLiteral(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  absl::Status ParseValue(int depth, JsonValue& out) {
    if (depth > kMaxDepth) return Error("nesting too deep");
    if (AtEnd()) return Error("unexpected end of input, expected a value");
    switch (Peek()) {
      case '{':
        return ParseObject(depth, out);
      case '[':
        return ParseArray(depth, out);
      case '"': {
        std::string s;
        if (absl::Status st = ParseString(s); !st.ok()) return st;
        out = JsonValue::String(std::move(s));
        return absl::OkStatus();
      }
      case 't':
        if (!ConsumeLiteral("true")) return Error("invalid literal");
        out = JsonValue::Bool(true);
        return absl::OkStatus();
      case 'f':
        if (!ConsumeLiteral("false")) return Error("invalid literal");
        out = JsonValue::Bool(false);
        return absl::OkStatus();
      case 'n':
        if (!ConsumeLiteral("null")) return Error("invalid literal");
        out = JsonValue::Null();
        return absl::OkStatus();
      default:
        if (Peek() == '-' || (Peek() >= '0' && Peek() <= '9')) return ParseNumber(out);
        return Error("unexpected character, expected a value");
    }
  }

  absl::Status ParseObject(int depth, JsonValue& out) {
    ++pos_;  // '{'
    JsonValue::Object members;
    SkipWhitespace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      out = JsonValue::MakeObject(std::move(members));
      return absl::OkStatus();
    }
    while (true) {
      SkipWhitespace();
      if (AtEnd() || Peek() != '"') return Error("expected a string key");
      std::string key;
      if (absl::Status s = ParseString(key); !s.ok()) return s;
      for (const auto& member : members) {
        if (member.first == key) return Error(absl::StrFormat("duplicate key \"%s\"", key));
      }
      SkipWhitespace();
      if (AtEnd() || Peek() != ':') return Error("expected ':' after an object key");
      ++pos_;
      SkipWhitespace();
      JsonValue value;
      if (absl::Status s = ParseValue(depth + 1, value); !s.ok()) return s;
      members.emplace_back(std::move(key), std::move(value));
      SkipWhitespace();
      if (AtEnd()) return Error("unexpected end of input inside an object");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        out = JsonValue::MakeObject(std::move(members));
        return absl::OkStatus();
      }
      return Error("expected ',' or '}' in an object");
    }
  }

  absl::Status ParseArray(int depth, JsonValue& out) {
    ++pos_;  // '['
    JsonValue::Array items;
    SkipWhitespace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      out = JsonValue::MakeArray(std::move(items));
      return absl::OkStatus();
    }
    while (true) {
      SkipWhitespace();
      JsonValue value;
      if (absl::Status s = ParseValue(depth + 1, value); !s.ok()) return s;
      items.push_back(std::move(value));
      SkipWhitespace();
      if (AtEnd()) return Error("unexpected end of input inside an array");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        out = JsonValue::MakeArray(std::move(items));
        return absl::OkStatus();
      }
      return Error("expected ',' or ']' in an array");
    }
  }

  // Reads exactly four hex digits after "\u".
  absl::Status ParseHex4(uint32_t& out) {
    if (text_.size() - pos_ < 4) return Error("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      uint32_t digit;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Error("invalid hex digit in \\u escape");
      }
      out = (out << 4) | digit;
    }
    return absl::OkStatus();
  }

  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Validates one raw (unescaped) UTF-8 sequence starting at pos_ and appends it.
  absl::Status CopyUtf8Sequence(std::string& out) {
    const auto b0 = static_cast<uint8_t>(text_[pos_]);
    size_t length;
    uint32_t cp;
    if (b0 < 0x80) {
      length = 1;
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      length = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      length = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      length = 4;
      cp = b0 & 0x07;
    } else {
      return Error("invalid UTF-8 lead byte in string");
    }
    if (text_.size() - pos_ < length) return Error("truncated UTF-8 sequence in string");
    for (size_t i = 1; i < length; ++i) {
      const auto b = static_cast<uint8_t>(text_[pos_ + i]);
      if ((b & 0xC0) != 0x80) return Error("invalid UTF-8 continuation byte in string");
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[length]) return Error("overlong UTF-8 sequence in string");
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Error("invalid Unicode code point in string");
    }
    out.append(text_.substr(pos_, length));
    pos_ += length;
    return absl::OkStatus();
  }

  absl::Status ParseString(std::string& out) {
    ++pos_;  // opening quote
    out.clear();
    while (true) {
      if (AtEnd()) return Error("unterminated string");
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        return absl::OkStatus();
      }
      if (static_cast<uint8_t>(c) < 0x20) return Error("control character in string");
      if (c != '\\') {
        if (absl::Status s = CopyUtf8Sequence(out); !s.ok()) return s;
        continue;
      }
      ++pos_;  // backslash
      if (AtEnd()) return Error("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (absl::Status s = ParseHex4(cp); !s.ok()) return s;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("unpaired low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!ConsumeLiteral("\\u")) return Error("unpaired high surrogate in \\u escape");
            uint32_t low = 0;
            if (absl::Status s = ParseHex4(low); !s.ok()) return s;
            if (low < 0xDC00 || low > 0xDFFF) return Error("invalid low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("invalid escape character in string");
      }
    }
  }

  absl::Status ParseNumber(JsonValue& out) {
    const size_t start = pos_;
    auto digits = [&] {
      size_t n = 0;
      while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
        ++pos_;
        ++n;
      }
      return n;
    };
    if (Peek() == '-') ++pos_;
    if (AtEnd()) return Error("truncated number");
    if (Peek() == '0') {
      ++pos_;  // a leading zero must stand alone
      if (!AtEnd() && Peek() >= '0' && Peek() <= '9') return Error("leading zero in number");
    } else if (digits() == 0) {
      return Error("expected digits in number");
    }
    if (!AtEnd() && Peek() == '.') {
      ++pos_;
      if (digits() == 0) return Error("expected digits after '.' in number");
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (digits() == 0) return Error("expected digits in exponent");
    }
    std::string lexeme(text_.substr(start, pos_ - start));
    // strtod is locale-dependent only for the decimal point; the "C" locale is the default in
    // tests. It also handles values out of range by returning +-HUGE_VAL.
    const double value = std::strtod(lexeme.c_str(), nullptr);
    out = JsonValue::Number(value, std::move(lexeme));
    return absl::OkStatus();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

void CheckType(const JsonValue& v, JsonValue::Type want) {
  if (v.type() != want) {
    Die(absl::StrFormat("expected a %s but the value is a %s", ToString(want), ToString(v.type())));
  }
}

}  // namespace

JsonValue JsonValue::Bool(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

JsonValue JsonValue::Number(double value, std::string lexeme) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.number_ = value;
  v.text_ = std::move(lexeme);
  return v;
}

JsonValue JsonValue::String(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.text_ = std::move(s);
  return v;
}

JsonValue JsonValue::MakeArray(Array items) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.array_ = std::move(items);
  return v;
}

JsonValue JsonValue::MakeObject(Object members) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.object_ = std::move(members);
  return v;
}

bool JsonValue::AsBool() const {
  CheckType(*this, Type::kBool);
  return bool_;
}

double JsonValue::AsDouble() const {
  CheckType(*this, Type::kNumber);
  return number_;
}

int64_t JsonValue::AsInt64() const {
  CheckType(*this, Type::kNumber);
  int64_t result = 0;
  const char* begin = text_.data();
  const char* end = text_.data() + text_.size();
  const auto [ptr, ec] = std::from_chars(begin, end, result);
  if (ec != std::errc() || ptr != end) {
    Die(absl::StrFormat("number %s is not an integer that fits in int64_t", text_));
  }
  return result;
}

const std::string& JsonValue::NumberLexeme() const {
  CheckType(*this, Type::kNumber);
  return text_;
}

const std::string& JsonValue::AsString() const {
  CheckType(*this, Type::kString);
  return text_;
}

const JsonValue::Array& JsonValue::AsArray() const {
  CheckType(*this, Type::kArray);
  return array_;
}

const JsonValue::Object& JsonValue::AsObject() const {
  CheckType(*this, Type::kObject);
  return object_;
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& member : object_) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

const JsonValue& JsonValue::at(std::string_view key) const {
  CheckType(*this, Type::kObject);
  const JsonValue* v = Find(key);
  if (v == nullptr) Die(absl::StrFormat("object has no member \"%s\"", std::string(key)));
  return *v;
}

const JsonValue& JsonValue::at(size_t index) const {
  CheckType(*this, Type::kArray);
  if (index >= array_.size()) {
    Die(absl::StrFormat("array index %d out of range (size %d)", index, array_.size()));
  }
  return array_[index];
}

size_t JsonValue::size() const {
  if (type_ == Type::kArray) return array_.size();
  if (type_ == Type::kObject) return object_.size();
  return 0;
}

std::string_view ToString(JsonValue::Type type) {
  switch (type) {
    case JsonValue::Type::kNull:
      return "null";
    case JsonValue::Type::kBool:
      return "bool";
    case JsonValue::Type::kNumber:
      return "number";
    case JsonValue::Type::kString:
      return "string";
    case JsonValue::Type::kArray:
      return "array";
    case JsonValue::Type::kObject:
      return "object";
  }
  return "unknown";
}

absl::StatusOr<JsonValue> ParseJson(std::string_view text) { return Parser(text).ParseDocument(); }

absl::StatusOr<JsonValue> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot open JSON file %s", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrFormat("error reading JSON file %s", path));
  absl::StatusOr<JsonValue> parsed = ParseJson(contents.str());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s", path, std::string(parsed.status().message())));
  }
  return parsed;
}

}  // namespace meshvpn::test
