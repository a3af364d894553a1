#include "psk_protector.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

namespace meshvpn::tunnel {
namespace {

using Direction = PskProtector::Direction;

constexpr uint8_t kKey[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                              17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

PskProtector Make(Direction d, CryptoBackend backend = CryptoBackend::kOpenSsl, uint64_t first = 0,
                  ByteSpan key = kKey) {
  auto p = PskProtector::Create(key, d, backend, first);
  REQUIRE(p.ok());
  return std::move(*p);
}

void Fill(PacketBuffer& b, std::string_view text) {
  b.Reset();
  std::memcpy(b.writable().data(), text.data(), text.size());
  REQUIRE(b.SetSize(text.size()));
}

// Copies a datagram as the network would deliver it: into a fresh buffer.
void Deliver(const PacketBuffer& from, PacketBuffer& to) {
  to.Reset();
  std::memcpy(to.writable().data(), from.data(), from.size());
  REQUIRE(to.SetSize(from.size()));
}

TEST_CASE("psk protector round-trips packets both ways in both backends") {
  const CryptoBackend backend = GENERATE(CryptoBackend::kOpenSsl, CryptoBackend::kReference);
  PskProtector client = Make(Direction::kClientToServer, backend);
  PskProtector server = Make(Direction::kServerToClient, backend);
  PacketPool pool(2, 2048);
  PacketBuffer* wire = pool.Acquire();
  PacketBuffer* rx = pool.Acquire();

  for (int i = 0; i < 3; ++i) {
    Fill(*wire, "SECRET-MARKER ping " + std::to_string(i));
    REQUIRE(client.Protect(*wire) == ProtectResult::kOk);
    CHECK(wire->size() == 12 + 20 + 16);
    CHECK(wire->data()[0] == 1);
    CHECK(meshvpn::ToString(wire->span()).find("SECRET-MARKER") == std::string::npos);
    Deliver(*wire, *rx);
    REQUIRE(server.Unprotect(*rx) == UnprotectResult::kOk);
    CHECK(meshvpn::ToString(rx->span()) == "SECRET-MARKER ping " + std::to_string(i));
  }
  Fill(*wire, "pong");
  REQUIRE(server.Protect(*wire) == ProtectResult::kOk);
  CHECK(wire->data()[0] == 2);
  Deliver(*wire, *rx);
  REQUIRE(client.Unprotect(*rx) == UnprotectResult::kOk);
  CHECK(meshvpn::ToString(rx->span()) == "pong");
  CHECK(client.next_send_counter() == 3);
  pool.Release(wire);
  pool.Release(rx);
}

TEST_CASE("every flipped byte of a datagram is caught") {
  PskProtector client = Make(Direction::kClientToServer);
  PacketPool pool(2, 2048);
  PacketBuffer* wire = pool.Acquire();
  PacketBuffer* rx = pool.Acquire();
  Fill(*wire, "a packet worth protecting");
  REQUIRE(client.Protect(*wire) == ProtectResult::kOk);
  for (size_t i = 0; i < wire->size(); ++i) {
    PskProtector server = Make(Direction::kServerToClient);  // fresh replay window each time
    Deliver(*wire, *rx);
    rx->data()[i] ^= 0x01;
    const UnprotectResult r = server.Unprotect(*rx);
    INFO("flipped byte " << i << " gave " << ToString(r));
    if (i == 0) {
      CHECK(r == UnprotectResult::kMalformed);  // direction 0x00 is no direction at all
    } else if (i < 4) {
      CHECK(r == UnprotectResult::kMalformed);  // reserved bytes must be zero
    } else {
      CHECK(r == UnprotectResult::kAuthFailed);  // counter, ciphertext and tag are authenticated
    }
    // The untouched datagram still opens afterwards: a forgery does not consume the counter.
    Deliver(*wire, *rx);
    CHECK(server.Unprotect(*rx) == UnprotectResult::kOk);
  }
  pool.Release(wire);
  pool.Release(rx);
}

TEST_CASE("a failed open leaves no plaintext behind") {
  PskProtector client = Make(Direction::kClientToServer);
  PskProtector server = Make(Direction::kServerToClient);
  PacketPool pool(1, 2048);
  PacketBuffer* b = pool.Acquire();
  Fill(*b, "SECRET-MARKER");
  REQUIRE(client.Protect(*b) == ProtectResult::kOk);
  b->data()[b->size() - 1] ^= 0x80;  // break the tag
  CHECK(server.Unprotect(*b) == UnprotectResult::kAuthFailed);
  CHECK(meshvpn::ToString(b->span()).find("SECRET-MARKER") == std::string::npos);
  pool.Release(b);
}

TEST_CASE("replays, reflections, short datagrams and other keys are dropped") {
  PskProtector client = Make(Direction::kClientToServer);
  PskProtector server = Make(Direction::kServerToClient);
  uint8_t other_key[32] = {};
  PskProtector stranger = Make(Direction::kClientToServer, CryptoBackend::kOpenSsl, 100, other_key);
  PacketPool pool(2, 2048);
  PacketBuffer* wire = pool.Acquire();
  PacketBuffer* rx = pool.Acquire();

  Fill(*wire, "once");
  REQUIRE(client.Protect(*wire) == ProtectResult::kOk);
  Deliver(*wire, *rx);
  REQUIRE(server.Unprotect(*rx) == UnprotectResult::kOk);
  Deliver(*wire, *rx);
  CHECK(server.Unprotect(*rx) == UnprotectResult::kReplay);

  Deliver(*wire, *rx);
  CHECK(client.Unprotect(*rx) == UnprotectResult::kWrongDirection);  // our own packet, reflected

  rx->Reset();
  REQUIRE(rx->SetSize(27));
  CHECK(server.Unprotect(*rx) == UnprotectResult::kMalformed);

  Fill(*wire, "from someone else");
  REQUIRE(stranger.Protect(*wire) == ProtectResult::kOk);
  Deliver(*wire, *rx);
  CHECK(server.Unprotect(*rx) == UnprotectResult::kAuthFailed);
  pool.Release(wire);
  pool.Release(rx);
}

TEST_CASE("keepalives authenticate but carry no packet") {
  PskProtector client = Make(Direction::kClientToServer);
  PskProtector server = Make(Direction::kServerToClient);
  PacketPool pool(1, 2048);
  PacketBuffer* b = pool.Acquire();
  REQUIRE(client.MakeKeepalive(*b) == ProtectResult::kOk);
  CHECK(b->size() == 28);
  CHECK(server.Unprotect(*b) == UnprotectResult::kKeepalive);
  pool.Release(b);
}

TEST_CASE("the sender refuses to run on when its counter would wrap") {
  PskProtector client = Make(Direction::kClientToServer, CryptoBackend::kOpenSsl, UINT64_MAX - 2);
  PskProtector server = Make(Direction::kServerToClient);
  PacketPool pool(1, 2048);
  PacketBuffer* b = pool.Acquire();
  for (int i = 0; i < 2; ++i) {
    Fill(*b, "late");
    REQUIRE(client.Protect(*b) == ProtectResult::kOk);
    CHECK(server.Unprotect(*b) == UnprotectResult::kOk);
  }
  Fill(*b, "too late");
  CHECK(client.Protect(*b) == ProtectResult::kNonceExhausted);
  CHECK(client.Protect(*b) == ProtectResult::kNonceExhausted);
  CHECK(client.next_send_counter() == UINT64_MAX);
  pool.Release(b);
}

TEST_CASE("plain protector passes packets through and treats empty datagrams as keepalives") {
  PlainProtector plain;
  PacketPool pool(1, 256);
  PacketBuffer* b = pool.Acquire();
  Fill(*b, "as is");
  CHECK(plain.Protect(*b) == ProtectResult::kOk);
  CHECK(meshvpn::ToString(b->span()) == "as is");
  CHECK(plain.Unprotect(*b) == UnprotectResult::kOk);
  REQUIRE(plain.MakeKeepalive(*b) == ProtectResult::kOk);
  CHECK(plain.Unprotect(*b) == UnprotectResult::kKeepalive);
  pool.Release(b);
}

}  // namespace
}  // namespace meshvpn::tunnel
