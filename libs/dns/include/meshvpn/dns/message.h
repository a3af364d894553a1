// Message: a whole DNS message as plain values (allocating), parsed from and serialized to wire
// form, for the forwarder, tools and tests. The server's answer path uses query.h instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/dns/edns.h"
#include "meshvpn/dns/name.h"
#include "meshvpn/dns/parse_error.h"
#include "meshvpn/dns/rdata.h"
#include "meshvpn/dns/wire.h"

namespace meshvpn::dns {

struct Question {
  Name name;
  uint16_t type = rrtype::kA;
  uint16_t qclass = rrclass::kIn;
  friend bool operator==(const Question&, const Question&) = default;
};

struct RawRdata {
  Bytes bytes;
  friend bool operator==(const RawRdata&, const RawRdata&) = default;
};
struct AData {
  std::array<uint8_t, 4> address{};
  friend bool operator==(const AData&, const AData&) = default;
};
struct AaaaData {
  std::array<uint8_t, 16> address{};
  friend bool operator==(const AaaaData&, const AaaaData&) = default;
};
// NS, CNAME, PTR.
struct NameData {
  Name name;
  friend bool operator==(const NameData&, const NameData&) = default;
};
struct TxtData {
  std::vector<std::string> strings;
  friend bool operator==(const TxtData&, const TxtData&) = default;
};

// The alternative is the record's RdataKind (KindOf(type, class)); Serialize rejects others.
using Rdata = std::variant<RawRdata, AData, AaaaData, NameData, SoaData, MxData, TxtData, SrvData>;

struct Record {
  Name name;
  uint16_t type = rrtype::kA;
  uint16_t rrclass = rrclass::kIn;
  uint32_t ttl = 0;
  Rdata rdata;
  friend bool operator==(const Record&, const Record&) = default;
};

// The OPT record of a message, its options owned.
struct Edns {
  uint16_t udp_payload_size = kDefaultMaxUdpSize;
  uint8_t extended_rcode = 0;
  uint8_t version = 0;
  uint16_t flags = 0;  // DO (kEdnsDoBit) and Z
  Bytes options;       // raw: code, length, data ... (OptionReader walks them)

  bool dnssec_ok() const { return (flags & kEdnsDoBit) != 0; }
  // A view for the writer (valid while this Edns is).
  Opt view() const { return {udp_payload_size, extended_rcode, version, flags, options}; }
  friend bool operator==(const Edns&, const Edns&) = default;
};

struct SerializeOptions {
  // The largest message to produce (a UDP size, or 65535).
  size_t max_size = kMaxMessageSize;
  // When it does not fit: false fails (kResourceExhausted); true truncates at a record
  // boundary and sets TC, as MessageWriter does.
  bool truncate = false;
};

// A message. The OPT record is not among `additional`: it is `edns` (always written last). The
// header counts are the vectors' sizes. operator== compares everything byte for byte (names'
// case included), so parse(serialize(m)) == m for every parsed m.
struct Message {
  uint16_t id = 0;
  Flags flags;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authority;
  std::vector<Record> additional;
  std::optional<Edns> edns;

  // The full rcode: the header's 4 bits and, with EDNS, the extended 8 above them.
  uint16_t rcode() const;

  // Parses a whole message: every name, every known type's rdata (kBadRdata if malformed),
  // EDNS (one OPT at most, in the additional section). Bytes after the last record are ignored.
  // *error_offset (if given) is where the error was found.
  static ParseError Parse(ByteSpan wire, Message* out, size_t* error_offset = nullptr);
  // Parse with a Status: InvalidArgument("dns message: <reason> at offset N").
  static absl::StatusOr<Message> Parse(ByteSpan wire);

  // Encodes with name compression. Fails with InvalidArgument for a malformed value (rdata of
  // the wrong kind for its type, a TXT string over 255 bytes) and ResourceExhausted when it does
  // not fit and options.truncate is false.
  absl::StatusOr<Bytes> Serialize(const SerializeOptions& options = {}) const;

  friend bool operator==(const Message&, const Message&) = default;
};

// A multi-line rendering like dig's, for test failures and tools. Allocates.
std::string ToString(const Message& m);

}  // namespace meshvpn::dns
