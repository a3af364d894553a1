// RendezvousClient (sans-I/O): registers a peer's name, key and candidates with the rendezvous
// server, resending until the server answers with the wanted peer's info - or gives up.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/holepunch/events.h"
#include "meshvpn/holepunch/messages.h"
#include "meshvpn/holepunch/sans_io.h"

namespace meshvpn::holepunch {

struct RendezvousClientOptions {
  udp::Endpoint server;
  std::string name;  // who we are
  std::string peer;  // whom we want to reach
  x25519::PublicKey key;
  uint8_t flags = 0;
  std::vector<Candidate> candidates;
  // Register is resent first_retry after the first send, doubling up to max_retry, until the
  // peer's info arrives. While waiting it doubles as the keepalive of our NAT mapping toward the
  // server, through which the server pushes the peer's info the moment the peer registers.
  Duration first_retry = std::chrono::milliseconds(250);
  Duration max_retry = std::chrono::seconds(1);
  // No answer at all by then: the server is unreachable (down, or UDP is blocked).
  Duration register_timeout = std::chrono::seconds(5);
  // Registered, but the peer has not shown up by then.
  Duration peer_timeout = std::chrono::seconds(60);
  uint64_t nonce = 0;  // 0: random
};

enum class RendezvousState : uint8_t { kRegistering, kWaiting, kPaired, kFailed };
std::string_view ToString(RendezvousState s);

// Not thread-safe. Only datagrams from the server's endpoint are looked at.
class RendezvousClient final : public Core {
 public:
  static absl::StatusOr<std::unique_ptr<RendezvousClient>> Create(RendezvousClientOptions options,
                                                                  MonoTime now);

  std::optional<Outgoing> NextSend(MonoTime now) override;
  void OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t slot, MonoTime now) override;
  std::optional<MonoTime> NextExpiry() const override;
  void HandleExpiry(MonoTime now) override;

  RendezvousState state() const { return state_; }
  // Where the server saw us (from its ack).
  const std::optional<udp::Endpoint>& observed() const { return observed_; }
  // The peer's info, once kPaired.
  const std::optional<PeerInfo>& peer_info() const { return peer_info_; }
  std::optional<Event> NextEvent();
  int sends() const { return sends_; }

 private:
  explicit RendezvousClient(RendezvousClientOptions options) : options_(std::move(options)) {}
  void Fail(EventType type, MonoTime now, std::string text = {});
  void Emit(Event e);

  RendezvousClientOptions options_;
  std::vector<uint8_t> wire_;  // the encoded Register (fixed once created)
  RendezvousState state_ = RendezvousState::kRegistering;
  MonoTime started_{};
  MonoTime registered_at_{};
  MonoTime next_send_{};
  Duration retry_{};
  bool send_due_ = true;
  int sends_ = 0;
  std::optional<udp::Endpoint> observed_;
  std::optional<PeerInfo> peer_info_;
  std::deque<Event> events_;
};

}  // namespace meshvpn::holepunch
