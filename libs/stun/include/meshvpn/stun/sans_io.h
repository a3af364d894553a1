// The interface every sans-I/O STUN core (client, NAT discovery) offers its driver: datagrams
// out, datagrams in, and when it next wants to be woken.
#pragma once

#include <optional>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::stun {

// A datagram the core wants sent now. `data` stays valid until the next call into the core.
struct OutgoingDatagram {
  ByteSpan data;
  udp::Endpoint to;
};

// A driver (UvStunRunner, or a test's fake network) loops:
//   while (auto d = core.NextSend(now)) send d;
//   on a datagram:      core.OnDatagram(bytes, from, now), then drain NextSend again
//   at NextExpiry():    core.HandleExpiry(now), then drain NextSend again
//   until Done().
// Cores never read a clock; `now` is always passed in.
class DatagramCore {
 public:
  virtual ~DatagramCore() = default;
  virtual std::optional<OutgoingDatagram> NextSend(MonoTime now) = 0;
  virtual void OnDatagram(ByteSpan data, const udp::Endpoint& from, MonoTime now) = 0;
  virtual std::optional<MonoTime> NextExpiry() const = 0;
  virtual void HandleExpiry(MonoTime now) = 0;
  virtual bool Done() const = 0;
};

}  // namespace meshvpn::stun
