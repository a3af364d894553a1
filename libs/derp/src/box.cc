// DERP's sealed boxes over libsodium's crypto_box_easy / crypto_box_open_easy.
#include "meshvpn/derp/box.h"

#include <sodium.h>

#include <cstdlib>

#include "meshvpn/derp/messages.h"

namespace meshvpn::derp {
namespace {

static_assert(crypto_box_NONCEBYTES == kNonceLen);
static_assert(crypto_box_MACBYTES == kBoxTagLen);
static_assert(crypto_box_PUBLICKEYBYTES == kKeyLen);

void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();  // libsodium could not initialise its CSPRNG: nothing can be sealed
}

}  // namespace

std::string SealToWithNonce(const PrivateKey& sender, const PublicKey& recipient,
                            ByteSpan plaintext, ByteSpan nonce24) {
  EnsureSodium();
  std::string out(kNonceLen + kBoxTagLen + plaintext.size(), '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  std::copy_n(nonce24.begin(), kNonceLen, p);
  if (crypto_box_easy(p + kNonceLen, plaintext.data(), plaintext.size(), p,
                      recipient.bytes().data(), sender.ExposeSecretBytes().data()) != 0) {
    return {};  // degenerate recipient key
  }
  return out;
}

std::string SealTo(const PrivateKey& sender, const PublicKey& recipient, ByteSpan plaintext) {
  EnsureSodium();
  uint8_t nonce[kNonceLen];
  randombytes_buf(nonce, sizeof nonce);
  return SealToWithNonce(sender, recipient, plaintext, ByteSpan(nonce, sizeof nonce));
}

std::optional<std::string> OpenFrom(const PrivateKey& recipient, const PublicKey& sender,
                                    ByteSpan sealed) {
  EnsureSodium();
  if (sealed.size() < kSealOverhead) return std::nullopt;
  std::string out(sealed.size() - kSealOverhead, '\0');
  if (crypto_box_open_easy(reinterpret_cast<uint8_t*>(out.data()), sealed.data() + kNonceLen,
                           sealed.size() - kNonceLen, sealed.data(), sender.bytes().data(),
                           recipient.ExposeSecretBytes().data()) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace meshvpn::derp
