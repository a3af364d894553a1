#include "meshvpn/noise/blake2s.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <utility>

#include "absl/strings/str_format.h"
#include "blake2s_internal.h"
#include "meshvpn/base/secure.h"
#include "openssl_blake2s.h"

namespace meshvpn::noise {
namespace internal {
namespace {

bool OpenSslDigest(std::span<const ByteSpan> parts, MutableByteSpan out) {
  EVP_MD_CTX* ctx = ThreadDigestCtx();
  if (ctx == nullptr) return false;
  if (EVP_DigestInit_ex2(ctx, Algorithms().blake2s256, nullptr) != 1) return false;
  for (ByteSpan part : parts) {
    if (!part.empty() && EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) return false;
  }
  unsigned int written = 0;
  // OpenSSL's BLAKE2s final step cleanses its state.
  return EVP_DigestFinal_ex(ctx, out.data(), &written) == 1 && written == out.size();
}

bool OpenSslMac(ByteSpan key, std::span<const ByteSpan> parts, MutableByteSpan out) {
  EVP_MAC_CTX* ctx = ThreadBlake2sMacCtx();
  if (ctx == nullptr) return false;
  size_t size = out.size();
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                               OSSL_PARAM_construct_end()};
  bool ok = EVP_MAC_init(ctx, key.data(), key.size(), params) == 1;
  for (ByteSpan part : parts) {
    ok = ok && (part.empty() || EVP_MAC_update(ctx, part.data(), part.size()) == 1);
  }
  size_t written = 0;
  ok = ok && EVP_MAC_final(ctx, out.data(), &written, out.size()) == 1 && written == out.size();
  ScrubThreadBlake2sMacCtx();
  return ok;
}

}  // namespace

void RefBlake2s(ByteSpan key, std::span<const ByteSpan> parts, MutableByteSpan out) {
  ref::Blake2sState state;
  ref::Init(state, out.size(), key);
  for (ByteSpan part : parts) ref::Update(state, part);
  ref::Final(state, out);  // wipes state
}

void Blake2sParts(ByteSpan key, std::span<const ByteSpan> parts, MutableByteSpan out,
                  CryptoBackend backend) {
  if (backend == CryptoBackend::kOpenSsl) {
    if (!key.empty()) {
      if (OpenSslMac(key, parts, out)) return;
      CountFallback();
    } else if (out.size() == kBlake2sHashSize) {
      if (OpenSslDigest(parts, out)) return;
      CountFallback();
    }
    // Unkeyed with a short output: OpenSSL 3.0's BLAKE2S-256 has no size parameter and
    // BLAKE2SMAC refuses an empty key, so the reference code computes it.
  }
  RefBlake2s(key, parts, out);
}

}  // namespace internal

Blake2sHash Blake2s256(ByteSpan data, CryptoBackend backend) {
  Blake2sHash out;
  const ByteSpan parts[] = {data};
  internal::Blake2sParts({}, parts, out, backend);
  return out;
}

Blake2sHash Blake2s256(std::initializer_list<ByteSpan> parts, CryptoBackend backend) {
  Blake2sHash out;
  internal::Blake2sParts({}, {parts.begin(), parts.size()}, out, backend);
  return out;
}

Mac16 Blake2sMac16(std::span<const uint8_t, 32> key, ByteSpan data, CryptoBackend backend) {
  Mac16 out;
  const ByteSpan parts[] = {data};
  internal::Blake2sParts(key, parts, out, backend);
  return out;
}

Mac16 Blake2sMac16(std::span<const uint8_t, 16> key, ByteSpan data, CryptoBackend backend) {
  Mac16 out;
  const ByteSpan parts[] = {data};
  internal::Blake2sParts(key, parts, out, backend);
  return out;
}

absl::Status Blake2sKeyed(ByteSpan key, ByteSpan data, MutableByteSpan out, CryptoBackend backend) {
  if (key.size() > kBlake2sMaxKeySize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("BLAKE2s key is %d bytes; at most %d", key.size(), kBlake2sMaxKeySize));
  }
  if (out.empty() || out.size() > kBlake2sMaxOutSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BLAKE2s output is %d bytes; it must be 1..%d", out.size(), kBlake2sMaxOutSize));
  }
  const ByteSpan parts[] = {data};
  internal::Blake2sParts(key, parts, out, backend);
  return absl::OkStatus();
}

// ---- Blake2sHasher -----------------------------------------------------------------------------

Blake2sHasher::Blake2sHasher(CryptoBackend backend, Engine engine, size_t out_len)
    : backend_(backend), engine_(engine), out_len_(out_len) {}

Blake2sHasher::Blake2sHasher(CryptoBackend backend)
    : Blake2sHasher(backend, Engine::kReference, kBlake2sHashSize) {
  if (backend == CryptoBackend::kOpenSsl) {
    const EVP_MD* md = internal::Algorithms().blake2s256;
    md_ = md != nullptr ? EVP_MD_CTX_new() : nullptr;
    if (md_ != nullptr && EVP_DigestInit_ex2(md_, md, nullptr) == 1) {
      engine_ = Engine::kOpenSslDigest;
      return;
    }
    EVP_MD_CTX_free(md_);
    md_ = nullptr;
    internal::CountFallback();
  }
  ref::Init(state_, out_len_, {});
}

absl::StatusOr<Blake2sHasher> Blake2sHasher::Create(ByteSpan key, size_t out_len,
                                                    CryptoBackend backend) {
  if (key.size() > kBlake2sMaxKeySize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("BLAKE2s key is %d bytes; at most %d", key.size(), kBlake2sMaxKeySize));
  }
  if (out_len == 0 || out_len > kBlake2sMaxOutSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BLAKE2s output is %d bytes; it must be 1..%d", out_len, kBlake2sMaxOutSize));
  }
  if (key.empty() && out_len == kBlake2sHashSize) return Blake2sHasher(backend);

  Blake2sHasher hasher(backend, Engine::kReference, out_len);
  if (backend == CryptoBackend::kOpenSsl && !key.empty()) {
    EVP_MAC* mac = internal::Algorithms().blake2s_mac;
    hasher.mac_ = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
    size_t size = out_len;
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                                 OSSL_PARAM_construct_end()};
    if (hasher.mac_ != nullptr && EVP_MAC_init(hasher.mac_, key.data(), key.size(), params) == 1) {
      hasher.engine_ = Engine::kOpenSslMac;
      return hasher;
    }
    EVP_MAC_CTX_free(hasher.mac_);
    hasher.mac_ = nullptr;
    internal::CountFallback();
  }
  ref::Init(hasher.state_, out_len, key);
  return hasher;
}

Blake2sHasher::Blake2sHasher(Blake2sHasher&& other) noexcept
    : backend_(other.backend_),
      engine_(other.engine_),
      out_len_(other.out_len_),
      finished_(other.finished_),
      misused_(other.misused_),
      openssl_failed_(other.openssl_failed_),
      state_(other.state_),
      md_(std::exchange(other.md_, nullptr)),
      mac_(std::exchange(other.mac_, nullptr)) {
  SecureWipe({reinterpret_cast<uint8_t*>(&other.state_), sizeof(other.state_)});
  other.finished_ = true;  // a moved-from hasher has nothing to finish
}

Blake2sHasher& Blake2sHasher::operator=(Blake2sHasher&& other) noexcept {
  if (this != &other) {
    Release();
    backend_ = other.backend_;
    engine_ = other.engine_;
    out_len_ = other.out_len_;
    finished_ = other.finished_;
    misused_ = other.misused_;
    openssl_failed_ = other.openssl_failed_;
    state_ = other.state_;
    md_ = std::exchange(other.md_, nullptr);
    mac_ = std::exchange(other.mac_, nullptr);
    SecureWipe({reinterpret_cast<uint8_t*>(&other.state_), sizeof(other.state_)});
    other.finished_ = true;
  }
  return *this;
}

Blake2sHasher::~Blake2sHasher() { Release(); }

void Blake2sHasher::Release() {
  EVP_MD_CTX_free(md_);  // cleanses OpenSSL's state
  EVP_MAC_CTX_free(mac_);
  md_ = nullptr;
  mac_ = nullptr;
  SecureWipe({reinterpret_cast<uint8_t*>(&state_), sizeof(state_)});
}

void Blake2sHasher::Update(ByteSpan data) {
  if (finished_) {
    misused_ = true;
    return;
  }
  if (data.empty()) return;
  switch (engine_) {
    case Engine::kReference:
      ref::Update(state_, data);
      break;
    case Engine::kOpenSslDigest:
      if (EVP_DigestUpdate(md_, data.data(), data.size()) != 1) openssl_failed_ = true;
      break;
    case Engine::kOpenSslMac:
      if (EVP_MAC_update(mac_, data.data(), data.size()) != 1) openssl_failed_ = true;
      break;
  }
}

absl::Status Blake2sHasher::Final(MutableByteSpan out) {
  if (finished_ || misused_) {
    return absl::FailedPreconditionError(
        "Blake2sHasher: Final was already called (one message per hasher)");
  }
  if (out.size() != out_len_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Blake2sHasher: output buffer is %d bytes, the digest is %d", out.size(), out_len_));
  }
  finished_ = true;
  bool ok = !openssl_failed_;
  switch (engine_) {
    case Engine::kReference:
      ref::Final(state_, out);
      break;
    case Engine::kOpenSslDigest: {
      unsigned int written = 0;
      ok = ok && EVP_DigestFinal_ex(md_, out.data(), &written) == 1 && written == out.size();
      break;
    }
    case Engine::kOpenSslMac: {
      size_t written = 0;
      ok =
          ok && EVP_MAC_final(mac_, out.data(), &written, out.size()) == 1 && written == out.size();
      break;
    }
  }
  if (!ok) {
    SecureWipe(out);
    return absl::InternalError("Blake2sHasher: OpenSSL failed to compute BLAKE2s");
  }
  return absl::OkStatus();
}

}  // namespace meshvpn::noise
