// Prints what the device does in the seed's words: "[Handshake] ...", and for the first packets
// "[Packet] / [Encrypt] / [Send]" and "[Receive] / [Decrypt] / [Packet]" lines.
#pragma once

#include <cstdint>

#include "meshvpn/wg/device_tracer.h"

namespace meshvpn::tools {

class SeedTracer final : public wg::DeviceTracer {
 public:
  // Packet lines are printed for the first `packet_limit` packets (0: none), then one notice.
  explicit SeedTracer(uint64_t packet_limit) : packet_limit_(packet_limit) {}

  void OnHandshake(const x25519::PublicKey& peer, wg::HandshakeEvent event,
                   const udp::Endpoint& remote) override;
  void OnSealed(const x25519::PublicKey& peer, ByteSpan packet, uint64_t counter, size_t wire_size,
                const udp::Endpoint& to) override;
  void OnOpened(const x25519::PublicKey& peer, ByteSpan packet, uint64_t counter, size_t wire_size,
                const udp::Endpoint& from) override;

 private:
  bool TakePacketLine();

  uint64_t packet_limit_;
  uint64_t packets_shown_ = 0;
};

}  // namespace meshvpn::tools
