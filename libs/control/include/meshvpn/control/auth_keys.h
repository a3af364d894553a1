// Pre-auth keys and API keys: how they are made (random, with a short public prefix to show in
// lists), what is stored (only a SHA-256 of the whole key) and how a presented key is checked.
// The keys themselves are printed once, at creation, and never logged.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace meshvpn::control {

// A freshly made key: `key` goes to the person once; `prefix` and `hash` are what is stored.
struct NewKey {
  std::string key;     // the secret, e.g. "mpak_3f9c1d0a7b2e_4d5e...": wipe after handing out
  std::string prefix;  // "mpak_3f9c1d0a7b2e": public, identifies the key in lists and lookups
  std::string hash;    // hex SHA-256 of `key`
  ~NewKey();
  NewKey() = default;
  NewKey(NewKey&&) = default;
  NewKey& operator=(NewKey&&) = default;
};

// Pre-auth keys "mpak_<12 hex>_<40 hex>"; API keys "mapi_<12 hex>_<40 hex>" (160 random bits
// of secret after a 48-bit prefix).
absl::StatusOr<NewKey> MakePreAuthKey();
absl::StatusOr<NewKey> MakeApiKey();

// The parts of a presented key, if it has the right shape ("mpak" or "mapi"); the error never
// repeats the key.
struct PresentedKey {
  std::string prefix;
  std::string hash;
};
absl::StatusOr<PresentedKey> ParsePreAuthKey(std::string_view key);
absl::StatusOr<PresentedKey> ParseApiKey(std::string_view key);

// Constant-time comparison of two stored hashes.
bool KeyHashesEqual(std::string_view a, std::string_view b);

}  // namespace meshvpn::control
