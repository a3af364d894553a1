// DERP framing: the header bytes, frames split at every byte, several in one read, the length
// bound (checked at the header, before the payload), and the constants' sizes.
#include "meshvpn/derp/frame.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace meshvpn::derp {
namespace {

std::string Payload(const FrameView& f) {
  return std::string(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
}

TEST_CASE("a frame is type, big-endian length, payload") {
  std::string out;
  REQUIRE(AppendFrame(FrameType::kPing, AsBytes("12345678"), &out));
  CHECK(out == std::string("\x12\x00\x00\x00\x08"
                           "12345678",
                           13));
  out.clear();
  REQUIRE(AppendFrame(FrameType::kKeepAlive, {}, &out));
  CHECK(out == std::string("\x06\x00\x00\x00\x00", 5));
  const std::string big(70000, 'x');
  out.clear();
  REQUIRE(AppendFrame(FrameType::kSendPacket, AsBytes(big), &out));
  CHECK(out.substr(0, 5) == std::string("\x04\x00\x01\x11\x70", 5));  // 70000 = 0x11170
}

TEST_CASE("the reader finds every frame however the stream is cut") {
  std::string stream;
  AppendFrame(FrameType::kServerKey, AsBytes(std::string(40, 'k')), &stream);
  AppendFrame(FrameType::kKeepAlive, {}, &stream);
  AppendFrame(0x7f, AsBytes("unknown type"), &stream);  // unknown types are still framed
  AppendFrame(FrameType::kRecvPacket, AsBytes(std::string(1000, 'p')), &stream);
  for (size_t piece : {size_t{1}, size_t{2}, size_t{5}, size_t{7}, size_t{64}, stream.size()}) {
    FrameReader reader;
    std::vector<std::pair<uint8_t, std::string>> got;
    for (size_t at = 0; at < stream.size(); at += piece) {
      reader.Feed(AsBytes(std::string_view(stream).substr(at, piece)));
      while (auto f = reader.Next()) got.emplace_back(f->type, Payload(*f));
    }
    INFO("pieces of " << piece);
    REQUIRE(got.size() == 4);
    CHECK(got[0] == std::make_pair(uint8_t{0x01}, std::string(40, 'k')));
    CHECK(got[1] == std::make_pair(uint8_t{0x06}, std::string()));
    CHECK(got[2] == std::make_pair(uint8_t{0x7f}, std::string("unknown type")));
    CHECK(got[3] == std::make_pair(uint8_t{0x05}, std::string(1000, 'p')));
    CHECK(reader.buffered() == 0);
    CHECK_FALSE(reader.failed());
  }
}

TEST_CASE("a frame declared longer than the bound fails the reader at its header") {
  FrameReader reader(1024);
  reader.Feed(AsBytes(std::string("\x04\x00\x00\x04\x01", 5)));  // 1025 bytes announced
  CHECK_FALSE(reader.Next().has_value());
  CHECK(reader.failed());
  CHECK(reader.error() == FrameError::kTooLarge);
  CHECK(reader.buffered() == 0);
  reader.Feed(AsBytes(std::string(5000, 'x')));  // nothing more is kept
  CHECK(reader.buffered() == 0);
  CHECK_FALSE(reader.Next().has_value());
  // Exactly the bound is fine; the greeting's smaller bound can be set.
  FrameReader exact(4);
  exact.Feed(
      AsBytes(std::string("\x13\x00\x00\x00\x04"
                          "abcd",
                          9)));
  REQUIRE(exact.Next().has_value());
  exact.set_max_frame_len(3);
  exact.Feed(AsBytes(std::string("\x13\x00\x00\x00\x04", 5)));
  CHECK_FALSE(exact.Next().has_value());
  CHECK(exact.failed());
}

TEST_CASE("the constants match Tailscale's frame sizes and names") {
  CHECK(kMagicString == "DERP\xf0\x9f\x94\x91");
  CHECK(kServerKeyFrameLen == 40);
  CHECK(kMaxRecvPacketFrame == 5 + 32 + 65536);
  CHECK(ToString(FrameType::kSendPacket) == "send_packet");
  CHECK(ToString(static_cast<FrameType>(0x0b)) == "unknown");
  CHECK(IsKnownFrameType(0x0a));
  CHECK_FALSE(IsKnownFrameType(0x0b));
  CHECK(IsKnownFrameType(0x15));
  CHECK_FALSE(IsKnownFrameType(0x16));
  CHECK(ToString(PeerGoneReason::kNotHere) == "not_here");
}

}  // namespace
}  // namespace meshvpn::derp

namespace meshvpn::derp {
namespace {

TEST_CASE("Consume passes whole frames in place and assembles split ones, at every cut") {
  std::string stream;
  for (int i = 0; i < 5; ++i) {
    AppendFrame(FrameType::kSendPacket, AsBytes(std::string(100 + i * 37, 'a' + i)), &stream);
  }
  AppendFrame(FrameType::kKeepAlive, {}, &stream);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameReader reader;
    std::string out;
    size_t in_place = 0;
    const ByteSpan all = AsBytes(stream);
    auto collect = [&](ByteSpan piece) {
      reader.Consume(piece, [&](const FrameView& f) {
        if (f.payload.data() >= piece.data() && f.payload.data() <= piece.data() + piece.size()) {
          ++in_place;
        }
        AppendFrame(f.type, f.payload, &out);
        return true;
      });
    };
    collect(all.first(cut));
    collect(all.subspan(cut));
    REQUIRE(out == stream);
    CHECK(in_place >= 5);  // at most one frame (the one cut) was copied
    CHECK(reader.buffered() == 0);
  }
}

TEST_CASE("Consume: the bound may change between frames; stopping drops the rest") {
  std::string stream;
  AppendFrame(FrameType::kClientInfo, AsBytes(std::string(50, 'c')), &stream);
  AppendFrame(FrameType::kSendPacket, AsBytes(std::string(500, 'p')), &stream);
  FrameReader reader(100);
  int frames = 0;
  reader.Consume(AsBytes(stream), [&](const FrameView&) {
    ++frames;
    reader.set_max_frame_len(1000);  // the handshake is done: larger frames now
    return true;
  });
  CHECK(frames == 2);
  CHECK_FALSE(reader.failed());

  FrameReader strict(100);
  frames = 0;
  strict.Consume(AsBytes(stream), [&](const FrameView&) {
    ++frames;
    return true;
  });
  CHECK(frames == 1);
  CHECK(strict.failed());

  FrameReader stopping;
  frames = 0;
  stopping.Consume(AsBytes(stream + stream), [&](const FrameView&) {
    ++frames;
    return false;
  });
  CHECK(frames == 1);
}

}  // namespace
}  // namespace meshvpn::derp
