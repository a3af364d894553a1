// Device: what a handshake message costs when the device is under load, and which ones get that
// work at all. The order is cheapest first, so that a flood of forged initiations (anyone can
// compute mac1 from the public key) cannot crowd out a legitimate peer:
//
//   not under load     mac1, then the handshake. Under load means more than
//                      under_load_threshold handshake messages in a second, or an eighth of
//                      that while the receive queue is backlogged; it lasts a second.
//   under load         mac1 and mac2; without a valid mac2 the answer is a cookie reply, with one
//                      the per-source rate limit, then the handshake.
//   under load, and    the driver's receive queue is filling faster than it is emptied: before
//   receive backlog    any crypto, a message that carries a mac2 is charged to its source's rate
//                      limit, and one that carries none (it wants a cookie reply) to its source's
//                      cookie-reply share; a source over its share is dropped (kHandshakeShed) for
//                      the price of a hash lookup. The device thus keeps reading as fast as the
//                      flood arrives, so the kernel never drops for it, and every other source
//                      still gets its cookie reply and its handshake.
#include "meshvpn/wg/device.h"

namespace meshvpn::wg {
namespace {

// Once under load, the device stays so this long after the rate drops (wireguard-go's value).
constexpr std::chrono::seconds kUnderLoadHold{1};

// True if the message's mac2 field is not all zeros: its sender holds a cookie (or claims to).
bool CarriesMac2(ByteSpan message, MessageType type) {
  const size_t offset =
      type == MessageType::kHandshakeInitiation ? initiation::kMac2Offset : response::kMac2Offset;
  uint8_t any = 0;
  for (uint8_t b : message.subspan(offset, kMacSize)) any |= b;
  return any != 0;
}

}  // namespace

void Device::UpdateLoad(MonoTime now) {
  if (now - load_window_start_ >= std::chrono::seconds(1)) {
    load_window_start_ = now;
    handshakes_in_window_ = 0;
  }
  ++handshakes_in_window_;
  // A receive backlog with more than a few handshake messages is load already: waiting for the
  // full threshold would spend X25519 on hundreds of forged initiations while the kernel drops.
  const bool backlog_of_handshakes =
      receive_backlogged_ && handshakes_in_window_ > options_.under_load_threshold / 8;
  if (handshakes_in_window_ > options_.under_load_threshold || backlog_of_handshakes) {
    if (!under_load_) options_.logger.Info("under load: demanding cookies for handshakes");
    under_load_ = true;
    under_load_until_ = now + kUnderLoadHold;
  } else if (under_load_ && now >= under_load_until_) {
    under_load_ = false;
  }
}

RateLimiter& Device::HandshakeLimiter() {
  if (!rate_limiter_) rate_limiter_.emplace(options_.rate_limit);
  return *rate_limiter_;
}

RateLimiter& Device::CookieReplyLimiter() {
  if (!cookie_limiter_) cookie_limiter_.emplace(options_.cookie_reply_share);
  return *cookie_limiter_;
}

void Device::HandleHandshakeMessage(PacketBuffer* buffer, MessageType type,
                                    const udp::Endpoint& from, MonoTime now) {
  UpdateLoad(now);
  bool charged = false;  // the source's handshake rate limit was already charged
  if (under_load_ && receive_backlogged_) {
    if (CarriesMac2(buffer->span(), type)) {
      if (!HandshakeLimiter().Allow(from.address(), now)) {
        return Drop(buffer, DropReason::kRateLimited);
      }
      charged = true;
    } else if (!CookieReplyLimiter().Allow(from.address(), now)) {
      return Drop(buffer, DropReason::kHandshakeShed);
    }
  }
  const MacCheck macs = cookie_checker_->CheckMacs(buffer->span(), from, under_load_, now);
  if (macs == MacCheck::kMalformed) return Drop(buffer, DropReason::kMalformedMessage);
  if (macs == MacCheck::kInvalidMac1) return Drop(buffer, DropReason::kInvalidMac1);
  if (under_load_) {
    if (macs != MacCheck::kValidMac1AndMac2) return SendCookieReply(buffer, from, now);
    if (!charged && !HandshakeLimiter().Allow(from.address(), now)) {
      return Drop(buffer, DropReason::kRateLimited);
    }
  }
  if (type == MessageType::kHandshakeInitiation) return HandleInitiation(buffer, from, now);
  HandleResponse(buffer, from, now);
}

void Device::SendCookieReply(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now) {
  PacketBuffer* reply = pool_->Acquire();
  if (reply == nullptr) return Drop(buffer, DropReason::kPoolExhausted);
  reply->Reset();
  if (reply->SetSize(cookie_reply::kSize) &&
      cookie_checker_->MakeCookieReply(
          buffer->span(), from, now,
          std::span<uint8_t, cookie_reply::kSize>(reply->data(), cookie_reply::kSize))) {
    ++stats_.cookie_replies_sent;
    output_->SendDatagram(reply, from);
  } else {
    pool_->Release(reply);
  }
  Drop(buffer, DropReason::kCookieReplySent);
}

}  // namespace meshvpn::wg
