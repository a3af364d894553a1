// ParseHuJson and ToJson: every extension HuJSON adds to JSON, every error (with its line and
// column), the positions values remember, the depth and size limits, \u escapes, the round trip
// through ToJson, and a Tailscale policy file as people write them.
#include "meshvpn/acl/hujson.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

namespace meshvpn::acl {
namespace {

using namespace std::string_literals;

JsonValue Parse(const std::string& text, const HuJsonLimits& limits = {}) {
  auto parsed = ParseHuJson(text, limits);
  INFO(text);
  INFO(std::string(parsed.status().message()));
  REQUIRE(parsed.ok());
  return *std::move(parsed);
}

// The error message, which must be InvalidArgument and start with "line L, column C: ".
std::string ErrorOf(const std::string& text, int line, int column,
                    const HuJsonLimits& limits = {}) {
  auto parsed = ParseHuJson(text, limits);
  INFO(text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  const std::string message(parsed.status().message());
  CHECK_THAT(message, Catch::StartsWith("line " + std::to_string(line) + ", column " +
                                        std::to_string(column) + ": "));
  return message;
}

// Same value, ignoring positions (numbers compare by text, as ToJson writes them).
bool Same(const JsonValue& a, const JsonValue& b) {
  if (a.kind() != b.kind() || a.bool_value() != b.bool_value() || a.text() != b.text()) {
    return false;
  }
  if (a.elements().size() != b.elements().size()) return false;
  for (size_t i = 0; i < a.elements().size(); ++i) {
    if (!Same(a.elements()[i], b.elements()[i])) return false;
  }
  if (a.members().size() != b.members().size()) return false;
  for (size_t i = 0; i < a.members().size(); ++i) {
    if (a.members()[i].first != b.members()[i].first) return false;
    if (!Same(a.members()[i].second, b.members()[i].second)) return false;
  }
  return true;
}

void CheckAt(const JsonValue& value, int line, int column) {
  CHECK(value.position().line == line);
  CHECK(value.position().column == column);
}

TEST_CASE("plain JSON values") {
  CHECK(Parse("null").is_null());
  CHECK(Parse("true").bool_value());
  CHECK_FALSE(Parse("false").bool_value());
  CHECK(Parse("false").is_bool());
  CHECK(Parse("\"hi\"").text() == "hi");
  CHECK(Parse("[]").elements().empty());
  CHECK(Parse("{}").members().empty());
  CHECK(Parse(" \t\r\n[ 1 , \"a\" ]\r\n").elements().size() == 2);
  const JsonValue object = Parse(R"({"a": 1, "b": [true, null], "c": {"d": "e"}})");
  REQUIRE(object.is_object());
  REQUIRE(object.members().size() == 3);
  CHECK(object.members()[0].first == "a");
  CHECK(object.members()[2].first == "c");
  REQUIRE(object.Find("c") != nullptr);
  CHECK(object.Find("c")->Find("d")->text() == "e");
  CHECK(object.Find("zz") == nullptr);
  CHECK(object.Find("b")->Find("a") == nullptr);  // not an object
}

TEST_CASE("numbers keep their text and their double") {
  struct Case {
    std::string text;
    double value;
  };
  for (const Case& c : std::vector<Case>{{"0", 0},
                                         {"22", 22},
                                         {"-1", -1},
                                         {"65535", 65535},
                                         {"1e3", 1000},
                                         {"1E+2", 100},
                                         {"1.5e3", 1500},
                                         {"0.5e-3", 0.0005},
                                         {"0.1", 0.1},
                                         {"-0.0", 0},
                                         {"1.7976931348623157e308", 1.7976931348623157e308},
                                         {"4.9e-324", 4.9e-324},
                                         {"123456789012345678901234567890", 1.2345678901234568e29},
                                         {"1" + std::string(400, '0') + "e-100", 1e300},
                                         {"0." + std::string(400, '0') + "1e400", 0.1}}) {
    INFO(c.text);
    const JsonValue v = Parse(c.text);
    REQUIRE(v.is_number());
    CHECK(v.text() == c.text);
    CHECK(v.number_value() == c.value);
  }
  CHECK(std::signbit(Parse("-0").number_value()));
  // Too small for a double reads as (signed) zero, and keeps its text.
  CHECK(Parse("1e-400").number_value() == 0);
  CHECK(Parse("1e-400").text() == "1e-400");
  CHECK(std::signbit(Parse("-1e-400").number_value()));
  CHECK(Parse("0." + std::string(400, '0') + "1").number_value() == 0);
  // Too big is an error.
  CHECK_THAT(ErrorOf("1e400", 1, 1), Catch::Contains("too big"));
  CHECK_THAT(ErrorOf("[-1.8e308]", 1, 2), Catch::Contains("too big"));
  ErrorOf("1" + std::string(400, '0'), 1, 1);
  ErrorOf("1e99999999999999999999", 1, 1);
}

TEST_CASE("comments anywhere whitespace may go") {
  const std::string text =
      "// head\n"
      "/* block\n"
      "   spanning lines */ { // after the brace\n"
      "  \"a\" /* before the colon */ : /* after it */ 1 /* before the comma */ , // after it\n"
      "  \"b\": [ /* empty */ ], // end\n"
      "} // tail\n"
      "/* tail block */";
  const JsonValue v = Parse(text);
  CHECK(ToJson(v) == R"({"a":1,"b":[]})");
  CheckAt(v, 3, 22);
  CheckAt(*v.Find("a"), 4, 47);
  CHECK(Parse("1 // no newline at the end").text() == "1");
  CHECK(Parse("/**/1/**/").text() == "1");
  CHECK(Parse("/***/1").text() == "1");
  CHECK(Parse("/* ** / * */ 1").text() == "1");
  CHECK(Parse("/* // */ 1").text() == "1");
  CHECK(Parse("// /* not a block\n1").text() == "1");
  CHECK(Parse("[1 //\n, 2]").elements().size() == 2);
  CHECK(Parse("\"a // not a comment /* */\"").text() == "a // not a comment /* */");
  // Comments may hold any UTF-8 and any ASCII byte.
  CHECK(Parse("// h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 \x01\x7F\n1").text() == "1");
  CHECK(Parse("/* \xF4\x8F\xBF\xBF \t\r */ 1").text() == "1");
}

TEST_CASE("a trailing comma after the last element") {
  CHECK(Parse("[1,2,]").elements().size() == 2);
  CHECK(Parse("[1,]").elements().size() == 1);
  CHECK(Parse(R"({"a":1,})").members().size() == 1);
  CHECK(Parse("[ 1 , 2 , /* c */ ]").elements().size() == 2);
  CHECK(Parse("[\n  1,\n  2, // last\n]").elements().size() == 2);
  CHECK(ToJson(Parse(R"({"a": [1,], "b": {"c": true,},})")) == R"({"a":[1],"b":{"c":true}})");
}

TEST_CASE("syntax errors name their line and column") {
  struct Case {
    std::string text;
    int line;
    int column;
    std::string what;
  };
  const std::vector<Case> cases = {
      {"", 1, 1, "end of the input"},
      {"   ", 1, 4, "end of the input"},
      {"// only a comment\n", 2, 1, "expected a value"},
      {"[,]", 1, 2, "expected a value but found ','"},
      {"{,}", 1, 2, "double-quoted key"},
      {"[1,,]", 1, 4, "expected a value but found ','"},
      {R"({"a":1,,})", 1, 8, "double-quoted key"},
      {"[1 2]", 1, 4, "expected ',' or ']' but found '2'"},
      {R"({"a":1 "b":2})", 1, 8, "expected ',' or '}'"},
      {R"({"a" 1})", 1, 6, "expected ':'"},
      {R"({"a":})", 1, 6, "expected a value"},
      {"[", 1, 2, "end of the input"},
      {"{", 1, 2, "double-quoted key"},
      {R"({"a":1)", 1, 7, "expected ',' or '}' but found the end of the input"},
      {"[1,\n 2,\n", 3, 1, "end of the input"},
      {"'a'", 1, 1, "single quote"},
      {"{'a':1}", 1, 2, "single quote"},
      {"{a:1}", 1, 2, "expected a double-quoted key or '}' but found 'a'"},
      {R"({"a":1, b:2})", 1, 9, "double-quoted key"},
      {"NaN", 1, 1, "unexpected word \"NaN\""},
      {"[Infinity]", 1, 2, "\"Infinity\""},
      {"-Infinity", 1, 2, "digit after '-'"},
      {"-", 1, 2, "digit after '-'"},
      {"True", 1, 1, "\"True\""},
      {"nul", 1, 1, "\"nul\""},
      {"truex", 1, 1, "\"truex\""},
      {"undefined", 1, 1, "\"undefined\""},
      {"01", 1, 1, "leading zero"},
      {"00", 1, 1, "leading zero"},
      {"[-012]", 1, 2, "leading zero"},
      {"+1", 1, 1, "'+'"},
      {"1.", 1, 3, "digit after '.'"},
      {"1.e5", 1, 3, "digit after '.'"},
      {".5", 1, 1, "expected a value but found '.'"},
      {"1e", 1, 3, "exponent"},
      {"1e+", 1, 4, "exponent"},
      {"0x10", 1, 2, "unexpected 'x' after the value"},
      {"\"a\tb\"", 1, 3, "control character 0x09"},
      {"[\n \"a\nb\"]", 2, 4, "control character 0x0A"},
      {"\"a\0b\""s, 1, 3, "control character 0x00"},
      {"\"\x1f\"", 1, 2, "control character 0x1F"},
      {"\"abc", 1, 1, "unterminated string"},
      {"[\n  \"abc\\", 2, 3, "unterminated string"},
      {"\"\\x\"", 1, 2, "invalid escape: backslash then 'x'"},
      {"\"\\'\"", 1, 2, "invalid escape"},
      {"\"\\U0041\"", 1, 2, "invalid escape"},
      {"\"\\u12\"", 1, 2, "four hex digits"},
      {"\"\\u12G4\"", 1, 2, "four hex digits"},
      {"\"\\u", 1, 2, "four hex digits"},
      {"\"\\uD800\"", 1, 2, "\\uD800 is a high surrogate without a low one"},
      {"\"ab\\uD83D\\u0041\"", 1, 4, "high surrogate"},
      {"\"\\uD83Dx\"", 1, 2, "high surrogate"},
      {"\"\\uD83D\\uD83D\"", 1, 2, "high surrogate"},
      {"\"\\uD83D\\n\"", 1, 2, "high surrogate"},
      {"\"\\udc00\"", 1, 2, "\\udc00 is a low surrogate"},
      {"\"\\uDE00\\uD83D\"", 1, 2, "low surrogate"},
      {"/* never closed", 1, 1, "unterminated /* comment"},
      {"[1,\n  /* x\n y", 2, 3, "unterminated /* comment"},
      {"/*/", 1, 1, "unterminated"},
      {"1 /* x *", 1, 3, "unterminated"},
      {"1 /", 1, 3, "unexpected '/'"},
      {"/ 1", 1, 1, "unexpected '/'"},
      {"[1 / 2]", 1, 4, "unexpected '/'"},
      {"1 2", 1, 3, "unexpected '2' after the value"},
      {"{} x", 1, 4, "after the value"},
      {"[]]", 1, 3, "unexpected ']' after the value"},
      {"\"a\" // c\n ,", 2, 2, "unexpected ',' after the value"},
      {"\xEF\xBB\xBF{}", 1, 1, "byte 0xEF"},  // a byte-order mark is not JSON
      {"[\x01]", 1, 2, "byte 0x01"},
      {"[1]\0"s, 1, 4, "byte 0x00"},
      {"[\"a\",\r\n  \"b\" \"c\"]", 2, 7, "expected ','"},  // \r\n is one line break
      {"[\t1 2]", 1, 5, "expected ','"},                    // a tab is one column
  };
  for (const Case& c : cases) {
    CHECK_THAT(ErrorOf(c.text, c.line, c.column), Catch::Contains(c.what));
  }
}

TEST_CASE("invalid UTF-8 is refused in strings and comments") {
  struct Case {
    std::string text;
    int column;
  };
  const std::vector<Case> in_strings = {
      {"\"\xC3\"", 2},                  // cut short by the quote
      {"\"\xE2", 2},                    // cut short by the end
      {"\"a\xE2\x82\"", 3},             // three-byte form cut short
      {"\"\xC0\xAF\"", 2},              // overlong '/'
      {"\"\xC1\xBF\"", 2},              // overlong U+007F
      {"\"\xE0\x80\xAF\"", 2},          // overlong, three bytes
      {"\"\xE0\x9F\xBF\"", 2},          // overlong U+07FF
      {"\"\xF0\x80\x80\xAF\"", 2},      // overlong, four bytes
      {"\"\xF0\x8F\xBF\xBF\"", 2},      // overlong U+FFFF
      {"\"\xED\xA0\x80\"", 2},          // U+D800 encoded
      {"\"\xED\xBF\xBF\"", 2},          // U+DFFF encoded
      {"\"\xF4\x90\x80\x80\"", 2},      // U+110000
      {"\"\xF5\x80\x80\x80\"", 2},      // lead byte past U+10FFFF
      {"\"\xF8\x88\x80\x80\x80\"", 2},  // five-byte form
      {"\"\xFF\"", 2},
      {"\"\xFE\"", 2},
      {"\"\x80\"", 2},          // stray continuation byte
      {"\"\xC3\xA9\xA9\"", 4},  // é then a stray continuation byte
      {"\"\xC3\x41\"", 2},      // lead byte then ASCII
  };
  for (const Case& c : in_strings) {
    CHECK_THAT(ErrorOf(c.text, 1, c.column), Catch::Contains("invalid UTF-8 in a string"));
  }
  CHECK_THAT(ErrorOf("// \xFF\n1", 1, 4), Catch::Contains("invalid UTF-8 in a comment"));
  CHECK_THAT(ErrorOf("1 // ok \xC3\xA9 then \xC3", 1, 17), Catch::Contains("comment"));
  CHECK_THAT(ErrorOf("1 /* \xC0\xAF */", 1, 6), Catch::Contains("invalid UTF-8 in a comment"));
  CHECK_THAT(ErrorOf("/*\n\n  \xED\xA0\x80 */ 1", 3, 3), Catch::Contains("comment"));
  CHECK_THAT(ErrorOf("/* \xF4\x90\x80\x80 */ 1", 1, 4), Catch::Contains("comment"));
  // Outside strings and comments, any byte past ASCII is simply unexpected.
  CHECK_THAT(ErrorOf("[\xC3\xA9]", 1, 2), Catch::Contains("byte 0xC3"));
  // The longest and shortest forms of each length are fine.
  CHECK(Parse("\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80"
              "\xF4\x8F\xBF\xBF\x7F\"")
            .text()
            .size() == 25);
}

TEST_CASE("unicode escapes decode to UTF-8") {
  CHECK(Parse(R"("\u0041\u00e9\u20AC")").text() == "A\xC3\xA9\xE2\x82\xAC");
  // Surrogate pairs, in either case of hex, become one four-byte character.
  CHECK(Parse(R"("\uD83D\uDE00")").text() == "\xF0\x9F\x98\x80");
  CHECK(Parse(R"("\ud83d\ude00!")").text() == "\xF0\x9F\x98\x80!");
  CHECK(Parse(R"("\uD800\uDC00")").text() == "\xF0\x90\x80\x80");  // U+10000
  CHECK(Parse(R"("\uDBFF\uDFFF")").text() == "\xF4\x8F\xBF\xBF");  // U+10FFFF
  // The edges of the surrogate range, and of each UTF-8 length.
  CHECK(Parse(R"("\uD7FF\uE000\uFFFF")").text() == "\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF");
  CHECK(Parse(R"("\u007F\u0080\u07FF\u0800")").text() == "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80");
  CHECK(Parse(R"("\u0000")").text() == "\0"s);
  CHECK(Parse(R"("a\u0000b")").text().size() == 3);
  CHECK(Parse(R"("\"\\\/\b\f\n\r\t")").text() == "\"\\/\b\f\n\r\t");
  // Raw UTF-8 is kept as it is, next to escapes.
  CHECK(Parse("\"\xC3\xA9\\u00e9\xF0\x9F\x98\x80\"").text() == "\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80");
  // In keys too.
  CHECK(Parse(R"({"\u00e9": 1})").Find("\xC3\xA9") != nullptr);
}

TEST_CASE("duplicate keys are refused with both places named") {
  CHECK_THAT(ErrorOf("{\"a\":1,\n  \"a\":2}", 2, 3),
             Catch::Contains("duplicate key \"a\" (first at line 1, column 2)"));
  // Keys compare decoded: "\u0061" is "a".
  CHECK_THAT(ErrorOf(R"({"a":1, "\u0061":2})", 1, 9), Catch::Contains("duplicate key \"a\""));
  CHECK_THAT(ErrorOf(R"([{"x":1}, {"y":1, "y":2}])", 1, 19),
             Catch::Contains("\"y\" (first at line 1, column 12)"));
  CHECK_THAT(ErrorOf(R"({"":1, "":2})", 1, 8), Catch::Contains("duplicate key \"\""));
  // The same key in different objects, or nested, is fine.
  const JsonValue v = Parse(R"({"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]})");
  CHECK(v.Find("a")->Find("a")->text() == "1");
  // A long key is quoted only in part, and a key with quotes or controls is escaped.
  const std::string long_key(1000, 'k');
  const std::string message = ErrorOf("{\"" + long_key + "\":1,\"" + long_key + "\":2}", 1, 1007);
  CHECK(message.size() < 150);
  CHECK_THAT(message, Catch::Contains("kkkk\"..."));
  CHECK_THAT(ErrorOf(R"({"a\"\n":1,"a\"\n":2})", 1, 12), Catch::Contains(R"("a\"\u000a")"));
}

TEST_CASE("error messages quote at most a short token") {
  const std::string word(10000, 'x');
  CHECK(ErrorOf(word, 1, 1).size() < 150);
  CHECK(ErrorOf("{" + word + ":1}", 1, 2).size() < 150);
  CHECK(ErrorOf("\"" + word, 1, 1).size() < 150);
  CHECK(ErrorOf("[1] " + word, 1, 5).size() < 150);
}

TEST_CASE("each value remembers where it starts") {
  const std::string text =
      "{\n"
      "  \"a\": 1,\n"
      "  \"list\": [true, null,\n"
      "           \"x\", {\"k\": -2.5}],\n"
      "  \"\xC3\xA9\": \"v\"\n"
      "}\n";
  const JsonValue v = Parse(text);
  CheckAt(v, 1, 1);
  CheckAt(*v.Find("a"), 2, 8);
  const JsonValue& list = *v.Find("list");
  CheckAt(list, 3, 11);
  REQUIRE(list.elements().size() == 4);
  CheckAt(list.elements()[0], 3, 12);
  CheckAt(list.elements()[1], 3, 18);
  CheckAt(list.elements()[2], 4, 12);
  CheckAt(list.elements()[3], 4, 17);
  CheckAt(*list.elements()[3].Find("k"), 4, 23);
  CheckAt(*v.Find("\xC3\xA9"), 5, 9);  // columns count bytes: é is two
  // \r\n line breaks, tabs, and a value after a comment that spans lines.
  const JsonValue crlf = Parse("[\r\n  1,\r\n\t2, /* a\nb */ 3]");
  CheckAt(crlf.elements()[0], 2, 3);
  CheckAt(crlf.elements()[1], 3, 2);
  CheckAt(crlf.elements()[2], 4, 6);
  CheckAt(Parse("  // c\n   \"s\"  "), 2, 4);
}

TEST_CASE("the nesting limit is an error, never a deep recursion") {
  CHECK(Parse(std::string(64, '[') + std::string(64, ']')).is_array());
  CHECK_THAT(ErrorOf(std::string(65, '[') + std::string(65, ']'), 1, 65),
             Catch::Contains("nested deeper than 64"));
  ErrorOf(std::string(1'000'000, '['), 1, 65);
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  ErrorOf(objects, 1, 64 * 5 + 1);

  HuJsonLimits two;
  two.max_depth = 2;
  CHECK(Parse("[[1], {\"a\": 2}]", two).is_array());
  ErrorOf("[[[1]]]", 1, 3, two);
  CHECK_THAT(ErrorOf(R"({"a":{"b":[]}})", 1, 11, two), Catch::Contains("deeper than 2"));
  HuJsonLimits zero;
  zero.max_depth = 0;
  CHECK(Parse("\"scalar\"", zero).is_string());
  ErrorOf("[]", 1, 1, zero);

  // A raised limit: the parser keeps its stack on the heap.
  HuJsonLimits deep;
  deep.max_depth = 10000;
  const JsonValue v = Parse(std::string(10000, '[') + std::string(10000, ']'), deep);
  CHECK(ToJson(v).size() == 20000);
}

TEST_CASE("the input size limit") {
  HuJsonLimits ten;
  ten.max_input_bytes = 10;
  CHECK(Parse("[1,2,3,45]", ten).elements().size() == 4);
  CHECK_THAT(ErrorOf("[1,2,3,456]", 1, 1, ten), Catch::Contains("11 bytes, over the limit of 10"));
  // The default: 1 MiB.
  std::string big = "1" + std::string((1u << 20) - 1, ' ');
  CHECK(Parse(big).text() == "1");
  big.push_back(' ');
  ErrorOf(big, 1, 1);
  // A large document under the limit.
  std::string many = "[";
  for (int i = 0; i < 80000; ++i) many += "\"element\",\n";
  many += "0]";
  const JsonValue v = Parse(many);
  REQUIRE(v.elements().size() == 80001);
  CheckAt(v.elements().back(), 80001, 1);
}

TEST_CASE("ToJson writes compact JSON") {
  CHECK(ToJson(Parse(" [ 1.5e3 , -0 , 1E+2 , 65535, true, false, null, \"s\", {}, [] ] ")) ==
        R"([1.5e3,-0,1E+2,65535,true,false,null,"s",{},[]])");
  CHECK(ToJson(JsonValue::String("a\"b\\c\n\x01\x1f\x7f/\xC3\xA9")) ==
        "\"a\\\"b\\\\c\\u000a\\u0001\\u001f\x7f/\xC3\xA9\"");
  CHECK(ToJson(JsonValue::String("\0"s)) == R"("\u0000")");
  CHECK(ToJson(JsonValue::Object({{"k\"", JsonValue::Null()}})) == R"({"k\"":null})");
  // Numbers built without their text.
  CHECK(ToJson(JsonValue::Number(0.1, "")) == "0.1");
  CHECK(ToJson(JsonValue::Number(-3, "")) == "-3");
  CHECK(ToJson(JsonValue::Number(HUGE_VAL, "")) == "null");
  CHECK(ToJson(JsonValue::Number(std::nan(""), "")) == "null");
  CHECK(ToJson(JsonValue()) == "null");
}

TEST_CASE("ToJson's output parses back to the same value") {
  const std::vector<std::string> documents = {
      "null",
      "[1, -0.5e-7, 0, 1E+400 ]",
      "{\"a\": [1, {\"b\": \"\\u0000\\u001f\\\"\\\\\\/\\b\\f\\n\\r\\t\"}], \"c\": {},}",
      "\"\\uD83D\\uDE00 \xE2\x82\xAC \x7F\"",
      "// comment\n{\"z\": 1, \"a\": 2, /* order kept */ \"m\": [[], [[]], {}]}",
      std::string(64, '[') + std::string(64, ']'),
  };
  for (const std::string& doc : documents) {
    INFO(doc);
    auto first = ParseHuJson(doc);
    if (!first.ok()) {
      CHECK_THAT(std::string(first.status().message()), Catch::Contains("too big"));
      continue;
    }
    const std::string json = ToJson(*first);
    const JsonValue again = Parse(json);
    CHECK(Same(*first, again));
    CHECK(ToJson(again) == json);
  }
}

// A policy file as Tailscale's admin console shows it: comments, trailing commas, aligned values.
constexpr char kPolicy[] = R"(// Policy for the example.com tailnet.
{
  // Static groups of users.
  "groups": {
    "group:eng": ["alice@example.com", "bob@example.com",],
    "group:ops": ["carol@example.com"],
  },
  /* Who may apply which tags. */
  "tagOwners": {
    "tag:server": ["group:ops"],
    "tag:prod":   ["group:ops", "autogroup:admin"],
  },
  "hosts": {
    "db-primary": "100.64.0.10",
    "office-net": "192.168.1.0/24",
  },
  "acls": [
    // Engineers reach the servers on SSH and HTTPS.
    {"action": "accept", "src": ["group:eng"], "dst": ["tag:server:22,443"]},
    {
      "action": "accept",
      "src":    ["group:ops"],
      "proto":  "tcp",
      "dst":    ["db-primary:5432", "office-net:*"],
    },
  ],
  "ssh": [
    {
      "action":      "check",
      "src":         ["autogroup:member"],
      "dst":         ["autogroup:self"],
      "users":       ["autogroup:nonroot", "root"],
      "checkPeriod": "12h",
    },
  ],
  "tests": [
    {"src": "alice@example.com", "accept": ["tag:server:22"], "deny": ["db-primary:5432"]},
  ],
  "randomizeClientPort": false,
  "derpMap": {"OmitDefaultRegions": false, "Regions": {"900": {"RegionID": 900}}},
}
)";

TEST_CASE("a Tailscale policy file") {
  const JsonValue policy = Parse(kPolicy);
  REQUIRE(policy.is_object());
  CheckAt(policy, 2, 1);
  CHECK(policy.members().size() == 8);
  CHECK(policy.members()[0].first == "groups");
  CHECK(policy.members()[7].first == "derpMap");

  const JsonValue& eng = *policy.Find("groups")->Find("group:eng");
  REQUIRE(eng.elements().size() == 2);
  CHECK(eng.elements()[1].text() == "bob@example.com");
  CheckAt(eng, 5, 18);
  CheckAt(eng.elements()[1], 5, 40);

  const JsonValue& acls = *policy.Find("acls");
  REQUIRE(acls.elements().size() == 2);
  CheckAt(acls.elements()[0], 19, 5);
  const JsonValue& second = acls.elements()[1];
  CheckAt(second, 20, 5);
  CHECK(second.Find("proto")->text() == "tcp");
  CheckAt(*second.Find("proto"), 23, 17);
  CheckAt(second.Find("dst")->elements()[1], 24, 37);
  CHECK(second.Find("dst")->elements()[1].text() == "office-net:*");

  const JsonValue& ssh = policy.Find("ssh")->elements()[0];
  CHECK(ssh.Find("checkPeriod")->text() == "12h");
  CheckAt(*ssh.Find("checkPeriod"), 33, 22);
  CHECK_FALSE(policy.Find("randomizeClientPort")->bool_value());
  const JsonValue& region = *policy.Find("derpMap")->Find("Regions")->Find("900");
  CHECK(region.Find("RegionID")->number_value() == 900);

  // As plain JSON for tools without comments: the same tree.
  const std::string json = ToJson(policy);
  CHECK(json.find("//") == std::string::npos);
  CHECK(json.find('\n') == std::string::npos);
  CHECK(Same(Parse(json), policy));

  // A typo in the policy is reported where it is.
  std::string broken(kPolicy);
  broken.replace(broken.find("\"proto\":  \"tcp\""), 15, "proto:  \"tcp\"");
  CHECK_THAT(ErrorOf(broken, 23, 7), Catch::Contains("double-quoted key"));
  std::string duplicated(kPolicy);
  duplicated.replace(duplicated.find("\"derpMap\""), 9, "\"hosts\"  ");
  CHECK_THAT(ErrorOf(duplicated, 40, 3),
             Catch::Contains("duplicate key \"hosts\" (first at line 13, column 3)"));
}

TEST_CASE("builders and kind names") {
  CHECK(JsonValue::KindName(JsonValue::Kind::kNull) == "null");
  CHECK(JsonValue::KindName(JsonValue::Kind::kBool) == "boolean");
  CHECK(JsonValue::KindName(JsonValue::Kind::kNumber) == "number");
  CHECK(JsonValue::KindName(JsonValue::Kind::kString) == "string");
  CHECK(JsonValue::KindName(JsonValue::Kind::kArray) == "array");
  CHECK(JsonValue::KindName(JsonValue::Kind::kObject) == "object");
  const JsonValue n = JsonValue::Number(2, "2", {3, 4});
  CHECK(n.is_number());
  CheckAt(n, 3, 4);
  const JsonValue o = JsonValue::Object(
      {{"x", JsonValue::Bool(true)}, {"y", JsonValue::Array({JsonValue::String("s")})}});
  CHECK(o.Find("x")->bool_value());
  CHECK(ToJson(o) == R"({"x":true,"y":["s"]})");
  CHECK(JsonValue().is_null());
  CheckAt(JsonValue::Null(), 0, 0);
}

}  // namespace
}  // namespace meshvpn::acl
