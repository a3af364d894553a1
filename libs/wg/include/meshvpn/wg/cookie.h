// WireGuard's mac1/mac2 fields and cookie replies (whitepaper 5.4.4 and 5.4.7): the responder's
// CookieChecker and the initiator's CookieGenerator, the defence against handshake floods.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/aead/xchacha20_poly1305.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/noise/blake2s.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/wg/messages.h"

namespace meshvpn::wg {

// How the macs work (m = the receiver of a handshake message, msg = the whole message):
//
//   mac1 = MAC(HASH(LABEL_MAC1 || m's static public), msg[0 : mac1 offset])   always
//   mac2 = MAC(cookie, msg[0 : mac2 offset])       if the sender holds a fresh cookie, else 0^16
//   MAC = keyed BLAKE2s with a 16-byte output, HASH = BLAKE2s-256
//
// Under load, m answers a handshake message whose mac1 is valid but whose mac2 is not with a
// cookie reply instead of processing it:
//
//   cookie           = MAC(R, source IP || source port (big-endian))  R: random, new every 120 s
//   encrypted_cookie = XChaCha20-Poly1305(key = HASH(LABEL_COOKIE || m's static public),
//                                         nonce = 24 random bytes, cookie, aad = msg.mac1)
//
// The sender decrypts it with the mac1 it sent as aad, keeps the cookie for 120 s and puts a
// valid mac2 on its next handshake message, which proves it owns its source address.

inline constexpr std::chrono::seconds kCookieSecretMaxAge{120};

using MacKey = std::array<uint8_t, noise::kBlake2sHashSize>;
using PublicKeyBytes = std::span<const uint8_t, kKeySize>;

// HASH(LABEL_MAC1 || public_key): the mac1 key of messages sent to `public_key`'s owner.
MacKey Mac1Key(PublicKeyBytes public_key, CryptoBackend backend = CryptoBackend::kOpenSsl);
// HASH(LABEL_COOKIE || public_key): the key of cookie replies sent by `public_key`'s owner.
MacKey CookieKey(PublicKeyBytes public_key, CryptoBackend backend = CryptoBackend::kOpenSsl);

// Where mac1 and mac2 sit in a handshake message; false if `message` is not a well-formed
// initiation or response (ParseMessage).
struct MacOffsets {
  size_t mac1 = 0;
  size_t mac2 = 0;
};
bool FindMacOffsets(ByteSpan message, MacOffsets* out);

// What the responder learned from a handshake message's macs.
enum class MacCheck : uint8_t {
  kMalformed,         // not a handshake initiation or response
  kInvalidMac1,       // drop it silently
  kValidMac1,         // mac1 right; mac2 absent, wrong, stale, or not checked
  kValidMac1AndMac2,  // both right: the sender owns its source address
};
std::string_view ToString(MacCheck check);

// Responder side: one per device (keyed by the device's own static public key). Not
// thread-safe. The secret R is created on first use and replaced once it is 120 s old, so a
// cookie is valid for at most 120 s.
class CookieChecker {
 public:
  static absl::StatusOr<CookieChecker> Create(PublicKeyBytes own_public_key,
                                              CryptoBackend backend = CryptoBackend::kOpenSsl);
  CookieChecker(CookieChecker&&) noexcept = default;
  CookieChecker& operator=(CookieChecker&&) noexcept = default;
  ~CookieChecker();  // wipes the secret

  // Checks mac1, and mac2 too if `check_mac2` (the device is under load). Under load, only
  // kValidMac1AndMac2 may be processed; answer kValidMac1 with MakeCookieReply.
  MacCheck CheckMacs(ByteSpan message, const udp::Endpoint& source, bool check_mac2, MonoTime now);

  // Writes a cookie reply to `message` (a handshake message from `source`) into `out`: its
  // receiver index is the message's sender index and its aad the message's mac1. False if the
  // message is malformed or randomness or encryption failed (nothing to send then).
  [[nodiscard]] bool MakeCookieReply(ByteSpan message, const udp::Endpoint& source, MonoTime now,
                                     std::span<uint8_t, cookie_reply::kSize> out);

 private:
  CookieChecker() = default;
  // The cookie for `source` under the current secret (rotated first if it is too old).
  bool CookieFor(const udp::Endpoint& source, MonoTime now, noise::Mac16* cookie);

  CryptoBackend backend_ = CryptoBackend::kOpenSsl;
  MacKey mac1_key_{};
  aead::XChaCha20Poly1305 cookie_aead_;
  std::array<uint8_t, 32> secret_{};
  MonoTime secret_birth_{};
  bool has_secret_ = false;
};

// Initiator side: one per peer (keyed by the peer's static public key). Not thread-safe.
class CookieGenerator {
 public:
  enum class ReplyResult : uint8_t {
    kOk,                    // cookie stored; the next AddMacs adds a mac2
    kMalformed,             // not a 64-byte cookie reply
    kUnexpected,            // no handshake message of ours is waiting for a reply
    kAuthenticationFailed,  // not encrypted for our last mac1 with the peer's cookie key
  };

  static absl::StatusOr<CookieGenerator> Create(PublicKeyBytes peer_public_key,
                                                CryptoBackend backend = CryptoBackend::kOpenSsl);
  CookieGenerator(CookieGenerator&&) noexcept = default;
  CookieGenerator& operator=(CookieGenerator&&) noexcept = default;
  ~CookieGenerator();  // wipes the cookie

  // Fills mac1 and mac2 of an initiation or response about to be sent, in place; false (and
  // `message` untouched) if it is neither. mac2 is zero unless a cookie younger than
  // kCookieRefreshTime is held.
  bool AddMacs(MutableByteSpan message, MonoTime now);
  // Takes a cookie reply addressed to this peer (its receiver index already matched by the
  // caller). A reply is accepted at most once per message sent with AddMacs.
  ReplyResult ConsumeCookieReply(ByteSpan reply, MonoTime now);
  // True if a cookie younger than kCookieRefreshTime is held.
  bool HasCookie(MonoTime now) const;

 private:
  CookieGenerator() = default;

  CryptoBackend backend_ = CryptoBackend::kOpenSsl;
  MacKey mac1_key_{};
  aead::XChaCha20Poly1305 cookie_aead_;
  noise::Mac16 last_mac1_{};
  bool awaiting_reply_ = false;
  noise::Mac16 cookie_{};
  MonoTime cookie_birth_{};
  bool has_cookie_ = false;
};
std::string_view ToString(CookieGenerator::ReplyResult result);

}  // namespace meshvpn::wg
