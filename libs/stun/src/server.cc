#include "meshvpn/stun/server.h"

#include "meshvpn/stun/builder.h"
#include "meshvpn/stun/integrity.h"
#include "meshvpn/stun/message.h"

namespace meshvpn::stun {

std::string_view ToString(ServerDrop d) {
  switch (d) {
    case ServerDrop::kNone:
      return "none";
    case ServerDrop::kMalformed:
      return "malformed";
    case ServerDrop::kNotRequest:
      return "not a request";
    case ServerDrop::kBadFingerprint:
      return "bad fingerprint";
    case ServerDrop::kBadSlot:
      return "bad slot";
    case ServerDrop::kNoSpace:
      return "no space";
    case ServerDrop::kCount:
      break;
  }
  return "?";
}

absl::StatusOr<Server> Server::Create(ServerConfig config) {
  if (config.software.size() > kMaxSoftware) {
    return absl::InvalidArgumentError("stun server: SOFTWARE longer than 763 bytes");
  }
  if (config.alternate) {
    const udp::Endpoint& a = config.primary;
    const udp::Endpoint& b = *config.alternate;
    if (a.family() != b.family()) {
      return absl::InvalidArgumentError(
          "stun server: the alternate address must be of the primary's family");
    }
    if (a.IsUnspecified() || b.IsUnspecified()) {
      return absl::InvalidArgumentError(
          "stun server: RFC 5780 mode needs two concrete addresses, not a wildcard");
    }
    if (a.AddressString() == b.AddressString() || a.port() == b.port() || a.port() == 0 ||
        b.port() == 0) {
      return absl::InvalidArgumentError(
          "stun server: the alternate address and port must both differ from the primary's");
    }
  }
  return Server(std::move(config));
}

udp::Endpoint Server::SlotEndpoint(int slot) const {
  if (!config_.alternate) return config_.primary;
  const udp::Endpoint& address = (slot & 2) ? *config_.alternate : config_.primary;
  const uint16_t port = (slot & 1) ? config_.alternate->port() : config_.primary.port();
  return address.WithPort(port);
}

ServerDrop Server::HandleDatagram(ByteSpan data, const udp::Endpoint& from, int slot,
                                  MutableByteSpan out, ServerReply* reply) {
  if (slot < 0 || slot >= slot_count()) return Drop(ServerDrop::kBadSlot);
  MessageView m;
  if (MessageView::Parse(data, &m) != ParseError::kOk) return Drop(ServerDrop::kMalformed);
  if (m.message_class() != MessageClass::kRequest) return Drop(ServerDrop::kNotRequest);
  if (m.fingerprint() != nullptr && VerifyFingerprint(m) != CheckResult::kOk) {
    return Drop(ServerDrop::kBadFingerprint);
  }
  ++stats_.requests;

  // Which error, if any (RFC 8489 section 6.3.1; RFC 5780 section 6.1).
  uint16_t error = 0;
  std::array<uint16_t, 17> unknown{};
  size_t unknown_count = 0;
  for (uint16_t t : m.unknown_required()) unknown[unknown_count++] = t;
  ChangeRequest change;
  if (const Attribute* a = m.Find(attr::kChangeRequest); a != nullptr) {
    if (DecodeChangeRequest(a->value, &change) != ParseError::kOk) {
      error = kErrorBadRequest;
    } else if (!config_.alternate) {
      unknown[unknown_count++] = attr::kChangeRequest;  // no second address: not supported
    }
  }
  if (m.method() != static_cast<uint16_t>(Method::kBinding)) error = kErrorBadRequest;
  if (error == 0 && unknown_count > 0) error = kErrorUnknownAttribute;

  int from_slot = slot;
  if (error == 0 && config_.alternate) {
    from_slot = slot ^ (change.change_ip ? 2 : 0) ^ (change.change_port ? 1 : 0);
  }

  MessageBuilder b(out);
  b.Start(MessageType(m.method(),
                      error ? MessageClass::kErrorResponse : MessageClass::kSuccessResponse),
          m.transaction_id());
  if (error != 0) {
    b.AddErrorCode(error, error == kErrorBadRequest ? "Bad Request" : "Unknown Attribute");
    if (error == kErrorUnknownAttribute) {
      b.AddUnknownAttributes(std::span<const uint16_t>(unknown.data(), unknown_count));
    }
  } else {
    b.AddAddress(attr::kXorMappedAddress, from);
    b.AddAddress(attr::kMappedAddress, from);
    const udp::Endpoint origin = SlotEndpoint(from_slot);
    if (!origin.IsUnspecified()) b.AddAddress(attr::kResponseOrigin, origin);
    if (config_.alternate) b.AddAddress(attr::kOtherAddress, SlotEndpoint(slot ^ 3));
  }
  if (!config_.software.empty()) b.AddText(attr::kSoftware, config_.software);
  if (config_.fingerprint) b.AddFingerprint();
  if (!b.ok()) return Drop(ServerDrop::kNoSpace);

  reply->size = b.size();
  reply->from_slot = from_slot;
  reply->to = from;
  reply->error = error != 0;
  if (error != 0) {
    ++stats_.error_responses;
  } else {
    ++stats_.success_responses;
    if (from_slot != slot) ++stats_.changed_address;
  }
  return ServerDrop::kNone;
}

}  // namespace meshvpn::stun
