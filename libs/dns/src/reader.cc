#include "meshvpn/dns/reader.h"

#include <cstring>

namespace meshvpn::dns {

ParseError DecodeName(ByteSpan message, size_t offset, size_t in_place_end, uint8_t* out,
                      uint8_t* lower, size_t* end, size_t* wire_size) {
  const uint8_t* m = message.data();
  size_t limit = in_place_end < message.size() ? in_place_end : message.size();
  size_t pos = offset;
  size_t segment_start = offset;
  size_t written = 0;  // uncompressed bytes so far, root excluded
  size_t jumps = 0;
  size_t in_place_end_of_name = 0;
  while (true) {
    if (pos >= limit) return ParseError::kTruncated;
    const uint8_t b = m[pos];
    if (b == 0) {
      if (out != nullptr) out[written] = 0;
      if (lower != nullptr) lower[written] = 0;
      if (jumps == 0) in_place_end_of_name = pos + 1;
      *end = in_place_end_of_name;
      *wire_size = written + 1;
      return ParseError::kOk;
    }
    if ((b & 0xc0) == 0xc0) {
      if (pos + 1 >= limit) return ParseError::kTruncated;
      const size_t target = (size_t{b & 0x3fu} << 8) | m[pos + 1];
      if (jumps == 0) in_place_end_of_name = pos + 2;
      if (target < kHeaderSize || target >= message.size()) return ParseError::kPointerOutOfRange;
      if (target >= segment_start) return ParseError::kForwardPointer;
      if (++jumps > kMaxPointers) return ParseError::kTooManyPointers;
      segment_start = pos = target;
      limit = message.size();  // only the in-place labels are bound by in_place_end
      continue;
    }
    if (b > kMaxLabelLength) return ParseError::kBadLabelType;
    const size_t len = b;
    if (pos + 1 + len > limit) return ParseError::kTruncated;
    // The label, its length byte and the root label after it must fit in 255 bytes.
    if (written + 1 + len + 1 > kMaxNameLength) return ParseError::kNameTooLong;
    if (out != nullptr) std::memcpy(out + written, m + pos, len + 1);
    if (lower != nullptr) {
      lower[written] = b;
      for (size_t i = 1; i <= len; ++i) lower[written + i] = AsciiLower(m[pos + i]);
    }
    written += len + 1;
    pos += len + 1;
  }
}

ParseError DecodeName(ByteSpan message, size_t offset, size_t in_place_end, Name* out,
                      size_t* end) {
  size_t size = 0;
  const ParseError e =
      DecodeName(message, offset, in_place_end, out->mutable_data(), nullptr, end, &size);
  if (e == ParseError::kOk) out->set_size(size);
  return e;
}

std::string_view ToString(Section s) {
  switch (s) {
    case Section::kQuestion:
      return "question";
    case Section::kAnswer:
      return "answer";
    case Section::kAuthority:
      return "authority";
    case Section::kAdditional:
      return "additional";
  }
  return "unknown";
}

ParseError Reader::Start(ByteSpan message) {
  message_ = message;
  offset_ = 0;
  questions_left_ = records_left_ = 0;
  if (message.size() < kHeaderSize) return Fail(ParseError::kTooShort, 0);
  if (message.size() > kMaxMessageSize) return Fail(ParseError::kTooLong, 0);
  header_ = ReadHeader(message);
  const size_t records = size_t{header_.ancount} + header_.nscount + header_.arcount;
  const size_t need = size_t{header_.qdcount} * kMinQuestionSize + records * kMinRecordSize;
  if (need > message.size() - kHeaderSize) return Fail(ParseError::kCountsTooLarge, 4);
  questions_left_ = header_.qdcount;
  records_left_ = records;
  offset_ = kHeaderSize;
  error_ = ParseError::kOk;
  return error_;
}

ParseError Reader::NextQuestion(QuestionView* q) {
  if (error_ != ParseError::kOk) return error_;
  if (questions_left_ == 0) return Fail(ParseError::kTruncated, offset_);
  size_t end = 0, size = 0;
  const ParseError e =
      DecodeName(message_, offset_, message_.size(), nullptr, nullptr, &end, &size);
  if (e != ParseError::kOk) return Fail(e, offset_);
  if (end + 4 > message_.size()) return Fail(ParseError::kTruncated, end);
  q->name_offset = offset_;
  q->type = LoadU16(message_.data() + end);
  q->qclass = LoadU16(message_.data() + end + 2);
  offset_ = end + 4;
  --questions_left_;
  return ParseError::kOk;
}

Section Reader::SectionOfNext() const {
  const size_t done = size_t{header_.ancount} + header_.nscount + header_.arcount - records_left_;
  if (done < header_.ancount) return Section::kAnswer;
  if (done < size_t{header_.ancount} + header_.nscount) return Section::kAuthority;
  return Section::kAdditional;
}

ParseError Reader::NextRecord(RecordView* r) {
  if (error_ != ParseError::kOk) return error_;
  QuestionView q;
  while (questions_left_ > 0) {
    if (NextQuestion(&q) != ParseError::kOk) return error_;
  }
  if (records_left_ == 0) return Fail(ParseError::kTruncated, offset_);
  size_t end = 0, size = 0;
  const ParseError e =
      DecodeName(message_, offset_, message_.size(), nullptr, nullptr, &end, &size);
  if (e != ParseError::kOk) return Fail(e, offset_);
  if (end + kRecordFixedSize > message_.size()) return Fail(ParseError::kTruncated, end);
  const uint8_t* p = message_.data() + end;
  const size_t rdlength = LoadU16(p + 8);
  const size_t rdata_offset = end + kRecordFixedSize;
  if (rdata_offset + rdlength > message_.size()) return Fail(ParseError::kTruncated, end + 8);
  r->message = message_;
  r->section = SectionOfNext();
  r->name_offset = offset_;
  r->type = LoadU16(p);
  r->rrclass = LoadU16(p + 2);
  r->ttl = LoadU32(p + 4);
  r->rdata_offset = rdata_offset;
  r->rdata = message_.subspan(rdata_offset, rdlength);
  offset_ = rdata_offset + rdlength;
  --records_left_;
  return ParseError::kOk;
}

ParseError Reader::ReadName(size_t offset, Name* out) const {
  size_t end = 0;
  return DecodeName(message_, offset, message_.size(), out, &end);
}

}  // namespace meshvpn::dns
