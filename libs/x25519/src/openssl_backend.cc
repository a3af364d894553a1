// OpenSSL backend: X25519 via EVP_PKEY_fromdata + EVP_PKEY_derive.
//
// Speed note. The obvious path, EVP_PKEY_new_raw_private_key() per call, makes OpenSSL compute
// the key's public key on import: a second full scalar multiplication that derive never uses,
// halving DH throughput. We import the private key together with a placeholder public key (which
// OpenSSL's X25519 derive does not read), and import keys through a per-thread EVP_PKEY_CTX
// instead of letting each import look the key manager up again. That context holds no key
// material: nothing secret outlives a call. See docs/x25519.md for the measurements.
#include "openssl_backend.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/proverr.h>

#include <algorithm>
#include <memory>

namespace meshvpn::x25519::openssl {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

// Drops whatever OpenSSL queued on this thread's error stack and returns an InternalError.
absl::Status OpenSslError(const char* what) {
  ERR_clear_error();
  return absl::InternalError(what);
}

// The per-thread context used to build X25519 EVP_PKEYs from raw bytes (no key inside it).
EVP_PKEY_CTX* ImportContext() {
  thread_local PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr));
  return ctx.get();
}

// Builds an EVP_PKEY from OSSL_PARAMs; `selection` is EVP_PKEY_KEYPAIR or EVP_PKEY_PUBLIC_KEY.
PkeyPtr Import(OSSL_PARAM* params, int selection) {
  EVP_PKEY_CTX* ctx = ImportContext();
  EVP_PKEY* key = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &key, selection, params) != 1) {
    return nullptr;
  }
  return PkeyPtr(key);
}

// OSSL_PARAM wants non-const pointers; OpenSSL copies the bytes and never writes through them.
uint8_t* Unconst(const uint8_t* p) { return const_cast<uint8_t*>(p); }

}  // namespace

absl::Status X25519(std::span<const uint8_t, 32> scalar, std::span<const uint8_t, 32> u,
                    std::span<uint8_t, 32> out) {
  static constexpr uint8_t kPlaceholderPublic[32] = {};
  OSSL_PARAM private_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, Unconst(scalar.data()), 32),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, Unconst(kPlaceholderPublic), 32),
      OSSL_PARAM_construct_end()};
  OSSL_PARAM peer_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, Unconst(u.data()), 32),
      OSSL_PARAM_construct_end()};

  PkeyPtr mine = Import(private_params, EVP_PKEY_KEYPAIR);
  if (!mine) return OpenSslError("x25519: OpenSSL could not import the private key");
  PkeyPtr peer = Import(peer_params, EVP_PKEY_PUBLIC_KEY);
  if (!peer) return OpenSslError("x25519: OpenSSL could not import the public key");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, mine.get(), nullptr));
  // validate_peer = 0: EVP's public-key check only confirms that a public key is present.
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 0) != 1) {
    return OpenSslError("x25519: OpenSSL could not set up the key exchange");
  }
  size_t out_len = out.size();
  if (EVP_PKEY_derive(ctx.get(), out.data(), &out_len) == 1 && out_len == out.size()) {
    return absl::OkStatus();
  }
  // OpenSSL checks the result itself and fails with exactly this reason when it is all zeros
  // (a low-order u). Report it as the zero result the function defines.
  const unsigned long err = ERR_peek_last_error();
  std::fill(out.begin(), out.end(), 0);
  if (ERR_GET_LIB(err) == ERR_LIB_PROV && ERR_GET_REASON(err) == PROV_R_FAILED_DURING_DERIVATION) {
    ERR_clear_error();
    return absl::OkStatus();
  }
  return OpenSslError("x25519: OpenSSL key exchange failed");
}

absl::Status PublicFromPrivate(std::span<const uint8_t, 32> scalar, std::span<uint8_t, 32> out) {
  // Importing a private key alone makes OpenSSL compute its public key, which we read back.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, Unconst(scalar.data()), 32),
      OSSL_PARAM_construct_end()};
  PkeyPtr key = Import(params, EVP_PKEY_KEYPAIR);
  if (!key) return OpenSslError("x25519: OpenSSL could not import the private key");
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), out.data(), &len) != 1 || len != out.size()) {
    return OpenSslError("x25519: OpenSSL could not compute the public key");
  }
  return absl::OkStatus();
}

}  // namespace meshvpn::x25519::openssl
