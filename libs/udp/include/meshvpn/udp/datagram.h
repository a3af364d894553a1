// The units a UDP socket moves: received datagrams in pool buffers, datagrams to send, and the
// interface that receives batches.
#pragma once

#include <span>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::udp {

// One received datagram. Its payload is buffer->span(); the buffer has the pool's headroom in
// front, so a protocol layer can strip or add headers in place.
struct Datagram {
  // Borrowed for the duration of DatagramReceiver::OnDatagrams. To keep it (queue it for
  // decryption, say), set this to nullptr: the buffer is then yours to Release() to the pool.
  PacketBuffer* buffer = nullptr;
  Endpoint from;
  // The first datagram heard from `from` (only when the socket tracks peers).
  bool new_peer = false;
};

// Caller-owned bytes to send now (never queued: see UdpSocket::SendBatch).
struct SendItem {
  ByteSpan data;
  Endpoint to;
};

// A pool buffer to send; the socket takes it and releases it to the pool when done.
struct OutgoingPacket {
  PacketBuffer* buffer = nullptr;
  Endpoint to;
};

// Receives datagrams in batches of 1..kMaxBatch, in arrival order, on the loop thread.
// Implementations must not allocate or log per datagram if they are on the data plane, and must
// not destroy the socket from inside the call (Stop() is fine).
class DatagramReceiver {
 public:
  virtual ~DatagramReceiver() = default;
  virtual void OnDatagrams(std::span<Datagram> batch) = 0;
};

}  // namespace meshvpn::udp
