// Helpers for the dns tests: hex, names, hand-built wire messages, the testdata files.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "common/json.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/dns/name.h"
#include "meshvpn/dns/wire.h"

namespace meshvpn::dns::test {

inline Bytes Hex(const std::string& s) {
  auto b = HexDecode(s);
  REQUIRE(b.ok());
  return *b;
}

inline Name N(std::string_view text) {
  auto n = Name::Parse(text);
  REQUIRE(n.ok());
  return *n;
}

inline const meshvpn::test::JsonValue& LoadTestdata(const std::string& file) {
  static std::vector<std::pair<std::string, meshvpn::test::JsonValue>> cache;
  for (const auto& [name, value] : cache) {
    if (name == file) return value;
  }
  auto r = meshvpn::test::ReadJsonFile("testdata/" + file);
  REQUIRE(r.ok());
  cache.emplace_back(file, *r);
  return cache.back().second;
}

// One dig/dnsmasq capture by name (testdata/dig_captures.json).
inline const meshvpn::test::JsonValue& Capture(const std::string& name) {
  for (const auto& c : LoadTestdata("dig_captures.json").at("captures").AsArray()) {
    if (c.at("name").AsString() == name) return c;
  }
  FAIL("no capture " << name);
  return LoadTestdata("dig_captures.json");
}
inline Bytes CaptureQuery(const std::string& name) {
  return Hex(Capture(name).at("query_hex").AsString());
}
inline Bytes CaptureResponse(const std::string& name) {
  return Hex(Capture(name).at("response_hex").AsString());
}

// Builds a message byte by byte, for the malformed ones no writer would make.
class WireBuilder {
 public:
  WireBuilder& Header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
                      uint16_t ar) {
    for (uint16_t v : {id, flags, qd, an, ns, ar}) U16(v);
    return *this;
  }
  WireBuilder& U8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  WireBuilder& U16(uint16_t v) {
    bytes_.push_back(static_cast<uint8_t>(v >> 8));
    bytes_.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  WireBuilder& U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    return U16(static_cast<uint16_t>(v));
  }
  WireBuilder& Raw(std::initializer_list<uint8_t> b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  WireBuilder& Raw(ByteSpan b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  // An uncompressed name from text.
  WireBuilder& NameText(std::string_view text) { return Raw(N(text).wire()); }
  WireBuilder& Pointer(uint16_t offset) { return U16(static_cast<uint16_t>(0xc000 | offset)); }
  // Type, class (after a name).
  WireBuilder& Question(uint16_t type, uint16_t qclass = rrclass::kIn) {
    return U16(type).U16(qclass);
  }
  // Type, class, TTL, rdlength and rdata (after a name).
  WireBuilder& Record(uint16_t type, uint16_t rrclass, uint32_t ttl, ByteSpan rdata) {
    U16(type).U16(rrclass).U32(ttl).U16(static_cast<uint16_t>(rdata.size()));
    return Raw(rdata);
  }
  WireBuilder& Record(uint16_t type, uint16_t rrclass, uint32_t ttl,
                      std::initializer_list<uint8_t> rdata) {
    return Record(type, rrclass, ttl, ByteSpan(rdata.begin(), rdata.size()));
  }
  // An OPT record: root owner, payload size, TTL fields, options.
  WireBuilder& Opt(uint16_t payload, uint32_t ttl = 0, std::initializer_list<uint8_t> opts = {}) {
    U8(0);
    return Record(rrtype::kOpt, payload, ttl, opts);
  }
  size_t size() const { return bytes_.size(); }
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

}  // namespace meshvpn::dns::test
