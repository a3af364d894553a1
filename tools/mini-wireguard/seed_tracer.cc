#include "seed_tracer.h"

#include <cstdio>
#include <string>

#include "meshvpn/tun/ip_packet.h"
#include "meshvpn/tun/packet_printer.h"

namespace meshvpn::tools {
namespace {

std::string ShortKey(const x25519::PublicKey& key) { return key.ToBase64().substr(0, 6) + "..."; }

// "10.0.0.1 → 10.0.0.2: 64 bytes (ICMP Echo Request)"
std::string DescribePacket(ByteSpan packet) {
  const tun::ParseResult parsed = tun::ParseIpPacket(packet);
  if (!parsed.ok()) return std::to_string(packet.size()) + " bytes (not a parsable IP packet)";
  const tun::IpPacket& p = parsed.packet;
  return p.source.ToString() + " \u2192 " + p.destination.ToString() + ": " +
         std::to_string(p.transport_length) + " bytes (" + tun::DescribeTransport(p) + ")";
}

}  // namespace

bool SeedTracer::TakePacketLine() {
  if (packets_shown_ > packet_limit_) return false;
  if (packets_shown_++ == packet_limit_) {
    if (packet_limit_ > 0) {
      std::printf(
          "[Trace] %llu packets shown; further packets are counted, not printed "
          "(--trace N)\n",
          static_cast<unsigned long long>(packet_limit_));
      std::fflush(stdout);
    }
    return false;
  }
  return true;
}

void SeedTracer::OnHandshake(const x25519::PublicKey& peer, wg::HandshakeEvent event,
                             const udp::Endpoint& remote) {
  const std::string who = ShortKey(peer);
  const std::string where = remote.ToString();
  switch (event) {
    case wg::HandshakeEvent::kInitiationSent:
      std::printf("[Handshake] Initiating with peer %s (%s)\n", who.c_str(), where.c_str());
      break;
    case wg::HandshakeEvent::kInitiationReceived:
      std::printf("[Handshake] Initiation from peer %s (%s)\n", who.c_str(), where.c_str());
      break;
    case wg::HandshakeEvent::kResponseSent:
      std::printf("[Handshake] Response sent; waiting for the peer's first packet\n");
      break;
    case wg::HandshakeEvent::kResponseReceived:
      std::printf("[Handshake] Received response\n");
      std::printf("[Handshake] Complete! Session established.\n");
      break;
    case wg::HandshakeEvent::kSessionConfirmed:
      std::printf("[Handshake] Complete! Session confirmed by the peer's first packet.\n");
      break;
    case wg::HandshakeEvent::kCookieReplyReceived:
      std::printf("[Handshake] Cookie reply from %s: it is under load; the retry carries mac2\n",
                  who.c_str());
      break;
  }
  std::fflush(stdout);
}

void SeedTracer::OnSealed(const x25519::PublicKey&, ByteSpan packet, uint64_t counter,
                          size_t wire_size, const udp::Endpoint& to) {
  if (!TakePacketLine()) return;
  if (packet.empty()) {
    std::printf("[Keepalive] counter %llu, %zu bytes \u2192 %s\n",
                static_cast<unsigned long long>(counter), wire_size, to.ToString().c_str());
  } else {
    std::printf("[Packet] %s\n", DescribePacket(packet).c_str());
    std::printf("[Encrypt] Using session key, counter: %llu\n",
                static_cast<unsigned long long>(counter));
    std::printf("[Send] %zu bytes \u2192 %s\n", wire_size, to.ToString().c_str());
  }
  std::fflush(stdout);
}

void SeedTracer::OnOpened(const x25519::PublicKey&, ByteSpan packet, uint64_t counter,
                          size_t wire_size, const udp::Endpoint& from) {
  if (!TakePacketLine()) return;
  std::printf("[Receive] %zu bytes \u2190 %s\n", wire_size, from.ToString().c_str());
  std::printf("[Decrypt] Counter: %llu, authenticated\n", static_cast<unsigned long long>(counter));
  if (packet.empty()) {
    std::printf("[Keepalive] (empty packet)\n");
  } else {
    std::printf("[Packet] %s\n", DescribePacket(packet).c_str());
  }
  std::fflush(stdout);
}

}  // namespace meshvpn::tools
