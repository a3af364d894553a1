// Differential fuzzing of the two crypto backends: for random keys, nonces, associated data and
// messages, meshvpn's readable reference code and OpenSSL must give identical results, success
// and failure alike. The first input byte picks the primitive:
//   0 X25519        scalar[32] point[32]
//   1 ChaCha20-Poly1305   key[32] nonce[12] aad_len[1] aad message
//   2 XChaCha20-Poly1305  key[32] nonce[24] aad_len[1] aad message
//   3 BLAKE2s       key_len[1] out_len[1] key message  (+ HMAC and KDF3 with the same key)
// Any difference aborts.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/aead/xchacha20_poly1305.h"
#include "meshvpn/noise/blake2s.h"
#include "meshvpn/noise/hmac.h"
#include "meshvpn/noise/kdf.h"
#include "meshvpn/x25519/x25519.h"

namespace {

using meshvpn::ByteSpan;
using meshvpn::CryptoBackend;

constexpr CryptoBackend kOpenSsl = CryptoBackend::kOpenSsl;
constexpr CryptoBackend kRef = CryptoBackend::kReference;

void Require(bool same) {
  if (!same) std::abort();
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  // The next n bytes, zero-padded when the input runs out.
  std::vector<uint8_t> Take(size_t n) {
    std::vector<uint8_t> out(n, 0);
    const size_t k = std::min(n, size_ - pos_);
    if (k > 0) std::memcpy(out.data(), data_ + pos_, k);
    pos_ += k;
    return out;
  }
  std::vector<uint8_t> Rest() { return Take(size_ - pos_); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void X25519(Reader& in) {
  const auto scalar = in.Take(32);
  const auto point = in.Take(32);
  auto private_key = meshvpn::x25519::PrivateKey::FromBytes(scalar);
  auto public_key = meshvpn::x25519::PublicKey::FromBytes(point);
  if (!private_key.ok() || !public_key.ok()) std::abort();  // 32 bytes always parse
  auto a = meshvpn::x25519::ComputeSharedSecret(*private_key, *public_key, kOpenSsl);
  auto b = meshvpn::x25519::ComputeSharedSecret(*private_key, *public_key, kRef);
  Require(a.ok() == b.ok());
  if (a.ok()) Require(a->ConstantTimeEquals(*b));
  auto pa = meshvpn::x25519::DerivePublicKey(*private_key, kOpenSsl);
  auto pb = meshvpn::x25519::DerivePublicKey(*private_key, kRef);
  Require(pa.ok() && pb.ok() && *pa == *pb);
}

template <typename Aead>
void AeadRoundTrip(Reader& in, size_t nonce_size) {
  const auto key = in.Take(32);
  const auto nonce = in.Take(nonce_size);
  const auto aad_len = in.Take(1)[0];
  const auto aad = in.Take(aad_len);
  const auto message = in.Rest();

  auto a = Aead::Create(key, kOpenSsl);
  auto b = Aead::Create(key, kRef);
  Require(a.ok() && b.ok());
  std::vector<uint8_t> buf_a(message.size() + 16), buf_b(message.size() + 16);
  std::copy(message.begin(), message.end(), buf_a.begin());
  std::copy(message.begin(), message.end(), buf_b.begin());
  Require(a->Seal(nonce, aad, buf_a, message.size()) == meshvpn::aead::AeadResult::kOk);
  Require(b->Seal(nonce, aad, buf_b, message.size()) == meshvpn::aead::AeadResult::kOk);
  Require(buf_a == buf_b);

  // Each backend opens what the other sealed.
  Require(a->Open(nonce, aad, buf_b) == meshvpn::aead::AeadResult::kOk);
  Require(std::equal(message.begin(), message.end(), buf_b.begin()));
  Require(b->Open(nonce, aad, buf_a) == meshvpn::aead::AeadResult::kOk);
  Require(std::equal(message.begin(), message.end(), buf_a.begin()));

  // A flipped bit fails in both, and both wipe the buffer.
  Require(a->Seal(nonce, aad, buf_a, message.size()) == meshvpn::aead::AeadResult::kOk);
  buf_b = buf_a;
  const size_t flip = (aad_len + message.size()) % buf_a.size();
  buf_a[flip] ^= 0x04;
  buf_b[flip] ^= 0x04;
  Require(a->Open(nonce, aad, buf_a) == meshvpn::aead::AeadResult::kAuthenticationFailed);
  Require(b->Open(nonce, aad, buf_b) == meshvpn::aead::AeadResult::kAuthenticationFailed);
  Require(buf_a == buf_b);
}

void Blake2s(Reader& in) {
  const size_t key_len = in.Take(1)[0] % 33;
  const size_t out_len = in.Take(1)[0] % 32 + 1;
  const auto key = in.Take(key_len);
  const auto message = in.Rest();

  std::vector<uint8_t> a(out_len), b(out_len);
  Require(meshvpn::noise::Blake2sKeyed(key, message, a, kOpenSsl).ok());
  Require(meshvpn::noise::Blake2sKeyed(key, message, b, kRef).ok());
  Require(a == b);
  Require(meshvpn::noise::Blake2s256(message, kOpenSsl) ==
          meshvpn::noise::Blake2s256(message, kRef));
  Require(meshvpn::noise::HmacBlake2s(key, message, kOpenSsl) ==
          meshvpn::noise::HmacBlake2s(key, message, kRef));
  Require(meshvpn::noise::Kdf3(key, message, kOpenSsl) == meshvpn::noise::Kdf3(key, message, kRef));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Reader in(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      X25519(in);
      break;
    case 1:
      AeadRoundTrip<meshvpn::aead::ChaCha20Poly1305>(in, 12);
      break;
    case 2:
      AeadRoundTrip<meshvpn::aead::XChaCha20Poly1305>(in, 24);
      break;
    default:
      Blake2s(in);
  }
  return 0;
}
