// An optional observer of a wg::Device for tools and courses: handshake events, and each data
// packet as it is sealed or opened. The device never formats anything; a tracer may (it is the
// embedder's choice to pay for that on the packet path). Never given key material.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::wg {

enum class HandshakeEvent : uint8_t {
  kInitiationSent,
  kInitiationReceived,  // valid, from a known peer
  kResponseSent,
  kResponseReceived,  // valid: the initiator's session is established
  kSessionConfirmed,  // the responder saw the first data on its new session
  kCookieReplyReceived,
};
std::string_view ToString(HandshakeEvent event);

class DeviceTracer {
 public:
  virtual ~DeviceTracer() = default;
  virtual void OnHandshake(const x25519::PublicKey& peer, HandshakeEvent event,
                           const udp::Endpoint& remote) = 0;
  // `packet` is the plaintext IP packet (empty for a keepalive); `wire_size` the UDP payload.
  virtual void OnSealed(const x25519::PublicKey& peer, ByteSpan packet, uint64_t counter,
                        size_t wire_size, const udp::Endpoint& to) = 0;
  virtual void OnOpened(const x25519::PublicKey& peer, ByteSpan packet, uint64_t counter,
                        size_t wire_size, const udp::Endpoint& from) = 0;
};

}  // namespace meshvpn::wg
