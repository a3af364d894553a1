// The small result code every per-packet seal and open returns (no allocation, no message).
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace meshvpn::aead {

enum class AeadResult : uint8_t {
  kOk = 0,
  // Open only: the tag did not match. The message was forged or corrupted, or the key, nonce or
  // associated data differ from the sender's. The buffer has been wiped (all zeros).
  kAuthenticationFailed,
  // The nonce is not 12 bytes (ChaCha20-Poly1305) or 24 bytes (XChaCha20-Poly1305).
  kInvalidNonceSize,
  // Seal: the buffer has no room for the 16-byte tag after the plaintext. Open: the sealed
  // message is shorter than a tag.
  kBufferTooSmall,
  // The plaintext is longer than kMaxPlaintextSize.
  kMessageTooLong,
  // The key object is empty (moved from).
  kNoKey,
  // OpenSSL reported an error it should not (out of memory inside a provider, ...).
  kBackendFailure,
};

// A fixed sentence for logs and tests, e.g. "authentication failed (bad tag)". Never allocates.
std::string_view ToString(AeadResult result);

// For setup and control code that wants an absl::Status: OkStatus for kOk, otherwise
// InvalidArgument (sizes), Unauthenticated (bad tag), FailedPrecondition (no key) or Internal.
// Allocates: keep it off the per-packet path.
absl::Status ToStatus(AeadResult result);

}  // namespace meshvpn::aead
