// The device under a handshake flood (device_load.cc): a source that floods forged initiations
// (valid mac1, which anyone can compute from the public key) gets its share of cookie replies
// and is then shed before any crypto while the receive queue is backlogged; a legitimate peer
// from another address still gets its cookie reply and its handshake.
#include <catch2/catch.hpp>
#include <random>

#include "device_harness.h"
#include "meshvpn/wg/device.h"

namespace meshvpn::wg {
namespace {

using test::Ipv4Packet;
using test::Pair;

const std::array<uint8_t, 4> kAliceIp = {10, 0, 0, 1};
const std::array<uint8_t, 4> kBobIp = {10, 0, 0, 2};
const udp::Endpoint kFlooder = udp::Endpoint::V4({198, 51, 100, 7}, 4000);

// A forged initiation for `responder`: random contents, a valid mac1, and mac2 zero (or random
// when `fake_mac2`).
Bytes ForgedInitiation(const x25519::PublicKey& responder, std::mt19937& rng, bool fake_mac2) {
  Bytes m(initiation::kSize);
  for (uint8_t& b : m) b = static_cast<uint8_t>(rng());
  m[0] = static_cast<uint8_t>(MessageType::kHandshakeInitiation);
  m[1] = m[2] = m[3] = 0;
  auto macs = CookieGenerator::Create(responder.bytes());
  REQUIRE(macs.ok());
  REQUIRE(macs->AddMacs(m, MonoTime{}));  // no cookie: mac2 zero
  if (fake_mac2) {
    for (size_t i = 0; i < kMacSize; ++i) m[initiation::kMac2Offset + i] = 1 + rng() % 255;
  }
  return m;
}

// Removes the datagrams Bob sent to the flooder; returns how many were cookie replies.
size_t TakeRepliesToFlooder(Pair& p) {
  size_t cookies = 0;
  auto& outbox = p.bob.output.outbox;
  for (auto it = outbox.begin(); it != outbox.end();) {
    if (it->to == kFlooder) {
      if (it->bytes.size() == cookie_reply::kSize) ++cookies;
      it = outbox.erase(it);
    } else {
      ++it;
    }
  }
  return cookies;
}

void Flood(Pair& p, int count, bool fake_mac2) {
  std::mt19937 rng(7);
  for (int i = 0; i < count; ++i) {
    p.Inject(p.bob, ForgedInitiation(p.bob.public_key, rng, fake_mac2), kFlooder);
  }
}

DeviceOptions UnderLoadAtOnce() {
  DeviceOptions options;
  options.under_load_threshold = 0;  // every handshake message counts as load
  return options;
}

TEST_CASE("Under load without a backlog, every forged initiation gets a cookie reply") {
  Pair p(UnderLoadAtOnce());
  Flood(p, 100, false);
  CHECK(TakeRepliesToFlooder(p) == 100);
  CHECK(p.bob.device.stats().dropped(DropReason::kCookieReplySent) == 100);
  CHECK(p.bob.device.stats().dropped(DropReason::kHandshakeShed) == 0);
  CHECK(p.bob.device.stats().dropped(DropReason::kHandshakeFailed) == 0);  // no X25519 spent
}

TEST_CASE(
    "With a backlog, a flooding source gets its share of cookie replies, then is shed, "
    "and a legitimate peer still gets through") {
  DeviceOptions options = UnderLoadAtOnce();
  options.cookie_reply_share.per_second = 20;
  options.cookie_reply_share.burst = 5;
  Pair p(options);
  p.bob.device.set_receive_backlogged(true);
  Flood(p, 100, false);
  CHECK(TakeRepliesToFlooder(p) == 5);
  CHECK(p.bob.device.stats().dropped(DropReason::kHandshakeShed) == 95);
  CHECK(p.bob.device.stats().dropped(DropReason::kInvalidMac1) == 0);

  // Alice, from her own address, is not charged for the flooder: cookie reply, then mac2.
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 10));
  p.Flush();
  CHECK(p.alice.device.stats().cookie_replies_received == 1);
  Flood(p, 100, false);  // the flood goes on; its bucket refills at 20/s, so a few more replies
  TakeRepliesToFlooder(p);
  p.Tick(std::chrono::milliseconds(5400));
  p.Flush();
  CHECK(p.bob.device.stats().responses_sent == 1);
  CHECK(p.bob.output.delivered.size() == 1);
  CHECK(p.alice.device.stats().handshakes_completed == 1);
}

TEST_CASE("With a backlog, a flooder that fakes mac2 is charged to its rate limit before crypto") {
  DeviceOptions options = UnderLoadAtOnce();
  options.rate_limit.per_second = 20;
  options.rate_limit.burst = 5;
  Pair p(options);
  p.bob.device.set_receive_backlogged(true);
  Flood(p, 100, true);
  // Five pass the limiter, fail mac2 and get a cookie reply; the rest cost a hash lookup.
  CHECK(TakeRepliesToFlooder(p) == 5);
  CHECK(p.bob.device.stats().dropped(DropReason::kRateLimited) == 95);
  CHECK(p.bob.device.stats().dropped(DropReason::kHandshakeShed) == 0);
}

TEST_CASE("A backlog of data alone does not make the device demand cookies") {
  Pair p;  // the default threshold: 512 handshake messages a second
  p.bob.device.set_receive_backlogged(true);
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 10));
  p.Flush();
  CHECK_FALSE(p.bob.device.under_load());
  CHECK(p.bob.device.stats().cookie_replies_sent == 0);
  CHECK(p.bob.output.delivered.size() == 1);
}

TEST_CASE("A backlog with a burst of handshakes is load well before the threshold") {
  Pair p;  // threshold 512: an eighth of it (64) suffices while backlogged
  p.bob.device.set_receive_backlogged(true);
  Flood(p, 80, false);
  CHECK(p.bob.device.under_load());
  // The first 64 were handled as if there were no load: X25519, and it failed (forged).
  CHECK(p.bob.device.stats().dropped(DropReason::kHandshakeFailed) == 64);
  CHECK(TakeRepliesToFlooder(p) == 5);  // then its share of cookie replies (default burst)
}

}  // namespace
}  // namespace meshvpn::wg
