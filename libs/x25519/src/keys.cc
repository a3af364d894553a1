// Typed keys: construction, parsing and encoding (see keys.h).
#include "meshvpn/x25519/keys.h"

#include <algorithm>
#include <ostream>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::x25519 {
namespace internal {

SecretBytes::SecretBytes(KeySpan bytes) { std::copy(bytes.begin(), bytes.end(), bytes_.begin()); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(other.bytes_) {
  SecureWipe(other.bytes_);
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    SecureWipe(other.bytes_);
  }
  return *this;
}

SecretBytes::~SecretBytes() { SecureWipe(bytes_); }

bool SecretBytes::IsZero() const {
  static constexpr std::array<uint8_t, kKeySize> kZeros{};
  return ConstantTimeEqual(bytes_, kZeros);
}

bool SecretBytes::ConstantTimeEquals(const SecretBytes& other) const {
  return ConstantTimeEqual(bytes_, other.bytes_);
}

}  // namespace internal

namespace {

// The three textual/raw parsers shared by every key type. `what` names the key in errors
// ("private key"); the text itself never appears in an error. On error `out` is zeroed.
absl::Status ParseBase64Key(std::string_view what, std::string_view text, MutableKeySpan out) {
  if (text.size() != kKeyBase64Length) {
    std::fill(out.begin(), out.end(), 0);
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: a base64 key is %d characters (32 bytes), got %d characters", what,
                        kKeyBase64Length, text.size()));
  }
  if (absl::Status s = Base64DecodeInto(text, out); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", what, s.message()));
  }
  return absl::OkStatus();
}

absl::Status ParseHexKey(std::string_view what, std::string_view text, MutableKeySpan out) {
  if (text.size() != kKeyHexLength) {
    std::fill(out.begin(), out.end(), 0);
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: a hex key is %d characters (32 bytes), got %d characters", what,
                        kKeyHexLength, text.size()));
  }
  if (absl::Status s = HexDecodeInto(text, out); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", what, s.message()));
  }
  return absl::OkStatus();
}

absl::Status CheckRawLength(std::string_view what, ByteSpan bytes) {
  if (bytes.size() != kKeySize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: a key is %d bytes, got %d bytes", what, kKeySize, bytes.size()));
  }
  return absl::OkStatus();
}

// Runs one of the parsers above into a wiped temporary and wraps the result in Key.
template <typename Key, typename Parser>
absl::StatusOr<Key> ParseInto(std::string_view what, std::string_view text, Parser parse) {
  std::array<uint8_t, kKeySize> buffer{};
  absl::Status status = parse(what, text, MutableKeySpan(buffer));
  if (!status.ok()) return status;  // parse already zeroed buffer
  Key key{KeySpan(buffer)};
  SecureWipe(buffer);
  return key;
}

template <typename Key>
absl::StatusOr<Key> FromRaw(std::string_view what, ByteSpan bytes) {
  MESHVPN_RETURN_IF_ERROR(CheckRawLength(what, bytes));
  return Key{KeySpan(bytes.data(), kKeySize)};
}

template <typename Key>
absl::StatusOr<Key> RandomKey() {
  std::array<uint8_t, kKeySize> buffer{};
  MESHVPN_RETURN_IF_ERROR(FillRandom(buffer));
  Key key{KeySpan(buffer)};
  SecureWipe(buffer);
  return key;
}

constexpr char kPublicKey[] = "x25519 public key";
constexpr char kPrivateKey[] = "x25519 private key";
constexpr char kPresharedKey[] = "preshared key";

}  // namespace

// ---- PublicKey ----

PublicKey::PublicKey(KeySpan bytes) { std::copy(bytes.begin(), bytes.end(), bytes_.begin()); }

absl::StatusOr<PublicKey> PublicKey::FromBase64(std::string_view text) {
  return ParseInto<PublicKey>(kPublicKey, text, ParseBase64Key);
}

absl::StatusOr<PublicKey> PublicKey::FromHex(std::string_view text) {
  return ParseInto<PublicKey>(kPublicKey, text, ParseHexKey);
}

absl::StatusOr<PublicKey> PublicKey::FromBytes(ByteSpan bytes) {
  return FromRaw<PublicKey>(kPublicKey, bytes);
}

std::string PublicKey::ToBase64() const { return Base64Encode(bytes_); }
std::string PublicKey::ToHex() const { return HexEncode(bytes_); }

bool PublicKey::IsZero() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](uint8_t b) { return b == 0; });
}

std::ostream& operator<<(std::ostream& os, const PublicKey& key) { return os << key.ToBase64(); }

// ---- PrivateKey ----

absl::StatusOr<PrivateKey> PrivateKey::Generate() {
  std::array<uint8_t, kKeySize> buffer{};
  MESHVPN_RETURN_IF_ERROR(FillRandom(buffer));
  ClampScalar(buffer);
  PrivateKey key{KeySpan(buffer)};
  SecureWipe(buffer);
  return key;
}

absl::StatusOr<PrivateKey> PrivateKey::FromBase64(std::string_view text) {
  return ParseInto<PrivateKey>(kPrivateKey, text, ParseBase64Key);
}

absl::StatusOr<PrivateKey> PrivateKey::FromHex(std::string_view text) {
  return ParseInto<PrivateKey>(kPrivateKey, text, ParseHexKey);
}

absl::StatusOr<PrivateKey> PrivateKey::FromBytes(ByteSpan bytes) {
  return FromRaw<PrivateKey>(kPrivateKey, bytes);
}

std::string PrivateKey::ExportBase64ForConfig() const { return Base64Encode(secret_.view()); }
std::string PrivateKey::ExportHexForUapi() const { return HexEncode(secret_.view()); }

// ---- PresharedKey ----

absl::StatusOr<PresharedKey> PresharedKey::Generate() { return RandomKey<PresharedKey>(); }

absl::StatusOr<PresharedKey> PresharedKey::FromBase64(std::string_view text) {
  return ParseInto<PresharedKey>(kPresharedKey, text, ParseBase64Key);
}

absl::StatusOr<PresharedKey> PresharedKey::FromHex(std::string_view text) {
  return ParseInto<PresharedKey>(kPresharedKey, text, ParseHexKey);
}

absl::StatusOr<PresharedKey> PresharedKey::FromBytes(ByteSpan bytes) {
  return FromRaw<PresharedKey>(kPresharedKey, bytes);
}

std::string PresharedKey::ExportBase64ForConfig() const { return Base64Encode(secret_.view()); }
std::string PresharedKey::ExportHexForUapi() const { return HexEncode(secret_.view()); }

}  // namespace meshvpn::x25519
