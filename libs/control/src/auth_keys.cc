// Making, hashing and checking pre-auth keys and API keys.
#include "meshvpn/control/auth_keys.h"

#include <openssl/evp.h>

#include <array>

#include "absl/strings/str_cat.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::control {
namespace {

constexpr size_t kPrefixBytes = 6;   // 12 hex
constexpr size_t kSecretBytes = 20;  // 40 hex

std::string Sha256Hex(std::string_view text) {
  std::array<uint8_t, 32> digest{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha256(), nullptr);
  return HexEncode(ByteSpan(digest.data(), len));
}

absl::StatusOr<NewKey> Make(std::string_view kind) {
  std::array<uint8_t, kPrefixBytes> prefix{};
  std::array<uint8_t, kSecretBytes> secret{};
  if (absl::Status s = FillRandom(MutableByteSpan(prefix)); !s.ok()) return s;
  if (absl::Status s = FillRandom(MutableByteSpan(secret)); !s.ok()) return s;
  NewKey k;
  k.prefix =
      absl::StrCat(absl::string_view(kind.data(), kind.size()), "_", HexEncode(ByteSpan(prefix)));
  std::string secret_hex = HexEncode(ByteSpan(secret));
  k.key = absl::StrCat(k.prefix, "_", secret_hex);
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(secret_hex.data()), secret_hex.size()));
  SecureWipe(MutableByteSpan(secret));
  k.hash = Sha256Hex(k.key);
  return k;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<PresentedKey> Parse(std::string_view kind, std::string_view what,
                                   std::string_view key) {
  const size_t prefix_len = kind.size() + 1 + 2 * kPrefixBytes;
  const size_t total = prefix_len + 1 + 2 * kSecretBytes;
  if (key.size() != total || !key.starts_with(kind) || key[kind.size()] != '_' ||
      key[prefix_len] != '_' || !IsLowerHex(key.substr(kind.size() + 1, 2 * kPrefixBytes)) ||
      !IsLowerHex(key.substr(prefix_len + 1))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a ", absl::string_view(what.data(), what.size()), " (expected ",
        absl::string_view(kind.data(), kind.size()), "_ followed by 12 and 40 hex digits)"));
  }
  return PresentedKey{std::string(key.substr(0, prefix_len)), Sha256Hex(key)};
}

}  // namespace

NewKey::~NewKey() {
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(key.data()), key.size()));
}

absl::StatusOr<NewKey> MakePreAuthKey() { return Make("mpak"); }
absl::StatusOr<NewKey> MakeApiKey() { return Make("mapi"); }

absl::StatusOr<PresentedKey> ParsePreAuthKey(std::string_view key) {
  return Parse("mpak", "pre-auth key", key);
}
absl::StatusOr<PresentedKey> ParseApiKey(std::string_view key) {
  return Parse("mapi", "API key", key);
}

bool KeyHashesEqual(std::string_view a, std::string_view b) {
  return ConstantTimeEqual(AsBytes(a), AsBytes(b));
}

}  // namespace meshvpn::control
