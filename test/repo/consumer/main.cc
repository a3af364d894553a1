// Uses the installed meshvpn: the wg component must bring its dependencies (base, x25519, ...)
// and their headers along without the consumer naming them.
#include <cstdio>

#include "meshvpn/base/bytes.h"
#include "meshvpn/wg/version.h"
#include "meshvpn/x25519/version.h"

int main() {
  const meshvpn::Bytes data = {0xde, 0xad, 0xbe, 0xef};
  const std::string encoded = meshvpn::Base64Encode(data);
  std::printf("meshvpn::wg %s, x25519 %s, base64 of deadbeef = %s\n",
              meshvpn::wg::kVersionString.data(), meshvpn::x25519::kVersionString.data(),
              encoded.c_str());
  return encoded == "3q2+7w==" ? 0 : 1;
}
