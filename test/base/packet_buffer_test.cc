#include "meshvpn/base/packet_buffer.h"

#include <catch2/catch.hpp>
#include <cstring>

namespace meshvpn {
namespace {

TEST_CASE("a packet buffer prepends a header and appends a tag in place") {
  PacketPool pool(1, 256);
  PacketBuffer* b = pool.Acquire();
  REQUIRE(b != nullptr);
  CHECK(b->headroom() == PacketBuffer::kDefaultHeadroom);
  CHECK(b->size() == 0);
  CHECK(b->writable().size() == 256 - PacketBuffer::kDefaultHeadroom);

  std::memcpy(b->writable().data(), "payload", 7);
  REQUIRE(b->SetSize(7));
  uint8_t* payload = b->data();
  MutableByteSpan header = b->Prepend(16);
  REQUIRE(header.size() == 16);
  CHECK(b->data() + 16 == payload);  // the payload did not move
  CHECK(b->size() == 23);
  MutableByteSpan tag = b->Append(16);
  REQUIRE(tag.size() == 16);
  CHECK(tag.data() == payload + 7);
  CHECK(b->size() == 39);

  REQUIRE(b->TrimFront(16));
  REQUIRE(b->TrimBack(16));
  CHECK(ToString(b->span()) == "payload");
  pool.Release(b);
}

TEST_CASE("packet buffer bounds are enforced") {
  PacketPool pool(1, 128);
  PacketBuffer* b = pool.Acquire();
  CHECK(b->Prepend(PacketBuffer::kDefaultHeadroom + 1).empty());
  CHECK(b->headroom() == PacketBuffer::kDefaultHeadroom);
  CHECK_FALSE(b->SetSize(128 - PacketBuffer::kDefaultHeadroom + 1));
  REQUIRE(b->SetSize(128 - PacketBuffer::kDefaultHeadroom));
  CHECK(b->tailroom() == 0);
  CHECK(b->Append(1).empty());
  CHECK_FALSE(b->TrimFront(b->size() + 1));
  CHECK_FALSE(b->TrimBack(b->size() + 1));
  b->Reset(0);
  CHECK(b->headroom() == 0);
  CHECK(b->Prepend(1).empty());
  b->Reset(1000);  // more than the capacity: capped, never out of bounds
  CHECK(b->headroom() == 128);
  CHECK(b->writable().empty());
  pool.Release(b);
}

TEST_CASE("small buffers get headroom capped at their capacity") {
  PacketPool tiny(2, 64);
  PacketBuffer* b = tiny.Acquire();
  CHECK(b->headroom() == 64);
  CHECK(b->writable().empty());
  tiny.Release(b);
  PacketPool custom(1, 64, 16);
  PacketBuffer* c = custom.Acquire();
  CHECK(c->headroom() == 16);
  CHECK(c->writable().size() == 48);
  custom.Release(c);
}

TEST_CASE("the pool is bounded and recycles buffers") {
  PacketPool pool(3, 64, 8);
  CHECK(pool.capacity() == 3);
  PacketBuffer* a = pool.Acquire();
  PacketBuffer* b = pool.Acquire();
  PacketBuffer* c = pool.Acquire();
  REQUIRE((a && b && c));
  CHECK(pool.Acquire() == nullptr);
  CHECK(pool.available() == 0);
  CHECK(a->data() != b->data());
  REQUIRE(b->SetSize(3));
  pool.Release(b);
  PacketBuffer* again = pool.Acquire();
  CHECK(again == b);
  CHECK(again->size() == 0);  // Reset on acquire
  pool.Release(a);
  pool.Release(again);
  pool.Release(c);
  CHECK(pool.available() == 3);
}

}  // namespace
}  // namespace meshvpn
