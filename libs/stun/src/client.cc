#include "meshvpn/stun/client.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"
#include "meshvpn/stun/builder.h"
#include "meshvpn/stun/integrity.h"
#include "meshvpn/stun/message.h"

namespace meshvpn::stun {

Duration SendOffset(const RetransmitPolicy& p, int k) {
  // rto * (2^k - 1): the sum of the doubling intervals before send k.
  return p.rto * ((int64_t{1} << k) - 1);
}

Duration TimeoutOffset(const RetransmitPolicy& p) {
  return SendOffset(p, p.max_sends - 1) + p.rto * p.final_wait_multiplier;
}

std::string_view ToString(Outcome o) {
  switch (o) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kErrorResponse:
      return "error response";
    case Outcome::kBadResponse:
      return "response without a mapped address";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kLoopedBack:
      return "looped back";
  }
  return "?";
}

std::string_view ToString(Disposition d) {
  switch (d) {
    case Disposition::kMatched:
      return "matched";
    case Disposition::kNotStun:
      return "not STUN";
    case Disposition::kUnknownTransaction:
      return "unknown transaction";
    case Disposition::kBadFingerprint:
      return "bad fingerprint";
    case Disposition::kUnexpectedClass:
      return "unexpected class";
    case Disposition::kCount:
      break;
  }
  return "?";
}

absl::StatusOr<TransactionId> Client::StartBinding(const udp::Endpoint& server, MonoTime now,
                                                   const BindingOptions& options) {
  TransactionId id{};
  MESHVPN_RETURN_IF_ERROR(FillRandom(id));
  MESHVPN_RETURN_IF_ERROR(StartBindingWithId(id, server, now, options));
  return id;
}

absl::Status Client::StartBindingWithId(const TransactionId& id, const udp::Endpoint& server,
                                        MonoTime now, const BindingOptions& options) {
  if (pending_.size() >= max_pending_) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("stun client: %d transactions already pending", pending_.size()));
  }
  if (options.policy.max_sends < 1 || options.policy.max_sends > 16 ||
      options.policy.rto <= Duration::zero() || options.policy.final_wait_multiplier < 1) {
    return absl::InvalidArgumentError("stun client: invalid retransmission policy");
  }
  for (const Pending& p : pending_) {
    if (p.id == id) return absl::AlreadyExistsError("stun client: transaction ID in use");
  }
  Pending p;
  p.id = id;
  p.server = server;
  p.policy = options.policy;
  MessageBuilder b(p.request);
  b.Start(kBindingRequest, id);
  if (options.change_ip || options.change_port) {
    b.AddChangeRequest(options.change_ip, options.change_port);
  }
  if (!options.software.empty()) b.AddText(attr::kSoftware, options.software);
  if (options.fingerprint) b.AddFingerprint();
  if (!b.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("stun client: cannot encode request: %s", ToString(b.error())));
  }
  p.request_size = b.size();
  p.next_event = now;
  pending_.push_back(p);
  return absl::OkStatus();
}

std::optional<OutgoingDatagram> Client::NextSend(MonoTime now) {
  for (Pending& p : pending_) {
    if (p.sends >= p.policy.max_sends || p.next_event > now) continue;
    if (p.sends == 0) p.first_send = now;
    p.last_send = now;
    ++p.sends;
    p.next_event = p.sends < p.policy.max_sends
                       ? now + p.policy.rto * (int64_t{1} << (p.sends - 1))
                       : now + p.policy.rto * p.policy.final_wait_multiplier;
    return OutgoingDatagram{ByteSpan(p.request.data(), p.request_size), p.server};
  }
  return std::nullopt;
}

std::optional<MonoTime> Client::NextExpiry() const {
  std::optional<MonoTime> next;
  for (const Pending& p : pending_) {
    if (!next || p.next_event < *next) next = p.next_event;
  }
  return next;
}

void Client::HandleExpiry(MonoTime now) {
  for (size_t i = 0; i < pending_.size();) {
    const Pending& p = pending_[i];
    if (p.sends >= p.policy.max_sends && p.next_event <= now) {
      TransactionResult r;
      r.outcome = Outcome::kTimeout;
      r.elapsed = now - p.first_send;
      Complete(i, std::move(r));
    } else {
      ++i;
    }
  }
}

Disposition Client::Receive(ByteSpan data, const udp::Endpoint& from, MonoTime now) {
  auto count = [this](Disposition d) {
    ++counts_[static_cast<size_t>(d)];
    return d;
  };
  MessageView m;
  if (MessageView::Parse(data, &m) != ParseError::kOk) return count(Disposition::kNotStun);
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.id == m.transaction_id(); });
  if (it == pending_.end()) return count(Disposition::kUnknownTransaction);
  if (m.fingerprint() != nullptr && VerifyFingerprint(m) != CheckResult::kOk) {
    return count(Disposition::kBadFingerprint);
  }
  const size_t index = static_cast<size_t>(it - pending_.begin());
  TransactionResult r;
  r.from = from;
  r.rtt = now - it->last_send;
  r.elapsed = now - it->first_send;
  switch (m.message_class()) {
    case MessageClass::kRequest:
      // Our own request, sent to our own public address, came back: the NAT hairpins.
      if (m.method() != static_cast<uint16_t>(Method::kBinding) || from.port() == 0) {
        return count(Disposition::kUnexpectedClass);
      }
      r.outcome = Outcome::kLoopedBack;
      break;
    case MessageClass::kIndication:
      return count(Disposition::kUnexpectedClass);
    case MessageClass::kErrorResponse: {
      r.outcome = Outcome::kErrorResponse;
      ErrorCode ec;
      if (const Attribute* a = m.Find(attr::kErrorCode);
          a != nullptr && DecodeErrorCode(a->value, &ec) == ParseError::kOk) {
        r.error_code = ec.code;
        r.error_reason = std::string(ec.reason);
      }
      break;
    }
    case MessageClass::kSuccessResponse: {
      udp::Endpoint e;
      if (GetAddress(m, attr::kXorMappedAddress, &e) == ParseError::kOk ||
          GetAddress(m, attr::kMappedAddress, &e) == ParseError::kOk) {
        r.mapped = e;
        r.outcome = Outcome::kSuccess;
      } else {
        r.outcome = Outcome::kBadResponse;
      }
      if (GetAddress(m, attr::kOtherAddress, &e) == ParseError::kOk) r.other_address = e;
      if (GetAddress(m, attr::kResponseOrigin, &e) == ParseError::kOk) r.response_origin = e;
      break;
    }
  }
  if (const Attribute* a = m.Find(attr::kSoftware); a != nullptr) {
    r.software = std::string(AsText(a->value));
  }
  Complete(index, std::move(r));
  return count(Disposition::kMatched);
}

void Client::Complete(size_t index, TransactionResult result) {
  const Pending& p = pending_[index];
  result.id = p.id;
  result.server = p.server;
  result.sends = p.sends;
  results_.push_back(std::move(result));
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
}

std::optional<TransactionResult> Client::NextResult() {
  if (results_read_ == results_.size()) {
    results_.clear();
    results_read_ = 0;
    return std::nullopt;
  }
  return std::move(results_[results_read_++]);
}

}  // namespace meshvpn::stun
