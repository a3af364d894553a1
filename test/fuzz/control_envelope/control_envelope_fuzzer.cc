// Fuzzes DecodeEnvelope: arbitrary bytes give an Envelope with a body or an error, never a
// crash; a decoded Envelope re-encodes, and decoding that gives an equal message.
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <cstdlib>

#include "meshvpn/control/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto envelope = meshvpn::control::DecodeEnvelope(meshvpn::ByteSpan(data, size));
  if (!envelope.ok()) return 0;
  auto wire = meshvpn::control::EncodeEnvelope(*envelope);
  if (!wire.ok()) std::abort();
  auto again = meshvpn::control::DecodeEnvelope(meshvpn::AsBytes(*wire));
  // Map entries may come back in another order: compare messages, not bytes.
  if (!again.ok() || !google::protobuf::util::MessageDifferencer::Equals(*envelope, *again)) {
    std::abort();
  }
  return 0;
}
