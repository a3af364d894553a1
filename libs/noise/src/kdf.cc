#include "meshvpn/noise/kdf.h"

#include <cstdint>

#include "hmac_internal.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::noise {
namespace {

// KDF_N for N = 1..3: one extract, then N expand steps, each keyed with t0 and chained on the
// previous output. The HMAC calls form one batch: the OpenSSL context is scrubbed once, at the
// end, instead of after each of the N + 1 HMACs.
template <size_t N>
std::array<Blake2sHash, N> Kdf(ByteSpan key, ByteSpan input, CryptoBackend backend) {
  static_assert(N >= 1 && N <= 3, "WireGuard and Noise use KDF_1, KDF_2 and KDF_3");
  std::array<Blake2sHash, N> out;

  // Extract: t0 = HMAC(key, input). After this line `key` and `input` are no longer read, so they
  // may be anything the caller likes, including storage the result is later assigned to.
  Blake2sHash t0;
  const ByteSpan extract_parts[] = {input};
  internal::HmacParts(key, extract_parts, t0, backend);

  // Expand: t_i = HMAC(t0, t_{i-1} || i), with t_0's slot empty for i = 1.
  for (size_t i = 0; i < N; ++i) {
    const uint8_t counter[1] = {static_cast<uint8_t>(i + 1)};
    const ByteSpan previous = i == 0 ? ByteSpan() : ByteSpan(out[i - 1]);
    const ByteSpan expand_parts[] = {previous, counter};
    internal::HmacParts(t0, expand_parts, out[i], backend);
  }

  internal::EndHmacBatch(backend);
  SecureWipe(t0);
  return out;
}

}  // namespace

Blake2sHash Kdf1(ByteSpan key, ByteSpan input, CryptoBackend backend) {
  std::array<Blake2sHash, 1> result = Kdf<1>(key, input, backend);
  const Blake2sHash out = result[0];
  SecureWipe(result[0]);
  return out;
}

std::array<Blake2sHash, 2> Kdf2(ByteSpan key, ByteSpan input, CryptoBackend backend) {
  return Kdf<2>(key, input, backend);
}

std::array<Blake2sHash, 3> Kdf3(ByteSpan key, ByteSpan input, CryptoBackend backend) {
  return Kdf<3>(key, input, backend);
}

}  // namespace meshvpn::noise
