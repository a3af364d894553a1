// Fuzzes wg's message parser and the fixed-layout decoders: no crash, no read outside the input
// (the replay build copies each input into an exactly sized heap block; libFuzzer does the same),
// the parser and the decoders agree, and every decoded message encodes back to the same bytes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "meshvpn/wg/messages.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

template <typename Message>
void RoundTrip(meshvpn::ByteSpan input, bool expect_ok) {
  Message m;
  const meshvpn::wg::MessageError e = meshvpn::wg::Decode(input, &m);
  Check((e == meshvpn::wg::MessageError::kOk) == expect_ok);
  if (!expect_ok) return;
  const auto wire = meshvpn::wg::Encode(m);
  Check(wire.size() == input.size() && std::equal(wire.begin(), wire.end(), input.begin()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshvpn::wg;
  const meshvpn::ByteSpan input(data, size);
  const ParsedMessage p = ParseMessage(input);
  Check(p.bytes.data() == data && p.bytes.size() == size);
  Check(!ToString(p.error).empty());
  if (p.ok()) {
    Check(size >= 4 && data[1] == 0 && data[2] == 0 && data[3] == 0);
    Check(static_cast<uint8_t>(p.type) == data[0]);
  }
  RoundTrip<HandshakeInitiation>(input, p.ok() && p.type == MessageType::kHandshakeInitiation);
  RoundTrip<HandshakeResponse>(input, p.ok() && p.type == MessageType::kHandshakeResponse);
  RoundTrip<CookieReply>(input, p.ok() && p.type == MessageType::kCookieReply);

  TransportHeader h;
  const bool transport = p.ok() && p.type == MessageType::kTransportData;
  Check((Decode(input, &h) == MessageError::kOk) == transport);
  if (transport) {
    Check(size >= transport::kMinSize);
    uint8_t header[transport::kHeaderSize];
    Encode(h, std::span<uint8_t, transport::kHeaderSize>(header));
    Check(std::equal(header, header + transport::kHeaderSize, data));
  }
  return 0;
}
