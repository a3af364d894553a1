// Uses the installed meshvpn: the wg component must bring its dependencies (base, x25519, ...)
// and their headers along without the consumer naming them. Two X25519 parties must agree.
#include <cstdio>

#include "meshvpn/base/bytes.h"
#include "meshvpn/wg/version.h"
#include "meshvpn/x25519/version.h"
#include "meshvpn/x25519/x25519.h"

int main() {
  namespace x = meshvpn::x25519;
  auto alice = x::GenerateKeyPair();
  auto bob = x::GenerateKeyPair();
  if (!alice.ok() || !bob.ok()) return 1;
  auto ab = x::ComputeSharedSecret(alice->private_key, bob->public_key);
  auto ba = x::ComputeSharedSecret(bob->private_key, alice->public_key);
  if (!ab.ok() || !ba.ok() || !ab->ConstantTimeEquals(*ba)) return 1;
  const meshvpn::Bytes data = {0xde, 0xad, 0xbe, 0xef};
  const std::string encoded = meshvpn::Base64Encode(data);
  std::printf("meshvpn::wg %s, x25519 %s: shared secrets agree; base64 of deadbeef = %s\n",
              meshvpn::wg::kVersionString.data(), meshvpn::x25519::kVersionString.data(),
              encoded.c_str());
  return encoded == "3q2+7w==" ? 0 : 1;
}
