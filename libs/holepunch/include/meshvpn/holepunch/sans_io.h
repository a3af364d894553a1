// The interface every holepunch core (Punch, Session, RendezvousServer, ...) offers its driver:
// datagrams out and in on numbered local sockets ("slots"), and when it next wants to be woken.
#pragma once

#include <cstdint>
#include <optional>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::holepunch {

// A datagram the core wants sent now from local socket `slot`. `data` stays valid until the
// next call into the core.
struct Outgoing {
  ByteSpan data;
  udp::Endpoint to;
  uint16_t slot = 0;
};

// A driver (UvRunner, or a test's simulated network) loops:
//   make sure slot_count() sockets are open (slot 0 is the main one; birthday probing asks for
//   more while it runs)
//   while (auto d = core.NextSend(now)) send d from socket d->slot;
//   on a datagram on socket s:  core.OnDatagram(bytes, from, s, now), then drain NextSend
//   at NextExpiry():            core.HandleExpiry(now), then drain NextSend
// Cores never read a clock or touch a socket: `now` is always passed in.
class Core {
 public:
  virtual ~Core() = default;
  virtual std::optional<Outgoing> NextSend(MonoTime now) = 0;
  virtual void OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t slot,
                          MonoTime now) = 0;
  virtual std::optional<MonoTime> NextExpiry() const = 0;
  virtual void HandleExpiry(MonoTime now) = 0;
  // How many local sockets the core wants; never less than 1.
  virtual uint16_t slot_count() const { return 1; }
};

}  // namespace meshvpn::holepunch
