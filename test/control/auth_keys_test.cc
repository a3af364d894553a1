// Pre-auth and API keys: shape, uniqueness, hash, parsing, and errors that never echo a key.
#include "meshvpn/control/auth_keys.h"

#include <catch2/catch.hpp>
#include <set>

namespace meshvpn::control {
namespace {

TEST_CASE("made keys have their shape and parse back to the same prefix and hash",
          "[control][keys]") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<NewKey> k = MakePreAuthKey();
    REQUIRE(k.ok());
    CHECK(k->key.size() == 5 + 12 + 1 + 40);
    CHECK(k->key.starts_with(k->prefix + "_"));
    CHECK(k->prefix.starts_with("mpak_"));
    CHECK(k->hash.size() == 64);
    CHECK(k->hash.find(k->key) == std::string::npos);
    CHECK(seen.insert(k->key).second);
    absl::StatusOr<PresentedKey> p = ParsePreAuthKey(k->key);
    REQUIRE(p.ok());
    CHECK(p->prefix == k->prefix);
    CHECK(KeyHashesEqual(p->hash, k->hash));
  }
  absl::StatusOr<NewKey> api = MakeApiKey();
  REQUIRE(api.ok());
  CHECK(api->key.starts_with("mapi_"));
  CHECK(ParseApiKey(api->key).ok());
  CHECK_FALSE(ParsePreAuthKey(api->key).ok());  // the kinds do not mix
}

TEST_CASE("bad keys are refused without repeating them", "[control][keys]") {
  absl::StatusOr<NewKey> k = MakePreAuthKey();
  REQUIRE(k.ok());
  std::string wrong = k->key;
  wrong.back() = 'X';
  for (const std::string& bad :
       {std::string(""), std::string("mpak_"), k->key + "0", wrong, k->key.substr(1)}) {
    absl::StatusOr<PresentedKey> p = ParsePreAuthKey(bad);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().message().find("mpak_") != absl::string_view::npos);
    if (bad.size() > 10)
      CHECK(p.status().message().find(bad.substr(5, 12)) == absl::string_view::npos);
  }
  CHECK_FALSE(KeyHashesEqual(std::string(64, 'a'), std::string(64, 'b')));
  CHECK_FALSE(KeyHashesEqual("abc", "abcd"));
}

}  // namespace
}  // namespace meshvpn::control
