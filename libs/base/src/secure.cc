#include "meshvpn/base/secure.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <climits>

namespace meshvpn {

void SecureWipe(MutableByteSpan bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

bool ConstantTimeEqual(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::Status FillRandom(MutableByteSpan out) {
  size_t done = 0;
  while (done < out.size()) {
    const size_t chunk = std::min<size_t>(out.size() - done, INT_MAX);
    if (RAND_bytes(out.data() + done, static_cast<int>(chunk)) != 1) {
      return absl::InternalError("RAND_bytes failed: no randomness available");
    }
    done += chunk;
  }
  return absl::OkStatus();
}

}  // namespace meshvpn
