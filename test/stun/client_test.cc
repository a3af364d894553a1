#include "meshvpn/stun/client.h"

#include <catch2/catch.hpp>
#include <vector>

#include "meshvpn/stun/builder.h"
#include "meshvpn/stun/integrity.h"
#include "meshvpn/stun/message.h"
#include "meshvpn/stun/server.h"

namespace meshvpn::stun {
namespace {

using std::chrono::milliseconds;

const udp::Endpoint kServer = *udp::Endpoint::Parse("192.0.2.1:3478");
const udp::Endpoint kMe = *udp::Endpoint::Parse("198.51.100.7:40000");

TEST_CASE("RFC 8489 schedule: 7 sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, timeout at 39.5 s") {
  RetransmitPolicy p;
  const int64_t want[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
  for (int k = 0; k < 7; ++k) {
    CHECK(std::chrono::duration_cast<milliseconds>(SendOffset(p, k)).count() == want[k]);
  }
  CHECK(std::chrono::duration_cast<milliseconds>(TimeoutOffset(p)).count() == 39500);

  FakeClock clock;
  const MonoTime t0 = clock.Now();
  Client c;
  REQUIRE(c.StartBinding(kServer, t0).ok());
  std::vector<int64_t> sent_at;
  while (!c.Done()) {
    while (auto d = c.NextSend(clock.Now())) {
      CHECK(d->to == kServer);
      sent_at.push_back(std::chrono::duration_cast<milliseconds>(clock.Now() - t0).count());
    }
    const auto next = c.NextExpiry();
    REQUIRE(next.has_value());
    REQUIRE(*next > clock.Now());
    clock.Advance(*next - clock.Now());
    c.HandleExpiry(clock.Now());
  }
  CHECK(sent_at == std::vector<int64_t>(std::begin(want), std::end(want)));
  CHECK(std::chrono::duration_cast<milliseconds>(clock.Now() - t0).count() == 39500);
  auto r = c.NextResult();
  REQUIRE(r.has_value());
  CHECK(r->outcome == Outcome::kTimeout);
  CHECK(r->sends == 7);
  CHECK_FALSE(c.NextResult().has_value());
}

// Answers `request` as our server core would, from kServer's slot, as seen from kMe.
std::vector<uint8_t> Answer(ByteSpan request) {
  auto server = Server::Create(ServerConfig{kServer, std::nullopt, "test server", true});
  REQUIRE(server.ok());
  std::vector<uint8_t> out(kMaxUdpMessageSize);
  ServerReply reply;
  REQUIRE(server->HandleDatagram(request, kMe, 0, out, &reply) == ServerDrop::kNone);
  out.resize(reply.size);
  return out;
}

TEST_CASE("Client matches a response by transaction ID and measures the response time") {
  FakeClock clock;
  Client c;
  BindingOptions o;
  o.software = "meshvpn test";
  auto id = c.StartBinding(kServer, clock.Now(), o);
  REQUIRE(id.ok());
  auto d = c.NextSend(clock.Now());
  REQUIRE(d.has_value());
  CHECK_FALSE(c.NextSend(clock.Now()).has_value());  // nothing else due yet
  MessageView req;
  REQUIRE(MessageView::Parse(d->data, &req) == ParseError::kOk);
  CHECK(req.type() == kBindingRequest);
  CHECK(req.transaction_id() == *id);
  CHECK(VerifyFingerprint(req) == CheckResult::kOk);
  CHECK(AsText(req.Find(attr::kSoftware)->value) == "meshvpn test");
  std::vector<uint8_t> response = Answer(d->data);

  // A stray response with another ID is not taken for ours.
  std::vector<uint8_t> stray = response;
  stray[8] ^= 0xFF;
  CHECK(c.Receive(stray, kServer, clock.Now()) == Disposition::kUnknownTransaction);
  CHECK(c.Receive(AsBytes("hello, not stun"), kServer, clock.Now()) == Disposition::kNotStun);
  // A corrupted FINGERPRINT is dropped, and the transaction keeps waiting.
  std::vector<uint8_t> corrupt = response;
  corrupt.back() ^= 0x01;
  CHECK(c.Receive(corrupt, kServer, clock.Now()) == Disposition::kBadFingerprint);
  CHECK(c.pending() == 1);

  clock.Advance(milliseconds(23));
  CHECK(c.Receive(response, kServer, clock.Now()) == Disposition::kMatched);
  CHECK(c.Done());
  auto r = c.NextResult();
  REQUIRE(r.has_value());
  CHECK(r->outcome == Outcome::kSuccess);
  REQUIRE(r->mapped.has_value());
  CHECK(*r->mapped == kMe);
  CHECK(r->rtt == milliseconds(23));
  CHECK(r->sends == 1);
  CHECK(r->software == "test server");
  CHECK(r->response_origin == kServer);
  CHECK_FALSE(r->other_address.has_value());
  // A duplicate (the answer to a retransmission) arrives after completion.
  CHECK(c.Receive(response, kServer, clock.Now()) == Disposition::kUnknownTransaction);
  CHECK(c.count(Disposition::kUnknownTransaction) == 2);
  CHECK(c.count(Disposition::kMatched) == 1);
}

TEST_CASE("Response time is counted from the last retransmission") {
  FakeClock clock;
  Client c;
  REQUIRE(c.StartBinding(kServer, clock.Now()).ok());
  auto first = c.NextSend(clock.Now());
  REQUIRE(first.has_value());
  const std::vector<uint8_t> request(first->data.begin(), first->data.end());
  clock.Advance(milliseconds(500));
  c.HandleExpiry(clock.Now());
  REQUIRE(c.NextSend(clock.Now()).has_value());  // retransmission, same bytes
  clock.Advance(milliseconds(40));
  REQUIRE(c.Receive(Answer(request), kServer, clock.Now()) == Disposition::kMatched);
  auto r = c.NextResult();
  REQUIRE(r.has_value());
  CHECK(r->sends == 2);
  CHECK(r->rtt == milliseconds(40));
  CHECK(r->elapsed == milliseconds(540));
}

TEST_CASE("Error responses and CHANGE-REQUEST against a server without an alternate") {
  FakeClock clock;
  Client c;
  BindingOptions o;
  o.change_ip = true;
  o.change_port = true;
  REQUIRE(c.StartBinding(kServer, clock.Now(), o).ok());
  auto d = c.NextSend(clock.Now());
  REQUIRE(d.has_value());
  REQUIRE(c.Receive(Answer(d->data), kServer, clock.Now()) == Disposition::kMatched);
  auto r = c.NextResult();
  REQUIRE(r.has_value());
  CHECK(r->outcome == Outcome::kErrorResponse);
  CHECK(r->error_code == 420);
  CHECK(r->error_reason == "Unknown Attribute");
}

TEST_CASE("Client bounds the pending transactions and rejects bad policies") {
  FakeClock clock;
  Client c(2);
  REQUIRE(c.StartBinding(kServer, clock.Now()).ok());
  REQUIRE(c.StartBinding(kServer, clock.Now()).ok());
  CHECK(c.StartBinding(kServer, clock.Now()).status().code() ==
        absl::StatusCode::kResourceExhausted);
  Client d;
  BindingOptions o;
  o.policy.max_sends = 0;
  CHECK(d.StartBinding(kServer, clock.Now(), o).status().code() ==
        absl::StatusCode::kInvalidArgument);
  const TransactionId id{7};
  REQUIRE(d.StartBindingWithId(id, kServer, clock.Now()).ok());
  CHECK(d.StartBindingWithId(id, kServer, clock.Now()).code() == absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace meshvpn::stun
