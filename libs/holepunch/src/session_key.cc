#include "meshvpn/holepunch/session_key.h"

#include <algorithm>
#include <cstring>

#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"
#include "meshvpn/noise/kdf.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::holepunch {

SessionKey::~SessionKey() { SecureWipe(key_); }

absl::StatusOr<SessionKey> SessionKey::Derive(const x25519::PrivateKey& mine,
                                              const x25519::PublicKey& my_public,
                                              const x25519::PublicKey& peer_public) {
  MESHVPN_ASSIGN_OR_RETURN(x25519::SharedSecret shared,
                           x25519::ComputeSharedSecret(mine, peer_public));
  const bool mine_first = my_public < peer_public;
  const x25519::PublicKey& lo = mine_first ? my_public : peer_public;
  const x25519::PublicKey& hi = mine_first ? peer_public : my_public;
  std::array<uint8_t, 96> input{};
  std::memcpy(input.data(), shared.ExposeSecretBytes().data(), 32);
  std::memcpy(input.data() + 32, lo.bytes().data(), 32);
  std::memcpy(input.data() + 64, hi.bytes().data(), 32);
  const noise::Blake2sHash chaining = noise::Blake2s256(AsBytes(kSessionKeyLabel));
  noise::Blake2sHash k = noise::Kdf1(chaining, input);
  SecureWipe(input);
  SessionKey key;
  key.key_ = k;
  SecureWipe(k);
  return key;
}

SessionKey SessionKey::FromBytes(x25519::KeySpan bytes) {
  SessionKey key;
  std::copy(bytes.begin(), bytes.end(), key.key_.begin());
  return key;
}

noise::Mac16 SessionKey::Mac(ByteSpan data) const {
  return noise::Blake2sMac16(std::span<const uint8_t, 32>(key_), data);
}

bool SessionKey::Verify(ByteSpan data, ByteSpan mac) const {
  if (mac.size() != kMacSize) return false;
  noise::Mac16 expected = Mac(data);
  const bool ok = ConstantTimeEqual(expected, mac);
  SecureWipe(expected);
  return ok;
}

}  // namespace meshvpn::holepunch
