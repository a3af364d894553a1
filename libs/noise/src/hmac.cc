#include "meshvpn/noise/hmac.h"

#include <openssl/evp.h>

#include <cstring>

#include "blake2s_internal.h"
#include "hmac_internal.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/noise/blake2s_ref.h"
#include "openssl_blake2s.h"

namespace meshvpn::noise {
namespace internal {
namespace {

constexpr uint8_t kIpad = 0x36;  // RFC 2104: the inner pad byte
constexpr uint8_t kOpad = 0x5c;  // and the outer one

// RFC 2104 spelled out on the reference BLAKE2s.
void RefHmac(ByteSpan key, std::span<const ByteSpan> parts, std::span<uint8_t, 32> out) {
  // K0: the key, zero-padded to the 64-byte block; a longer key is hashed first.
  uint8_t k0[kBlake2sBlockSize] = {};
  if (key.size() > kBlake2sBlockSize) {
    const ByteSpan key_part[] = {key};
    RefBlake2s({}, key_part, MutableByteSpan(k0, kBlake2sHashSize));
  } else if (!key.empty()) {
    std::memcpy(k0, key.data(), key.size());
  }

  uint8_t pad[kBlake2sBlockSize];
  uint8_t inner[kBlake2sHashSize];
  ref::Blake2sState state;

  // inner = HASH((K0 ^ ipad) || message)
  for (size_t i = 0; i < kBlake2sBlockSize; ++i) pad[i] = k0[i] ^ kIpad;
  ref::Init(state, kBlake2sHashSize, {});
  ref::Update(state, pad);
  for (ByteSpan part : parts) ref::Update(state, part);
  ref::Final(state, inner);

  // out = HASH((K0 ^ opad) || inner). Written last, so `out` may alias the key or a part.
  for (size_t i = 0; i < kBlake2sBlockSize; ++i) pad[i] = k0[i] ^ kOpad;
  ref::Init(state, kBlake2sHashSize, {});
  ref::Update(state, pad);
  ref::Update(state, inner);
  ref::Final(state, out);  // Final wipes `state`

  SecureWipe(k0);
  SecureWipe(pad);
  SecureWipe(inner);
}

bool OpenSslHmac(ByteSpan key, std::span<const ByteSpan> parts, std::span<uint8_t, 32> out) {
  EVP_MAC_CTX* ctx = ThreadHmacCtx();
  if (ctx == nullptr) return false;
  // An empty span may have a null data pointer, and EVP_MAC_init with a null key silently keeps
  // the previous key: always pass a real pointer.
  static constexpr uint8_t kNoKey[1] = {0};
  const uint8_t* key_data = key.empty() ? kNoKey : key.data();
  bool ok = EVP_MAC_init(ctx, key_data, key.size(), nullptr) == 1;
  for (ByteSpan part : parts) {
    ok = ok && (part.empty() || EVP_MAC_update(ctx, part.data(), part.size()) == 1);
  }
  size_t written = 0;
  ok = ok && EVP_MAC_final(ctx, out.data(), &written, out.size()) == 1 && written == out.size();
  return ok;
}

}  // namespace

void HmacParts(ByteSpan key, std::span<const ByteSpan> parts, std::span<uint8_t, 32> out,
               CryptoBackend backend) {
  if (backend == CryptoBackend::kOpenSsl) {
    // Into a local buffer first: `out` may alias the key or a part, and if OpenSSL fails the
    // reference code below needs those inputs intact.
    uint8_t result[kBlake2sHashSize];
    if (OpenSslHmac(key, parts, result)) {
      std::memcpy(out.data(), result, sizeof(result));
      SecureWipe(result);
      return;
    }
    SecureWipe(result);
    CountFallback();
  }
  RefHmac(key, parts, out);
}

void EndHmacBatch(CryptoBackend backend) {
  if (backend == CryptoBackend::kOpenSsl) ScrubThreadHmacCtx();
}

}  // namespace internal

Blake2sHash HmacBlake2s(ByteSpan key, ByteSpan data, CryptoBackend backend) {
  Blake2sHash out;
  const ByteSpan parts[] = {data};
  internal::HmacParts(key, parts, out, backend);
  internal::EndHmacBatch(backend);
  return out;
}

Blake2sHash HmacBlake2s(ByteSpan key, std::initializer_list<ByteSpan> parts,
                        CryptoBackend backend) {
  Blake2sHash out;
  internal::HmacParts(key, {parts.begin(), parts.size()}, out, backend);
  internal::EndHmacBatch(backend);
  return out;
}

}  // namespace meshvpn::noise
