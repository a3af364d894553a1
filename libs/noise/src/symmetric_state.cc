#include "meshvpn/noise/symmetric_state.h"

#include <algorithm>

#include "meshvpn/base/secure.h"
#include "meshvpn/noise/kdf.h"

namespace meshvpn::noise {

SymmetricState::~SymmetricState() { SecureWipe(ck_); }

absl::StatusOr<SymmetricState> SymmetricState::Clone() const {
  absl::StatusOr<CipherState> cipher = cipher_.Clone();
  if (!cipher.ok()) return cipher.status();
  SymmetricState copy(backend_);
  copy.ck_ = ck_;
  copy.h_ = h_;
  copy.cipher_ = *std::move(cipher);
  return copy;
}

void SymmetricState::InitializeSymmetric(std::string_view protocol_name) {
  const ByteSpan name = AsBytes(protocol_name);
  if (name.size() <= kBlake2sHashSize) {
    h_.fill(0);
    std::copy(name.begin(), name.end(), h_.begin());
  } else {
    h_ = Blake2s256(name, backend_);
  }
  ck_ = h_;
  cipher_ = CipherState(backend_);
}

absl::Status SymmetricState::MixKey(ByteSpan input_key_material) {
  auto out = Kdf2(ck_, input_key_material, backend_);
  ck_ = out[0];
  absl::Status status = cipher_.InitializeKey(out[1]);
  SecureWipe(out[0]);
  SecureWipe(out[1]);
  return status;
}

void SymmetricState::MixHash(ByteSpan data) { h_ = Blake2s256({h_, data}, backend_); }

absl::Status SymmetricState::MixKeyAndHash(ByteSpan input_key_material) {
  auto out = Kdf3(ck_, input_key_material, backend_);
  ck_ = out[0];
  MixHash(out[1]);
  absl::Status status = cipher_.InitializeKey(out[2]);
  for (auto& o : out) SecureWipe(o);
  return status;
}

absl::StatusOr<size_t> SymmetricState::EncryptAndHash(MutableByteSpan buffer,
                                                      size_t plaintext_size) {
  absl::StatusOr<size_t> n = cipher_.EncryptWithAd(h_, buffer, plaintext_size);
  if (n.ok()) MixHash(buffer.first(*n));
  return n;
}

absl::StatusOr<size_t> SymmetricState::DecryptAndHash(MutableByteSpan message) {
  const Blake2sHash next_h = Blake2s256({h_, message}, backend_);
  absl::StatusOr<size_t> n = cipher_.DecryptWithAd(h_, message);
  if (n.ok()) h_ = next_h;
  return n;
}

absl::StatusOr<CipherStatePair> SymmetricState::Split() {
  auto out = Kdf2(ck_, ByteSpan(), backend_);
  SecureWipe(ck_);
  CipherStatePair pair{CipherState(backend_), CipherState(backend_)};
  absl::Status s1 = pair.initiator_to_responder.InitializeKey(out[0]);
  absl::Status s2 = pair.responder_to_initiator.InitializeKey(out[1]);
  SecureWipe(out[0]);
  SecureWipe(out[1]);
  if (!s1.ok()) return s1;
  if (!s2.ok()) return s2;
  return pair;
}

}  // namespace meshvpn::noise
