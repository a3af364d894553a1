// Tests for the test-only JSON reader in test/common (used for the Wycheproof vectors).
#include "common/json.h"

#include <catch2/catch.hpp>
#include <string>

namespace meshvpn::test {
namespace {

JsonValue MustParse(std::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  INFO(std::string(text));
  REQUIRE(v.ok());
  return *std::move(v);
}

TEST_CASE("json parses scalars") {
  CHECK(MustParse("null").is_null());
  CHECK(MustParse("true").AsBool());
  CHECK_FALSE(MustParse(" false ").AsBool());
  CHECK(MustParse("0").AsInt64() == 0);
  CHECK(MustParse("-17").AsInt64() == -17);
  CHECK(MustParse("9007199254740993").AsInt64() == 9007199254740993);  // exact beyond 2^53
  CHECK(MustParse("1.5e2").AsDouble() == 150.0);
  CHECK(MustParse("-0.25").AsDouble() == -0.25);
  CHECK(MustParse("1E-2").NumberLexeme() == "1E-2");
  CHECK(MustParse("\"hi\"").AsString() == "hi");
}

TEST_CASE("json decodes string escapes to UTF-8") {
  CHECK(MustParse(R"("a\"b\\c\/d\b\f\n\r\t")").AsString() == "a\"b\\c/d\b\f\n\r\t");
  CHECK(MustParse(R"("\u0041\u00e9\u20ac")").AsString() == "A\xC3\xA9\xE2\x82\xAC");
  CHECK(MustParse(R"("\ud83d\ude00")").AsString() == "\xF0\x9F\x98\x80");  // surrogate pair
  CHECK(MustParse("\"\xC3\xA9\"").AsString() == "\xC3\xA9");               // raw UTF-8
}

TEST_CASE("json parses nested objects and arrays in order") {
  const JsonValue v = MustParse(R"({"b": [1, {"c": null}, []], "a": {}, "s": "x"})");
  REQUIRE(v.is_object());
  REQUIRE(v.size() == 3);
  CHECK(v.AsObject()[0].first == "b");  // file order kept
  CHECK(v.AsObject()[1].first == "a");
  const JsonValue& b = v.at("b");
  REQUIRE(b.size() == 3);
  CHECK(b.at(0).AsInt64() == 1);
  CHECK(b.at(1).at("c").is_null());
  CHECK(b.at(2).is_array());
  CHECK(b.at(2).size() == 0);
  CHECK(v.at("a").is_object());
  CHECK(v.Find("missing") == nullptr);
  CHECK(v.at("s").Find("x") == nullptr);  // Find on a non-object
}

TEST_CASE("json rejects malformed input with a position") {
  const char* bad[] = {
      "",
      "   ",
      "{",
      "[1,]",
      "{\"a\":1,}",
      "{\"a\" 1}",
      "{a:1}",
      "[1 2]",
      "01",
      "1.",
      "-",
      "1e",
      "+1",
      ".5",
      "tru",
      "nul",
      "\"abc",
      "\"\\x\"",
      "\"\\u12\"",
      "\"\\ud800\"",
      "\"\\udc00\"",
      "\"\x01\"",
      "\"\xC3\"",
      "\"\xC0\x80\"",
      "\"\xFF\"",
      "1 2",
      "[] x",
      "{\"a\":1,\"a\":2}",
  };
  for (const char* text : bad) {
    INFO(text);
    absl::StatusOr<JsonValue> v = ParseJson(text);
    REQUIRE_FALSE(v.ok());
    CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(v.status().message().find("line 1 column") != absl::string_view::npos);
  }
}

TEST_CASE("json error positions count lines") {
  absl::StatusOr<JsonValue> v = ParseJson("{\n  \"a\": 1,\n  \"b\": ?\n}");
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().message() ==
        "JSON parse error at line 3 column 8: unexpected character, expected a value");
}

TEST_CASE("json limits nesting depth") {
  CHECK(ParseJson(std::string(200, '[') + std::string(200, ']')).ok());
  absl::StatusOr<JsonValue> deep = ParseJson(std::string(100000, '['));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().message().find("nesting too deep") != absl::string_view::npos);
}

TEST_CASE("json reads a file and reports a missing one") {
  absl::StatusOr<JsonValue> v = ReadJsonFile(MESHVPN_X25519_TESTDATA "/x25519_test.json");
  REQUIRE(v.ok());
  CHECK(v->at("algorithm").AsString() == "XDH");
  absl::StatusOr<JsonValue> missing = ReadJsonFile("/nonexistent/file.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meshvpn::test
