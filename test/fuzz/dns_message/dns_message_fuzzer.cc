// Fuzz target for the dns codec's full-message path: the Reader and every rdata decoder on
// arbitrary bytes, and Message::Parse; on success Serialize must succeed or say it does not fit,
// parse back to an equal Message (the round-trip property), and serialize again to the same
// bytes. A truncating Serialize into 512 bytes must parse back too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "meshvpn/dns/edns.h"
#include "meshvpn/dns/message.h"
#include "meshvpn/dns/rdata.h"
#include "meshvpn/dns/reader.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

using namespace meshvpn::dns;

// Walks the message with the zero-copy reader; every view must stay inside the input.
void Walk(meshvpn::ByteSpan in) {
  Reader r;
  if (r.Start(in) != ParseError::kOk) return;
  QuestionView q;
  Name name;
  while (r.questions_left() > 0) {
    if (r.NextQuestion(&q) != ParseError::kOk) return;
    Check(r.ReadName(q.name_offset, &name) == ParseError::kOk);
  }
  RecordView rv;
  while (r.records_left() > 0) {
    if (r.NextRecord(&rv) != ParseError::kOk) return;
    Check(r.ReadName(rv.name_offset, &name) == ParseError::kOk);
    Check(rv.rdata.data() >= in.data() &&
          rv.rdata.data() + rv.rdata.size() <= in.data() + in.size());
    std::array<uint8_t, 4> a;
    std::array<uint8_t, 16> aaaa;
    SoaData soa;
    MxData mx;
    SrvData srv;
    Opt opt;
    (void)DecodeA(rv, &a);
    (void)DecodeAaaa(rv, &aaaa);
    (void)DecodeNameRdata(rv, &name);
    (void)DecodeSoa(rv, &soa);
    (void)DecodeMx(rv, &mx);
    (void)DecodeSrv(rv, &srv);
    (void)ValidateTxt(rv.rdata);
    if (DecodeOpt(rv, &opt) == ParseError::kOk) {
      OptionReader o(opt.options);
      uint16_t code = 0;
      meshvpn::ByteSpan data;
      while (o.Next(&code, &data)) {
        Check(data.data() + data.size() <= in.data() + in.size());
      }
      Check(o.ok());
    }
  }
  Check(r.offset() <= in.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const meshvpn::ByteSpan in(data, size);
  Walk(in);
  Message m;
  const ParseError err = Message::Parse(in, &m);
  Check(!ToString(err).empty());
  if (err != ParseError::kOk) return 0;
  (void)ToString(m);

  auto wire = m.Serialize();
  if (!wire.ok()) {
    // Only size can stop a parsed message from serializing (names decompressed, SRV targets
    // and raw rdata kept as they are).
    Check(wire.status().code() == absl::StatusCode::kResourceExhausted);
  } else {
    Message again;
    Check(Message::Parse(*wire, &again) == ParseError::kOk);
    Check(again == m);
    auto wire2 = again.Serialize();
    Check(wire2.ok() && *wire2 == *wire);
  }

  SerializeOptions udp;
  udp.max_size = 512;
  udp.truncate = true;
  auto cut = m.Serialize(udp);
  if (cut.ok()) {
    Check(cut->size() <= 512);
    Message small;
    Check(Message::Parse(*cut, &small) == ParseError::kOk);
    Check(small.questions == m.questions);
    Check(small.answers.size() <= m.answers.size());
  } else {
    Check(cut.status().code() == absl::StatusCode::kResourceExhausted);
  }
  return 0;
}
