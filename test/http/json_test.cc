// Tests of JsonResponse, JsonError and ParseJsonBody.
#include "meshvpn/http/json.h"

#include <catch2/catch.hpp>

namespace meshvpn::http {
namespace {

TEST_CASE("JsonResponse is compact application/json") {
  const Response r = JsonResponse(kStatusOk, {{"b", 1}, {"a", {true, nullptr, "x"}}});
  CHECK(r.status == kStatusOk);
  CHECK(r.headers.Get("Content-Type") == kJsonContentType);
  CHECK(r.body == R"({"a":[true,null,"x"],"b":1})");
}

TEST_CASE("JsonResponse replaces invalid UTF-8 instead of throwing") {
  const nlohmann::json value = {{"name", std::string("ok\xff\xfe")}};
  Response r;
  REQUIRE_NOTHROW(r = JsonResponse(kStatusOk, value));
  CHECK(r.body == "{\"name\":\"ok\xEF\xBF\xBD\xEF\xBF\xBD\"}");
  CHECK(nlohmann::json::accept(r.body));
}

TEST_CASE("JsonError has the message and the status") {
  const Response r = JsonError(kStatusNotFound, "no such node \"n1\"");
  CHECK(r.status == kStatusNotFound);
  CHECK(r.headers.Get("Content-Type") == kJsonContentType);
  CHECK(r.body == R"({"error":"no such node \"n1\"","status":404})");
}

TEST_CASE("ParseJsonBody parses a JSON body") {
  Request request;
  request.body = R"({"key": "nodekey:ab", "n": [1, 2]})";
  const auto parsed = ParseJsonBody(request);
  REQUIRE(parsed.ok());
  CHECK((*parsed)["key"] == "nodekey:ab");
  CHECK((*parsed)["n"].size() == 2);
}

TEST_CASE("ParseJsonBody reports the offset, never the body") {
  Request request;
  request.body = R"({"secret": "hunter2", oops})";
  const auto parsed = ParseJsonBody(request);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  const std::string message(parsed.status().message());
  INFO(message);
  CHECK(message.find("offset 22") != std::string::npos);
  CHECK(message.find("hunter2") == std::string::npos);
  CHECK(message.find("oops") == std::string::npos);
}

TEST_CASE("ParseJsonBody puts a truncated body's error at its end") {
  Request request;
  request.body = R"({"a":)";
  const auto parsed = ParseJsonBody(request);
  REQUIRE_FALSE(parsed.ok());
  CHECK(std::string(parsed.status().message()).find("offset 5") != std::string::npos);
}

TEST_CASE("ParseJsonBody rejects empty, truncated and trailing-garbage bodies") {
  for (const char* body : {"", "   ", "{\"a\":", "[1,2", "{} x", "nul"}) {
    INFO(body);
    Request request;
    request.body = body;
    const auto parsed = ParseJsonBody(request);
    CHECK_FALSE(parsed.ok());
    if (!parsed.ok()) CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace meshvpn::http
