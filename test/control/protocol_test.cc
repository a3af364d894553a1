// The control protocol's Envelope framing, versions, and protobuf's JSON mapping of its messages
// (what the REST API and `-o json` print).
#include "meshvpn/control/protocol.h"

#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <string>

namespace meshvpn::control {
namespace {

v1::Envelope FullMap() {
  v1::Envelope envelope;
  v1::MapResponse* map = envelope.mutable_map_response();
  map->set_seq(1);
  map->set_full(true);
  map->mutable_node()->set_id(7);
  map->mutable_node()->set_name("laptop");
  for (int i = 0; i < 3; ++i) {
    v1::Node* peer = map->add_peers();
    peer->set_id(100 + i);
    peer->set_node_key(std::string(32, static_cast<char>(i)));
    peer->add_addresses("100.64.0." + std::to_string(i + 2) + "/32");
    peer->add_endpoints("203.0.113.7:4164" + std::to_string(i));
    peer->set_online(i % 2 == 0);
  }
  v1::DerpRegion& region = (*map->mutable_derp_map()->mutable_regions())[900];
  region.set_region_id(900);
  region.set_region_code("lab");
  v1::PeerChange* patch = map->add_peers_patch();
  patch->set_node_id(101);
  patch->set_online(false);
  return envelope;
}

TEST_CASE("Envelopes round-trip, and bad ones are refused", "[control][protocol]") {
  const v1::Envelope sent = FullMap();
  absl::StatusOr<std::string> wire = EncodeEnvelope(sent);
  REQUIRE(wire.ok());
  absl::StatusOr<v1::Envelope> got = DecodeEnvelope(AsBytes(*wire));
  REQUIRE(got.ok());
  CHECK(got->SerializeAsString() == sent.SerializeAsString());
  REQUIRE(got->has_map_response());
  CHECK(got->map_response().peers_size() == 3);
  CHECK(got->map_response().peers(1).node_key() == std::string(32, '\1'));
  // A patch's optional fields keep their presence: online=false is sent, last_seen is not.
  REQUIRE(got->map_response().peers_patch_size() == 1);
  CHECK(got->map_response().peers_patch(0).has_online());
  CHECK_FALSE(got->map_response().peers_patch(0).online());
  CHECK_FALSE(got->map_response().peers_patch(0).has_last_seen_ms());
  CHECK_FALSE(got->map_response().peers_patch(0).has_endpoints());

  SECTION("an empty envelope") {
    CHECK_FALSE(EncodeEnvelope(v1::Envelope()).ok());
    CHECK(DecodeEnvelope(ByteSpan()).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("garbage") {
    const std::string junk = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
    CHECK(DecodeEnvelope(AsBytes(junk)).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("truncated") {
    CHECK_FALSE(DecodeEnvelope(AsBytes(std::string_view(*wire).substr(0, wire->size() - 3))).ok());
  }
  SECTION("an unknown body (a newer peer's message) is refused, not taken as empty") {
    const std::string unknown = "\xfa\x01\x00";  // field 31, length 0
    CHECK_FALSE(DecodeEnvelope(AsBytes(unknown)).ok());
  }
  SECTION("over the size limit") {
    const std::string big(kMaxEnvelopeBytes + 1, '\0');
    CHECK(DecodeEnvelope(AsBytes(big)).status().code() == absl::StatusCode::kResourceExhausted);
    v1::Envelope huge;
    huge.mutable_map_response()->mutable_node()->set_name(std::string(kMaxEnvelopeBytes, 'x'));
    CHECK(EncodeEnvelope(huge).status().code() == absl::StatusCode::kResourceExhausted);
  }
}

TEST_CASE("capability versions", "[control][protocol]") {
  CHECK(*NegotiateVersion(kCapabilityVersion) == kCapabilityVersion);
  CHECK(*NegotiateVersion(kCapabilityVersion + 5) == kCapabilityVersion);  // a newer client
  CHECK(NegotiateVersion(0).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("protobuf's JSON mapping of a Node (what the API prints)", "[control][protocol]") {
  v1::Node node;
  node.set_id(3);
  node.set_name("laptop");
  node.add_addresses("100.64.0.3/32");
  node.set_online(true);
  node.set_node_key(std::string("\x01\x02\x03", 3));
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  REQUIRE(google::protobuf::util::MessageToJsonString(node, &json, options).ok());
  CHECK(
      json ==
      R"({"id":"3","name":"laptop","nodeKey":"AQID","addresses":["100.64.0.3/32"],"online":true})");
  v1::Node back;
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  CHECK(back.SerializeAsString() == node.SerializeAsString());
}

}  // namespace
}  // namespace meshvpn::control
