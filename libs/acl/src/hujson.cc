// ParseHuJson: a strict JSON parser that also takes comments and trailing commas. It runs over an
// explicit stack of open arrays and objects (no recursion), so nesting is bounded by
// HuJsonLimits::max_depth and never by the thread's stack.
#include "meshvpn/acl/hujson.h"

#include <charconv>
#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "meshvpn/base/status.h"

namespace meshvpn::acl {
namespace {

// How much of a key or a word an error message quotes.
constexpr size_t kMaxQuoted = 32;

bool IsDigit(int c) { return c >= '0' && c <= '9'; }

// The length of the well-formed UTF-8 sequence at s[at], or 0 if there is none there: stray
// continuation bytes, overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points past
// U+10FFFF and sequences cut short by the end are all refused (Unicode's table 3-7).
size_t Utf8Length(std::string_view s, size_t at) {
  const auto byte = [&](size_t i) -> unsigned {
    return at + i < s.size() ? static_cast<unsigned char>(s[at + i]) : 0;
  };
  const auto in = [&](size_t i, unsigned lo, unsigned hi) {
    return byte(i) >= lo && byte(i) <= hi;
  };
  const unsigned c = byte(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;  // E0 80..9F would be overlong
    const unsigned hi = c == 0xED ? 0x9F : 0xBF;  // ED A0..BF would be a surrogate
    return in(1, lo, hi) && in(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80;  // F0 80..8F would be overlong
    const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;  // F4 90.. would be past U+10FFFF
    return in(1, lo, hi) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// At most kMaxQuoted bytes of `s` (cut at a character boundary), as a JSON string, so that an
// error message quotes a short, printable token and never a stretch of the input.
std::string Quote(std::string_view s) {
  if (s.size() <= kMaxQuoted) return ToJson(JsonValue::String(std::string(s)));
  size_t n = kMaxQuoted;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return ToJson(JsonValue::String(std::string(s.substr(0, n)))) + "...";
}

// True if the number (grammar already checked) that std::from_chars found out of range is too
// big for a double rather than too small: its first significant digit's power of ten is > 0.
bool TooBig(std::string_view num) {
  size_t i = num[0] == '-' ? 1 : 0;
  long long power = -1;  // of the first significant digit, before the exponent
  bool seen = false;     // a nonzero digit
  for (; i < num.size() && IsDigit(num[i]); ++i) {
    if (num[i] != '0') seen = true;
    if (seen) ++power;
  }
  if (i < num.size() && num[i] == '.') {
    for (++i; i < num.size() && IsDigit(num[i]); ++i) {
      if (seen) continue;
      if (num[i] == '0') {
        --power;
      } else {
        seen = true;
      }
    }
  }
  long long exponent = 0;
  if (i < num.size() && (num[i] == 'e' || num[i] == 'E')) {
    ++i;
    const bool negative = num[i] == '-';
    if (num[i] == '-' || num[i] == '+') ++i;
    for (; i < num.size(); ++i) {
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (num[i] - '0');
    }
    if (negative) exponent = -exponent;
  }
  return power + exponent > 0;
}

class Parser {
 public:
  Parser(std::string_view text, const HuJsonLimits& limits) : text_(text), limits_(limits) {}

  absl::StatusOr<JsonValue> Parse();

 private:
  // An array or object whose closing bracket has not been read yet.
  struct Open {
    bool is_object = false;
    SourcePosition at;
    std::vector<JsonValue> elements;
    std::vector<JsonValue::Member> members;
    absl::flat_hash_map<std::string, SourcePosition> keys;  // where each key was first written
    std::string key;  // the key of the member whose value comes next
  };

  // The position of text_[offset], which must be on the current line.
  SourcePosition At(size_t offset) const {
    const size_t column = offset - line_start_ + 1;
    return {line_, column > INT_MAX ? INT_MAX : static_cast<int>(column)};
  }
  SourcePosition Here() const { return At(pos_); }
  int Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? static_cast<unsigned char>(text_[pos_ + ahead]) : -1;
  }
  // What is at text_[pos_], for a message: 'x', a byte in hex, or the end of the input.
  std::string Found() const {
    const int c = Peek();
    if (c < 0) return "the end of the input";
    if (c == '\'') return "a single quote (strings take double quotes)";
    if (c > 0x20 && c < 0x7F) return absl::StrCat("'", std::string(1, static_cast<char>(c)), "'");
    return absl::StrFormat("byte 0x%02X", c);
  }

  static absl::Status ErrorAt(SourcePosition at, const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", at.line, ", column ", at.column, ": ", what));
  }
  absl::Status Error(const std::string& what) const { return ErrorAt(Here(), what); }

  absl::Status SkipSpace();
  absl::Status SkipComment();
  absl::Status ParseScalar(JsonValue* out);
  absl::Status ParseWord(JsonValue* out);
  absl::Status ParseNumber(JsonValue* out);
  absl::Status ParseString(std::string* out);
  absl::Status ParseEscape(SourcePosition string_at, std::string* out);
  absl::Status ParseKey(Open* open);
  // The four hex digits at text_[at], or -1.
  int Hex4(size_t at) const;

  const std::string_view text_;
  const HuJsonLimits limits_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;  // offset of the current line's first byte
};

absl::StatusOr<JsonValue> Parser::Parse() {
  if (text_.size() > limits_.max_input_bytes) {
    return ErrorAt({1, 1}, absl::StrCat("the input is ", text_.size(), " bytes, over the limit of ",
                                        limits_.max_input_bytes));
  }
  std::vector<Open> stack;
  MESHVPN_RETURN_IF_ERROR(SkipSpace());
  for (;;) {
    // A value starts at pos_ (spaces and comments skipped).
    JsonValue value;
    const int c = Peek();
    if (c == '[' || c == '{') {
      if (stack.size() >= limits_.max_depth) {
        return Error(absl::StrCat("arrays and objects nested deeper than ", limits_.max_depth));
      }
      Open& open = stack.emplace_back();
      open.is_object = c == '{';
      open.at = Here();
      ++pos_;
      MESHVPN_RETURN_IF_ERROR(SkipSpace());
      if (Peek() != (open.is_object ? '}' : ']')) {
        if (open.is_object) MESHVPN_RETURN_IF_ERROR(ParseKey(&open));
        continue;  // to the first element's value
      }
      ++pos_;
      value = open.is_object ? JsonValue::Object({}, open.at) : JsonValue::Array({}, open.at);
      stack.pop_back();
    } else {
      MESHVPN_RETURN_IF_ERROR(ParseScalar(&value));
    }
    // `value` is complete: add it to the innermost open container, then close containers for as
    // long as their closing brackets follow.
    for (;;) {
      MESHVPN_RETURN_IF_ERROR(SkipSpace());
      if (stack.empty()) {
        if (pos_ < text_.size())
          return Error(absl::StrCat("unexpected ", Found(), " after the value"));
        return value;
      }
      Open& open = stack.back();
      if (open.is_object) {
        open.members.emplace_back(std::move(open.key), std::move(value));
      } else {
        open.elements.push_back(std::move(value));
      }
      const char close = open.is_object ? '}' : ']';
      if (Peek() == ',') {
        ++pos_;
        MESHVPN_RETURN_IF_ERROR(SkipSpace());
        if (Peek() != close) {  // not a trailing comma: another element follows
          if (open.is_object) MESHVPN_RETURN_IF_ERROR(ParseKey(&open));
          break;
        }
      } else if (Peek() != close) {
        return Error(
            absl::StrCat("expected ',' or '", std::string(1, close), "' but found ", Found()));
      }
      ++pos_;
      value = open.is_object ? JsonValue::Object(std::move(open.members), open.at)
                             : JsonValue::Array(std::move(open.elements), open.at);
      stack.pop_back();
    }
  }
}

absl::Status Parser::SkipSpace() {
  for (;;) {
    const int c = Peek();
    if (c == '\n') {
      ++pos_;
      ++line_;
      line_start_ = pos_;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++pos_;
    } else if (c == '/') {
      MESHVPN_RETURN_IF_ERROR(SkipComment());
    } else {
      return absl::OkStatus();
    }
  }
}

// A comment at pos_ (a '/'). Its text may be any valid UTF-8; a line comment ends before the
// newline (which SkipSpace counts), a block comment at the first "*/".
absl::Status Parser::SkipComment() {
  const SourcePosition at = Here();
  const int kind = Peek(1);
  if (kind != '/' && kind != '*') {
    return Error("unexpected '/' (a comment starts with // or /*)");
  }
  pos_ += 2;
  for (;;) {
    const int c = Peek();
    if (c < 0) {
      if (kind == '/') return absl::OkStatus();
      return ErrorAt(at, "unterminated /* comment");
    }
    if (kind == '/' && c == '\n') return absl::OkStatus();
    if (kind == '*' && c == '*' && Peek(1) == '/') {
      pos_ += 2;
      return absl::OkStatus();
    }
    if (c == '\n') {
      ++pos_;
      ++line_;
      line_start_ = pos_;
    } else if (c < 0x80) {
      ++pos_;
    } else {
      const size_t n = Utf8Length(text_, pos_);
      if (n == 0) return Error("invalid UTF-8 in a comment");
      pos_ += n;
    }
  }
}

absl::Status Parser::ParseScalar(JsonValue* out) {
  const int c = Peek();
  if (c == '"') {
    const SourcePosition at = Here();
    std::string s;
    MESHVPN_RETURN_IF_ERROR(ParseString(&s));
    *out = JsonValue::String(std::move(s), at);
    return absl::OkStatus();
  }
  if (c == '-' || IsDigit(c)) return ParseNumber(out);
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return ParseWord(out);
  if (c == '+') return Error("a number may not start with '+'");
  return Error(absl::StrCat("expected a value but found ", Found()));
}

// true, false or null; any other word (NaN, Infinity, True, an unquoted string) is an error.
absl::Status Parser::ParseWord(JsonValue* out) {
  const SourcePosition at = Here();
  size_t end = pos_;
  while (end < text_.size()) {
    const char c = text_[end];
    if (!IsDigit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '_') break;
    ++end;
  }
  const std::string_view word = text_.substr(pos_, end - pos_);
  if (word == "true" || word == "false") {
    *out = JsonValue::Bool(word == "true", at);
  } else if (word == "null") {
    *out = JsonValue::Null(at);
  } else {
    return Error(absl::StrCat("unexpected word ", Quote(word),
                              " (values are strings, numbers, objects, arrays, true, false, "
                              "null)"));
  }
  pos_ = end;
  return absl::OkStatus();
}

// RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, checked by hand, then read
// by std::from_chars (locale-independent). A number too big for a double is an error; one too
// small reads as zero.
absl::Status Parser::ParseNumber(JsonValue* out) {
  const SourcePosition at = Here();
  size_t i = pos_;
  const auto digit_at = [&](size_t k) { return k < text_.size() && IsDigit(text_[k]); };
  if (text_[i] == '-') ++i;
  if (!digit_at(i)) return ErrorAt(At(i), "expected a digit after '-'");
  if (text_[i] == '0' && digit_at(i + 1)) {
    return ErrorAt(at, "a number may not have a leading zero");
  }
  while (digit_at(i)) ++i;
  if (i < text_.size() && text_[i] == '.') {
    ++i;
    if (!digit_at(i)) return ErrorAt(At(i), "expected a digit after '.'");
    while (digit_at(i)) ++i;
  }
  if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
    ++i;
    if (i < text_.size() && (text_[i] == '+' || text_[i] == '-')) ++i;
    if (!digit_at(i)) return ErrorAt(At(i), "expected a digit in the exponent");
    while (digit_at(i)) ++i;
  }
  const std::string_view num = text_.substr(pos_, i - pos_);
  double value = 0;
  const auto result = std::from_chars(num.data(), num.data() + num.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    if (TooBig(num)) return ErrorAt(at, "the number is too big for a double");
    value = num[0] == '-' ? -0.0 : 0.0;
  } else if (result.ec != std::errc() || result.ptr != num.data() + num.size()) {
    return ErrorAt(at, "unreadable number");  // not expected once the grammar is checked
  }
  pos_ = i;
  *out = JsonValue::Number(value, std::string(num), at);
  return absl::OkStatus();
}

// A string at pos_ (its opening quote), decoded into `out`.
absl::Status Parser::ParseString(std::string* out) {
  const SourcePosition at = Here();
  ++pos_;
  for (;;) {
    // Copy the run of plain ASCII at once.
    size_t end = pos_;
    while (end < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[end]);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++end;
    }
    out->append(text_.substr(pos_, end - pos_));
    pos_ = end;
    const int c = Peek();
    if (c < 0) return ErrorAt(at, "unterminated string");
    if (c == '"') {
      ++pos_;
      return absl::OkStatus();
    }
    if (c == '\\') {
      MESHVPN_RETURN_IF_ERROR(ParseEscape(at, out));
    } else if (c < 0x20) {
      return Error(absl::StrFormat("control character 0x%02X in a string (escape it)", c));
    } else {
      const size_t n = Utf8Length(text_, pos_);
      if (n == 0) return Error("invalid UTF-8 in a string");
      out->append(text_.substr(pos_, n));
      pos_ += n;
    }
  }
}

int Parser::Hex4(size_t at) const {
  if (at + 4 > text_.size()) return -1;
  int value = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const char c = text_[i];
    int d;
    if (IsDigit(c)) {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return -1;
    }
    value = value * 16 + d;
  }
  return value;
}

// The escape at pos_ (a backslash) inside the string that starts at `string_at`.
absl::Status Parser::ParseEscape(SourcePosition string_at, std::string* out) {
  const SourcePosition at = Here();
  const int c = Peek(1);
  if (c < 0) return ErrorAt(string_at, "unterminated string");
  char simple = 0;
  switch (c) {
    case '"':
    case '\\':
    case '/':
      simple = static_cast<char>(c);
      break;
    case 'b':
      simple = '\b';
      break;
    case 'f':
      simple = '\f';
      break;
    case 'n':
      simple = '\n';
      break;
    case 'r':
      simple = '\r';
      break;
    case 't':
      simple = '\t';
      break;
    case 'u':
      break;
    default:
      ++pos_;  // so that Found() describes the character after the backslash
      return ErrorAt(at, absl::StrCat("invalid escape: backslash then ", Found()));
  }
  if (c != 'u') {
    out->push_back(simple);
    pos_ += 2;
    return absl::OkStatus();
  }
  const int unit = Hex4(pos_ + 2);
  if (unit < 0) return ErrorAt(at, "\\u needs four hex digits");
  const std::string escape(text_.substr(pos_, 6));
  if (unit >= 0xDC00 && unit <= 0xDFFF) {
    return ErrorAt(at, absl::StrCat(escape, " is a low surrogate without a high one before it"));
  }
  if (unit < 0xD800 || unit > 0xDBFF) {
    AppendUtf8(static_cast<uint32_t>(unit), out);
    pos_ += 6;
    return absl::OkStatus();
  }
  const int low = Peek(6) == '\\' && Peek(7) == 'u' ? Hex4(pos_ + 8) : -1;
  if (low < 0xDC00 || low > 0xDFFF) {
    return ErrorAt(at, absl::StrCat(escape, " is a high surrogate without a low one after it"));
  }
  AppendUtf8(0x10000 + ((static_cast<uint32_t>(unit) - 0xD800) << 10) +
                 (static_cast<uint32_t>(low) - 0xDC00),
             out);
  pos_ += 12;
  return absl::OkStatus();
}

// An object member's key at pos_, the ':' after it, and the spaces before its value.
absl::Status Parser::ParseKey(Open* open) {
  const SourcePosition at = Here();
  if (Peek() != '"') {
    return Error(absl::StrCat("expected a double-quoted key or '}' but found ", Found()));
  }
  std::string key;
  MESHVPN_RETURN_IF_ERROR(ParseString(&key));
  const auto [first, inserted] = open->keys.try_emplace(key, at);
  if (!inserted) {
    return ErrorAt(at, absl::StrCat("duplicate key ", Quote(key), " (first at line ",
                                    first->second.line, ", column ", first->second.column, ")"));
  }
  MESHVPN_RETURN_IF_ERROR(SkipSpace());
  if (Peek() != ':') return Error(absl::StrCat("expected ':' after the key but found ", Found()));
  ++pos_;
  open->key = std::move(key);
  return SkipSpace();
}

}  // namespace

absl::StatusOr<JsonValue> ParseHuJson(std::string_view text, const HuJsonLimits& limits) {
  return Parser(text, limits).Parse();
}

}  // namespace meshvpn::acl
