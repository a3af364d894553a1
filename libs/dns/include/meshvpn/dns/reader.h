// Reading DNS messages without copying: the header, questions and records walked in order over
// the caller's bytes, every name checked (and decompressed on request) under the safety rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "meshvpn/base/bytes.h"
#include "meshvpn/dns/name.h"
#include "meshvpn/dns/parse_error.h"
#include "meshvpn/dns/wire.h"

namespace meshvpn::dns {

// At most this many compression pointers are followed in one name. Each must point before the
// last, so loops end anyway; this bounds the work on a chain of pointers to pointers.
inline constexpr size_t kMaxPointers = 127;

// Reads the possibly compressed name that starts at `offset` in `message`.
// Safety rules (RFC 1035 4.1.4 and what attacks on parsers taught):
//   - every byte read lies inside `message`; the labels before the first pointer lie before
//     `in_place_end` (the end of an rdata, for a name inside one);
//   - a length byte 0x40..0xBF is rejected (kBadLabelType), so labels are at most 63 bytes;
//   - a pointer must land at or after the header and inside the message (kPointerOutOfRange),
//     and strictly before the start of the labels it ends (kForwardPointer): targets strictly
//     decrease, which rules out loops; at most kMaxPointers of them;
//   - the uncompressed name is at most 255 bytes (kNameTooLong).
// `out` and `lower` (each null or kMaxNameLength bytes) receive the uncompressed wire form as
// sent and lowercased. *end is the offset just after the name in place (after its first
// pointer, or its root label), *wire_size the uncompressed length. No allocation.
ParseError DecodeName(ByteSpan message, size_t offset, size_t in_place_end, uint8_t* out,
                      uint8_t* lower, size_t* end, size_t* wire_size);
// The same into a Name (case as sent).
ParseError DecodeName(ByteSpan message, size_t offset, size_t in_place_end, Name* out, size_t* end);

enum class Section : uint8_t { kQuestion, kAnswer, kAuthority, kAdditional };
std::string_view ToString(Section s);

// A question as found: its name is referenced, not copied (decode it with Reader::ReadName).
struct QuestionView {
  size_t name_offset = 0;
  uint16_t type = 0;
  uint16_t qclass = 0;
};

// A resource record as found. `message` is the whole message, so that names inside the rdata
// (which may point anywhere before them) can be decoded: see rdata.h.
struct RecordView {
  ByteSpan message;
  Section section = Section::kAnswer;
  size_t name_offset = 0;  // the owner name, possibly compressed
  uint16_t type = 0;
  uint16_t rrclass = 0;
  uint32_t ttl = 0;
  size_t rdata_offset = 0;
  ByteSpan rdata;
};

// Walks a message: Start, then NextQuestion header().qdcount times, then NextRecord for the
// answer, authority and additional records in turn. Each item's name is fully checked before it
// is returned, so a view's names always decode. Errors are sticky: after one, every call returns
// it, and error_offset() says where it was found. Nothing is copied or allocated; the message
// must outlive the reader and its views.
//
//   Reader r;
//   if (r.Start(bytes) != ParseError::kOk) ...;
//   QuestionView q;  while (r.questions_left() > 0) { if (r.NextQuestion(&q) != kOk) ...; }
//   RecordView rr;   while (r.records_left() > 0)   { if (r.NextRecord(&rr) != kOk) ...; }
//   // r.offset() is now the end of the last record; bytes after it are r.trailing_bytes().
class Reader {
 public:
  // Reads the header and checks the counts against the size: each question needs at least 5
  // bytes and each record 11 (kCountsTooLarge otherwise, before anything else is read).
  ParseError Start(ByteSpan message);

  const Header& header() const { return header_; }
  ByteSpan message() const { return message_; }
  size_t questions_left() const { return questions_left_; }
  size_t records_left() const { return records_left_; }
  // Where the next item starts.
  size_t offset() const { return offset_; }
  size_t trailing_bytes() const { return message_.size() - offset_; }
  ParseError error() const { return error_; }
  size_t error_offset() const { return error_offset_; }

  ParseError NextQuestion(QuestionView* q);
  // The next record; skips (and checks) any questions not yet read.
  ParseError NextRecord(RecordView* r);

  // Decodes a name a view refers to (case as sent).
  ParseError ReadName(size_t offset, Name* out) const;

 private:
  ParseError Fail(ParseError e, size_t at) {
    error_ = e;
    error_offset_ = at;
    return e;
  }
  Section SectionOfNext() const;

  ByteSpan message_;
  Header header_;
  size_t offset_ = 0;
  size_t questions_left_ = 0;
  size_t records_left_ = 0;
  ParseError error_ = ParseError::kTooShort;
  size_t error_offset_ = 0;
};

}  // namespace meshvpn::dns
