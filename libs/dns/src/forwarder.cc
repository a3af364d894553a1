// The forwarder's table of queries in flight, their attempts and the answers' checks.
#include "meshvpn/dns/forwarder.h"

#include <algorithm>
#include <cstring>

#include "meshvpn/dns/edns.h"
#include "meshvpn/dns/message.h"
#include "meshvpn/dns/name.h"
#include "meshvpn/dns/response.h"
#include "meshvpn/dns/writer.h"

namespace meshvpn::dns {

namespace {

uint16_t ReadU16(ByteSpan b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

void WriteU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

Forwarder::Forwarder(ForwarderConfig config) : config_(config) {
  config_.udp_attempts = std::max(config_.udp_attempts, 1);
  // IDs are 16 bits per upstream: keep every upstream's share of the table below that.
  config_.max_in_flight = std::min<size_t>(config_.max_in_flight, 60000);
}

UpstreamSend Forwarder::SendOf(uint32_t key, const Pending& p, Transport via) const {
  UpstreamSend s;
  s.upstream = p.upstream;
  s.via = via;
  s.key = key;
  s.serial = p.serial;
  s.message = ByteSpan(p.message.data(), p.message.size());
  return s;
}

void Forwarder::Arm(uint32_t key, const Pending& p, MonoTime at) {
  deadlines_.push({at, key, p.serial, p.attempts, p.tcp});
}

size_t Forwarder::WriteServfail(const Pending& p, MutableByteSpan out) {
  if (ParseQuery(ByteSpan(p.message.data(), p.message.size()), &scratch_) != ParseError::kOk) {
    return 0;
  }
  scratch_.header.id = p.client_id;
  ResponseOptions o;
  o.rcode = rcode::kServFail;
  o.authoritative = false;
  o.recursion_available = true;
  o.tcp = p.client.transport == Transport::kTcp;
  o.max_udp_size = config_.max_udp_size;
  MessageWriter w(out);
  // The question as the client sent it (its ID and case).
  std::memcpy(scratch_.name.mutable_data(), p.message.data() + kHeaderSize, p.name_size);
  if (!BeginResponse(scratch_, o, &w)) return 0;
  return w.Finish().size();
}

bool Forwarder::Begin(const Query& q, ByteSpan message, const ClientRef& client, int upstream,
                      MonoTime now, UpstreamSend* send, MutableByteSpan out,
                      size_t* servfail_size) {
  *servfail_size = 0;
  Pending p;
  p.client = client;
  p.client_id = q.header.id;
  p.upstream = upstream;
  p.name_size = q.name.size();
  p.client_limit = client.transport == Transport::kTcp
                       ? kMaxMessageSize
                       : ResponseUdpSize(q.has_edns, q.edns.udp_payload_size, config_.max_udp_size);
  p.started = now;
  p.message.assign(message.begin(), message.end());
  if (pending_.size() >= config_.max_in_flight || message.size() > config_.max_query_size) {
    ++stats_.servfail_full;
    *servfail_size = WriteServfail(p, out);
    return false;
  }
  uint32_t key = 0;
  do {
    const uint16_t id = absl::Uniform<uint16_t>(ids_);
    key = static_cast<uint32_t>(upstream) << 16 | id;
  } while (pending_.contains(key));
  WriteU16(p.message.data(), static_cast<uint16_t>(key));
  p.serial = next_serial_++;
  p.attempts = 1;
  ++stats_.forwarded;
  auto [it, inserted] = pending_.emplace(key, std::move(p));
  Arm(key, it->second, now + config_.attempt_timeout);
  *send = SendOf(key, it->second, Transport::kUdp);
  return true;
}

AnswerAction Forwarder::OnAnswer(int upstream, Transport via, ByteSpan answer, MonoTime now,
                                 MutableByteSpan out, ClientDelivery* delivery,
                                 UpstreamSend* retry) {
  if (answer.size() < kHeaderSize || (answer[2] & 0x80) == 0) {
    ++stats_.ignored_malformed;
    return AnswerAction::kIgnore;
  }
  const uint32_t key = static_cast<uint32_t>(upstream) << 16 | ReadU16(answer, 0);
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    ++stats_.ignored_unknown;
    return AnswerAction::kIgnore;
  }
  Pending& p = it->second;
  // One question, the one we asked: the name (any case: some servers fold it), type and class.
  const size_t question_end = kHeaderSize + p.name_size + 4;
  if (ReadU16(answer, 4) != 1 || answer.size() < question_end ||
      !EqualsIgnoreCase(answer.data() + kHeaderSize, p.message.data() + kHeaderSize, p.name_size) ||
      std::memcmp(answer.data() + kHeaderSize + p.name_size,
                  p.message.data() + kHeaderSize + p.name_size, 4) != 0) {
    ++stats_.ignored_mismatch;
    return AnswerAction::kIgnore;
  }
  const bool tc = (answer[2] & 0x02) != 0;
  if (tc && via == Transport::kUdp && !p.tcp) {
    p.tcp = true;
    ++stats_.tcp_retries;
    Arm(key, p, now + config_.tcp_timeout);
    *retry = SendOf(key, p, Transport::kTcp);
    return AnswerAction::kRetryTcp;
  }
  if (tc && via == Transport::kUdp) {
    ++stats_.ignored_unknown;  // a late UDP copy while the TCP retry runs
    return AnswerAction::kIgnore;
  }
  delivery->client = p.client;
  delivery->upstream = p.upstream;
  delivery->latency = now - p.started;
  delivery->servfail = false;
  delivery->truncated = false;
  if (answer.size() <= p.client_limit && answer.size() <= out.size()) {
    std::memcpy(out.data(), answer.data(), answer.size());
    delivery->size = answer.size();
  } else {
    // Larger than the client takes over UDP (after a TCP retry): cut at a record boundary.
    absl::StatusOr<Message> m = Message::Parse(answer);
    absl::StatusOr<Bytes> cut;
    if (m.ok()) cut = m->Serialize({std::min(p.client_limit, out.size()), /*truncate=*/true});
    if (!m.ok() || !cut.ok()) {
      ++stats_.servfail_malformed;
      delivery->size = WriteServfail(p, out);
      delivery->servfail = true;
      pending_.erase(it);
      return delivery->size > 0 ? AnswerAction::kDeliver : AnswerAction::kIgnore;
    }
    std::memcpy(out.data(), cut->data(), cut->size());
    delivery->size = cut->size();
    delivery->truncated = true;
    ++stats_.truncated_for_client;
  }
  // The client's ID, and its question name exactly as it sent it (0x20 case).
  WriteU16(out.data(), p.client_id);
  std::memcpy(out.data() + kHeaderSize, p.message.data() + kHeaderSize, p.name_size);
  ++stats_.answered;
  pending_.erase(it);
  return AnswerAction::kDeliver;
}

bool Forwarder::OnTcpFailure(uint32_t key, uint64_t serial, MonoTime now, MutableByteSpan out,
                             ClientDelivery* delivery) {
  auto it = pending_.find(key);
  if (it == pending_.end() || it->second.serial != serial) return false;
  const Pending& p = it->second;
  ++stats_.servfail_tcp;
  delivery->client = p.client;
  delivery->upstream = p.upstream;
  delivery->latency = now - p.started;
  delivery->servfail = true;
  delivery->truncated = false;
  delivery->size = WriteServfail(p, out);
  pending_.erase(it);
  return delivery->size > 0;
}

void Forwarder::Expire(MonoTime now, MutableByteSpan out,
                       absl::FunctionRef<void(const UpstreamSend&)> resend,
                       absl::FunctionRef<void(const ClientDelivery&, ByteSpan)> deliver) {
  while (!deadlines_.empty() && deadlines_.top().at <= now) {
    const Deadline d = deadlines_.top();
    deadlines_.pop();
    auto it = pending_.find(d.key);
    if (it == pending_.end()) continue;
    Pending& p = it->second;
    // A deadline of an earlier attempt (or of another query that had this key) is stale.
    if (p.serial != d.serial || p.attempts != d.attempts || p.tcp != d.tcp) continue;
    if (!p.tcp && p.attempts < config_.udp_attempts) {
      ++p.attempts;
      ++stats_.retransmits;
      Arm(d.key, p, now + config_.attempt_timeout);
      resend(SendOf(d.key, p, Transport::kUdp));
      continue;
    }
    ++stats_.servfail_timeout;
    ClientDelivery delivery;
    delivery.client = p.client;
    delivery.upstream = p.upstream;
    delivery.latency = now - p.started;
    delivery.servfail = true;
    delivery.size = WriteServfail(p, out);
    pending_.erase(it);
    if (delivery.size > 0) deliver(delivery, ByteSpan(out.data(), delivery.size));
  }
}

std::optional<MonoTime> Forwarder::NextDeadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.top().at;
}

}  // namespace meshvpn::dns
