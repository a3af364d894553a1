// The STUN client transaction core (sans-I/O): binding requests with RFC 8489 retransmission,
// responses matched by transaction ID, response time measured.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/stun/messages.h"
#include "meshvpn/stun/sans_io.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::stun {

// RFC 8489 section 6.2.1. Send k (k = 0..max_sends-1) goes out at rto * (2^k - 1) after the
// first; after the last the transaction fails once final_wait_multiplier * rto more has passed.
// With the defaults: 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, and a timeout at 39.5 s.
struct RetransmitPolicy {
  Duration rto = std::chrono::milliseconds(kDefaultRtoMillis);
  int max_sends = kDefaultRc;              // Rc
  int final_wait_multiplier = kDefaultRm;  // Rm
};
// When send number `k` (0-based) is due, counted from the first send.
Duration SendOffset(const RetransmitPolicy& p, int k);
// When the transaction fails without a response, counted from the first send.
Duration TimeoutOffset(const RetransmitPolicy& p);

struct BindingOptions {
  RetransmitPolicy policy;
  // CHANGE-REQUEST flags (RFC 5780 filtering tests): ask the server to answer from its other
  // address and/or port. Only servers that sent OTHER-ADDRESS support it.
  bool change_ip = false;
  bool change_port = false;
  // SOFTWARE to send (empty: none) and whether to add FINGERPRINT.
  std::string software;
  bool fingerprint = true;
};

enum class Outcome : uint8_t {
  kSuccess,        // a success response with a usable mapped address
  kErrorResponse,  // an error response (error_code says which)
  kBadResponse,    // a success response without a usable (XOR-)MAPPED-ADDRESS
  kTimeout,        // no response after every retransmission
  kLoopedBack,     // our own request came back to us (hairpinning test)
};
std::string_view ToString(Outcome o);

struct TransactionResult {
  TransactionId id{};
  Outcome outcome = Outcome::kTimeout;
  udp::Endpoint server;                 // where the request was sent
  udp::Endpoint from;                   // where the answer came from (differs after CHANGE-REQUEST)
  std::optional<udp::Endpoint> mapped;  // XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS
  std::optional<udp::Endpoint> other_address;    // RFC 5780 OTHER-ADDRESS
  std::optional<udp::Endpoint> response_origin;  // RFC 5780 RESPONSE-ORIGIN
  uint16_t error_code = 0;
  std::string error_reason;
  std::string software;
  int sends = 0;
  // From the last send to the answer (the response time a user sees), and from the first send.
  Duration rtt{};
  Duration elapsed{};
};

// What happened to one received datagram.
enum class Disposition : uint8_t {
  kMatched,             // answered (or looped back to) a pending transaction
  kNotStun,             // did not parse as STUN
  kUnknownTransaction,  // STUN, but no pending transaction has that ID (late or stray)
  kBadFingerprint,      // FINGERPRINT present and wrong
  kUnexpectedClass,     // an indication, or a request that is not ours
  kCount,
};
std::string_view ToString(Disposition d);

// Runs up to `max_pending` binding transactions at once over one socket (the driver's).
// Not thread-safe; allocation happens in StartBinding and when a result is produced, never when
// a datagram is dropped.
class Client final : public DatagramCore {
 public:
  explicit Client(size_t max_pending = 16) : max_pending_(max_pending) {}

  // Queues a Binding request to `server` (sent by the next NextSend). The transaction ID comes
  // from the CSPRNG. Fails when max_pending transactions are already running.
  absl::StatusOr<TransactionId> StartBinding(const udp::Endpoint& server, MonoTime now,
                                             const BindingOptions& options = {});
  // Like StartBinding with a given transaction ID (tests; hairpinning resends).
  absl::Status StartBindingWithId(const TransactionId& id, const udp::Endpoint& server,
                                  MonoTime now, const BindingOptions& options = {});

  // DatagramCore.
  std::optional<OutgoingDatagram> NextSend(MonoTime now) override;
  void OnDatagram(ByteSpan data, const udp::Endpoint& from, MonoTime now) override {
    (void)Receive(data, from, now);
  }
  std::optional<MonoTime> NextExpiry() const override;
  void HandleExpiry(MonoTime now) override;
  bool Done() const override { return pending_.empty(); }

  // OnDatagram with the disposition returned (and counted).
  Disposition Receive(ByteSpan data, const udp::Endpoint& from, MonoTime now);
  // Completed transactions in completion order.
  std::optional<TransactionResult> NextResult();
  size_t pending() const { return pending_.size(); }
  uint64_t count(Disposition d) const { return counts_[static_cast<size_t>(d)]; }

 private:
  struct Pending {
    TransactionId id{};
    udp::Endpoint server;
    RetransmitPolicy policy;
    std::array<uint8_t, 256> request{};
    size_t request_size = 0;
    MonoTime first_send{};
    MonoTime last_send{};
    MonoTime next_event{};  // the next send, or the timeout after the last one
    int sends = 0;
  };
  void Complete(size_t index, TransactionResult result);

  size_t max_pending_;
  std::vector<Pending> pending_;
  std::vector<TransactionResult> results_;
  size_t results_read_ = 0;
  std::array<uint64_t, static_cast<size_t>(Disposition::kCount)> counts_{};
};

}  // namespace meshvpn::stun
