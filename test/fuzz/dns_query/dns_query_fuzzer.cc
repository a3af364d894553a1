// Fuzz target for the dns server's fast path: ParseQuery on arbitrary bytes, then the answer (or
// the error response) written into a small buffer whose size comes from the input, with guard
// bytes after it that must stay untouched. What is written must parse, fit the limit, and echo
// the question; reverse names in the question must round-trip.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "meshvpn/dns/message.h"
#include "meshvpn/dns/query.h"
#include "meshvpn/dns/response.h"
#include "meshvpn/dns/reverse.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

using namespace meshvpn::dns;

constexpr size_t kGuard = 64;
constexpr uint8_t kGuardByte = 0xa5;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the buffer: 0..255 -> 0..1275 bytes (so tiny buffers and ones that
  // cut records in half are common), and whether this is "TCP" (no UDP limit).
  const size_t capacity = (data[0] >> 1) * 10;
  const bool tcp = data[0] & 1;
  const meshvpn::ByteSpan in(data + 1, size - 1);

  Query q;
  const ParseError err = ParseQuery(in, &q);
  const QueryAction action = ActionFor(err);
  Check(!ToString(err).empty() && !ToString(action).empty());
  if (q.has_question) {
    Check(q.name.EqualsIgnoreCase(q.lower));
    Check(q.lower == q.name.Lowercase());
    Check(q.question_end <= in.size());
    ReverseAddress r;
    if (ParseReverseName(q.lower.wire(), &r) == ReverseParse::kOk && r.full()) {
      Name back;
      Check(ReverseName(r.address(), &back));
      Check(back == q.lower);
    }
  }

  static std::array<uint8_t, 1280 + kGuard> storage;
  storage.fill(kGuardByte);
  const std::span<uint8_t> out(storage.data(), capacity);
  meshvpn::ByteSpan wire;
  size_t limit = capacity;
  if (action == QueryAction::kAnswer) {
    ResponseOptions o;
    o.tcp = tcp;
    MessageWriter w(out);
    if (BeginResponse(q, o, &w)) {
      limit = w.limit();
      // A few answers of each kind, their names from the query, until truncation.
      const std::string_view text(reinterpret_cast<const char*>(in.data()),
                                  in.size() < 255 ? in.size() : 255);
      const std::string_view strings[] = {text, text.substr(0, text.size() / 2)};
      SoaData soa;
      soa.mname = q.lower;
      soa.rname = q.name;
      SrvData srv;
      srv.target = q.lower;
      for (int i = 0; i < 4; ++i) {
        w.AddA(Section::kAnswer, q.name.wire(), 60, {100, 64, 0, static_cast<uint8_t>(i)});
        w.AddAaaa(Section::kAnswer, q.lower.wire(), 60, {});
        w.AddNameRecord(Section::kAnswer, q.name.wire(), rrtype::kCname, 60, q.lower.wire());
        w.AddTxt(Section::kAnswer, q.name.wire(), 60, strings);
        w.AddMx(Section::kAnswer, q.name.wire(), 60, 10, q.name.wire());
        w.AddSrv(Section::kAnswer, q.name.wire(), 60, srv);
      }
      w.AddSoa(Section::kAuthority, q.lower.wire(), 60, soa);
      w.AddRaw(Section::kAdditional, q.lower.wire(), 99, rrclass::kIn, 0, in.first(in.size() / 4));
      w.AddA(Section::kAdditional, q.name.wire(), 60, {1, 2, 3, 4});
      wire = w.Finish();
      Check(w.ok() || w.error() == WriteError::kNoSpace);
      if (!w.ok()) Check(wire.empty());
    }
  } else {
    wire = WriteErrorResponse(q, action, out);
    if (action == QueryAction::kDrop) Check(wire.empty());
    const size_t udp = ResponseUdpSize(q.has_edns, q.edns.udp_payload_size, kDefaultMaxUdpSize);
    limit = capacity < udp ? capacity : udp;
  }
  for (size_t i = capacity; i < storage.size(); ++i) Check(storage[i] == kGuardByte);
  if (wire.empty()) return 0;
  Check(wire.data() == out.data() && wire.size() <= capacity && wire.size() <= limit);

  Message m;
  Check(Message::Parse(wire, &m) == ParseError::kOk);
  Check(m.id == q.header.id);
  Check(m.flags.qr());
  if (q.has_question) {
    Check(m.questions.size() == 1);
    Check(m.questions[0].name == q.name);
    Check(std::memcmp(wire.data() + 12, in.data() + 12, q.question_end - 12) == 0);
  }
  Check(m.edns.has_value() == q.has_edns);
  return 0;
}
