// The STUN server core (sans-I/O): answers Binding requests with the client's reflexive address,
// and, with a second address and port, the RFC 5780 attributes and CHANGE-REQUEST.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::stun {

// RFC 5780 behaviour discovery needs a server on two addresses (A, B) and two ports (P, Q),
// i.e. four sockets. The server core names them by slot; bit 1 = the other address, bit 0 = the
// other port:
//   slot 0  A:P  (primary)          slot 1  A:Q
//   slot 2  B:P                     slot 3  B:Q
// Without an alternate there is only slot 0.
struct ServerConfig {
  // A:P. Its address is what RESPONSE-ORIGIN reports; a wildcard address (0.0.0.0 / ::) omits
  // RESPONSE-ORIGIN (the server cannot know which address a datagram arrived on).
  udp::Endpoint primary;
  // B:Q: both the address and the port must differ from the primary's.
  std::optional<udp::Endpoint> alternate;
  std::string software = "meshvpn stun_server";
  bool fingerprint = true;
};

enum class ServerDrop : uint8_t {
  kNone,
  kMalformed,       // not a STUN message
  kNotRequest,      // responses and indications are not answered
  kBadFingerprint,  // FINGERPRINT present and wrong
  kBadSlot,         // the driver passed a slot that does not exist
  kNoSpace,         // the reply did not fit the caller's buffer
  kCount,
};
std::string_view ToString(ServerDrop d);

// What to send back: `size` bytes of the caller's buffer, from socket `from_slot` to `to`.
struct ServerReply {
  size_t size = 0;
  int from_slot = 0;
  udp::Endpoint to;
  bool error = false;  // an error response (400 or 420)
};

struct ServerStats {
  uint64_t requests = 0;
  uint64_t success_responses = 0;
  uint64_t error_responses = 0;
  uint64_t changed_address = 0;  // answered from another address/port (CHANGE-REQUEST)
  std::array<uint64_t, static_cast<size_t>(ServerDrop::kCount)> drops{};
};

// Not thread-safe; nothing allocates per datagram.
class Server {
 public:
  static absl::StatusOr<Server> Create(ServerConfig config);

  // The number of sockets the driver must open (1 or 4) and where slot i binds.
  int slot_count() const { return config_.alternate ? 4 : 1; }
  udp::Endpoint SlotEndpoint(int slot) const;

  // One datagram that arrived on socket `slot` from `from`. On kNone, *reply says what to send
  // (its bytes are written into `out`, which 1472 bytes always suffice for).
  ServerDrop HandleDatagram(ByteSpan data, const udp::Endpoint& from, int slot, MutableByteSpan out,
                            ServerReply* reply);

  const ServerStats& stats() const { return stats_; }
  const ServerConfig& config() const { return config_; }

 private:
  explicit Server(ServerConfig config) : config_(std::move(config)) {}
  ServerDrop Drop(ServerDrop d) {
    ++stats_.drops[static_cast<size_t>(d)];
    return d;
  }

  ServerConfig config_;
  ServerStats stats_;
};

}  // namespace meshvpn::stun
