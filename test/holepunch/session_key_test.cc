// SessionKey: both peers derive the same key from their X25519 keys, nobody else does, and a
// low-order peer key is refused.
#include "meshvpn/holepunch/session_key.h"

#include <catch2/catch.hpp>

#include "meshvpn/noise/kdf.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::holepunch {
namespace {

TEST_CASE("both peers derive the same session key, a third party does not") {
  const auto a = *x25519::GenerateKeyPair();
  const auto b = *x25519::GenerateKeyPair();
  const auto c = *x25519::GenerateKeyPair();
  const SessionKey ab = *SessionKey::Derive(a.private_key, a.public_key, b.public_key);
  const SessionKey ba = *SessionKey::Derive(b.private_key, b.public_key, a.public_key);
  const SessionKey ac = *SessionKey::Derive(a.private_key, a.public_key, c.public_key);
  const uint8_t data[] = {1, 2, 3, 4};
  const noise::Mac16 mac = ab.Mac(data);
  CHECK(ba.Verify(data, mac));
  CHECK(!ac.Verify(data, mac));
  CHECK(!ab.Verify(data, ByteSpan(mac.data(), 15)));
  const uint8_t other[] = {1, 2, 3, 5};
  CHECK(!ba.Verify(other, mac));
}

TEST_CASE("a known answer: fixed keys give a fixed MAC") {
  std::array<uint8_t, 32> pa{}, pb{};
  pa.fill(0x11);
  pb.fill(0x22);
  const x25519::PrivateKey a(pa), b(pb);
  const auto a_pub = *x25519::DerivePublicKey(a);
  const auto b_pub = *x25519::DerivePublicKey(b);
  const SessionKey k1 = *SessionKey::Derive(a, a_pub, b_pub);
  const SessionKey k2 = *SessionKey::Derive(a, a_pub, b_pub);
  const uint8_t data[] = {'p', 'i', 'n', 'g'};
  CHECK(k1.Mac(data) == k2.Mac(data));
  // The same with the reference backend, computed by hand from the definition.
  const auto shared = *x25519::ComputeSharedSecret(a, b_pub, CryptoBackend::kReference);
  std::vector<uint8_t> input(shared.ExposeSecretBytes().begin(), shared.ExposeSecretBytes().end());
  const bool a_first = a_pub < b_pub;
  for (const auto* k : {a_first ? &a_pub : &b_pub, a_first ? &b_pub : &a_pub}) {
    input.insert(input.end(), k->bytes().begin(), k->bytes().end());
  }
  const auto ck = noise::Blake2s256(AsBytes(kSessionKeyLabel), CryptoBackend::kReference);
  const auto key = noise::Kdf1(ck, input, CryptoBackend::kReference);
  CHECK(noise::Blake2sMac16(std::span<const uint8_t, 32>(key), data, CryptoBackend::kReference) ==
        k1.Mac(data));
}

TEST_CASE("a low-order peer key is refused") {
  const auto a = *x25519::GenerateKeyPair();
  const x25519::PublicKey zero;  // a low-order point: X25519 with it gives all zeros
  CHECK(!SessionKey::Derive(a.private_key, a.public_key, zero).ok());
}

}  // namespace
}  // namespace meshvpn::holepunch
