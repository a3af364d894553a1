#include "meshvpn/aead/aead_result.h"

#include <string>

namespace meshvpn::aead {

std::string_view ToString(AeadResult result) {
  switch (result) {
    case AeadResult::kOk:
      return "ok";
    case AeadResult::kAuthenticationFailed:
      return "authentication failed (bad tag): message forged or corrupted, or wrong key/nonce/AAD";
    case AeadResult::kInvalidNonceSize:
      return "invalid nonce size: ChaCha20-Poly1305 takes 12 bytes, XChaCha20-Poly1305 24 bytes";
    case AeadResult::kBufferTooSmall:
      return "buffer too small: sealing needs 16 bytes of tailroom for the tag, opening needs at "
             "least the 16-byte tag";
    case AeadResult::kMessageTooLong:
      return "message too long for one AEAD call";
    case AeadResult::kNoKey:
      return "key object is empty (moved from)";
    case AeadResult::kBackendFailure:
      return "crypto backend failure";
  }
  return "unknown AEAD result";
}

absl::Status ToStatus(AeadResult result) {
  const std::string message(ToString(result));
  switch (result) {
    case AeadResult::kOk:
      return absl::OkStatus();
    case AeadResult::kAuthenticationFailed:
      return absl::UnauthenticatedError(message);
    case AeadResult::kInvalidNonceSize:
    case AeadResult::kBufferTooSmall:
    case AeadResult::kMessageTooLong:
      return absl::InvalidArgumentError(message);
    case AeadResult::kNoKey:
      return absl::FailedPreconditionError(message);
    case AeadResult::kBackendFailure:
      break;
  }
  return absl::InternalError(message);
}

}  // namespace meshvpn::aead
