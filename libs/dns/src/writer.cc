#include "meshvpn/dns/writer.h"

#include <algorithm>
#include <cstring>

namespace meshvpn::dns {

std::string_view ToString(WriteError e) {
  switch (e) {
    case WriteError::kOk:
      return "ok";
    case WriteError::kNotStarted:
      return "not started";
    case WriteError::kNoSpace:
      return "no space";
    case WriteError::kBadName:
      return "malformed name";
    case WriteError::kBadOrder:
      return "out of order";
    case WriteError::kValueTooLong:
      return "value too long";
    case WriteError::kNotInRecord:
      return "not in a record";
  }
  return "unknown";
}

MessageWriter::MessageWriter(MutableByteSpan out)
    : out_(out), capacity_(std::min(out.size(), kMaxMessageSize)), limit_(capacity_) {}

bool MessageWriter::Fail(WriteError e) {
  if (error_ == WriteError::kOk) error_ = e;
  in_record_ = false;
  return false;
}

bool MessageWriter::Start(uint16_t id, Flags flags) {
  size_ = 0;
  reserved_ = 0;
  limit_ = capacity_;
  flags_ = flags;
  id_ = id;
  rcode_ = flags.rcode();
  counts_ = {};
  section_ = Section::kQuestion;
  has_opt_ = false;
  opt_ = {};
  started_ = true;
  finished_ = false;
  truncated_ = false;
  dropped_additional_ = 0;
  in_record_ = false;
  record_overflow_ = false;
  table_.Clear();
  error_ = WriteError::kOk;
  if (capacity_ < kHeaderSize) return Fail(WriteError::kNoSpace);
  size_ = kHeaderSize;  // the header itself is written by Finish
  return true;
}

void MessageWriter::set_limit(size_t limit) { limit_ = std::min(limit, capacity_); }

bool MessageWriter::SetOpt(const Opt& opt) {
  if (!ok()) return false;
  if (finished_ || in_record_) return Fail(WriteError::kBadOrder);
  if (size_ + opt.WireSize() > limit_) return Fail(WriteError::kNoSpace);
  opt_ = opt;
  has_opt_ = true;
  reserved_ = opt.WireSize();
  rcode_ = static_cast<uint16_t>((uint16_t{opt.extended_rcode} << 4) | (rcode_ & 0xf));
  return true;
}

void MessageWriter::set_rcode(uint16_t rcode) {
  rcode_ = rcode & 0xfff;
  flags_.set_rcode(rcode);
}

bool MessageWriter::Room(size_t n) {
  if (size_ + n > capacity_) {
    record_overflow_ = true;
    return false;
  }
  return true;
}

bool MessageWriter::WriteName(ByteSpan name, bool compress) {
  std::array<uint8_t, kMaxNameLength / 2 + 1> starts;
  size_t labels = 0;
  size_t pos = 0;
  while (true) {
    if (pos >= name.size() || name.size() > kMaxNameLength) return Fail(WriteError::kBadName);
    const uint8_t len = name[pos];
    if (len == 0) break;
    if (len > kMaxLabelLength) return Fail(WriteError::kBadName);
    starts[labels++] = static_cast<uint8_t>(pos);
    pos += size_t{len} + 1;
  }
  if (pos + 1 != name.size()) return Fail(WriteError::kBadName);
  const std::span<const uint8_t> label_starts(starts.data(), labels);
  size_t label = labels;
  uint16_t target = 0;
  const bool found =
      compress && table_.Find(out_.first(size_), name, label_starts, &label, &target);
  const size_t in_place = found ? starts[label] : name.size();
  if (!Room(in_place + (found ? 2 : 0))) return true;  // rolled back by EndRecord
  uint8_t* p = out_.data() + size_;
  std::memcpy(p, name.data(), in_place);
  table_.Add(size_, name, label_starts, found ? label : labels);
  size_ += in_place;
  if (found) {
    StoreU16(p + in_place, static_cast<uint16_t>(0xc000 | target));
    size_ += 2;
  }
  return true;
}

bool MessageWriter::AddQuestion(ByteSpan name, uint16_t type, uint16_t qclass) {
  if (!ok()) return false;
  if (finished_ || in_record_ || section_ != Section::kQuestion) {
    return Fail(WriteError::kBadOrder);
  }
  const size_t mark = size_;
  record_overflow_ = false;
  if (!WriteName(name, true)) return false;
  if (record_overflow_ || !Room(4) || size_ + 4 + reserved_ > limit_) {
    size_ = mark;
    table_.Truncate(mark);
    return Fail(WriteError::kNoSpace);
  }
  StoreU16(out_.data() + size_, type);
  StoreU16(out_.data() + size_ + 2, qclass);
  size_ += 4;
  ++counts_[static_cast<size_t>(Section::kQuestion)];
  return true;
}

bool MessageWriter::BeginRecord(Section s, ByteSpan owner, uint16_t type, uint16_t rrclass,
                                uint32_t ttl) {
  if (!ok()) return false;
  if (finished_ || in_record_ || s == Section::kQuestion || s < section_) {
    return Fail(WriteError::kBadOrder);
  }
  section_ = s;
  if (truncated_) return false;  // refused; its Put*s and EndRecord do nothing
  record_start_ = size_;
  record_section_ = s;
  record_overflow_ = false;
  in_record_ = true;
  if (!WriteName(owner, true)) return false;
  if (Room(kRecordFixedSize)) {
    uint8_t* p = out_.data() + size_;
    StoreU16(p, type);
    StoreU16(p + 2, rrclass);
    StoreU32(p + 4, ttl);
    StoreU16(p + 8, 0);
    size_ += kRecordFixedSize;
  }
  rdata_start_ = size_;
  return true;
}

void MessageWriter::PutU16(uint16_t v) {
  if (!in_record_ || record_overflow_ || !Room(2)) return;
  StoreU16(out_.data() + size_, v);
  size_ += 2;
}

void MessageWriter::PutU32(uint32_t v) {
  if (!in_record_ || record_overflow_ || !Room(4)) return;
  StoreU32(out_.data() + size_, v);
  size_ += 4;
}

void MessageWriter::PutBytes(ByteSpan b) {
  if (!in_record_ || record_overflow_ || !Room(b.size())) return;
  if (!b.empty()) std::memcpy(out_.data() + size_, b.data(), b.size());
  size_ += b.size();
}

void MessageWriter::PutName(ByteSpan name, bool compress) {
  if (!in_record_ || record_overflow_) return;
  (void)WriteName(name, compress);
}

void MessageWriter::PutCharacterString(std::string_view s) {
  if (!in_record_ || record_overflow_) return;
  if (s.size() > 255) {
    Fail(WriteError::kValueTooLong);
    return;
  }
  if (!Room(1 + s.size())) return;
  out_[size_] = static_cast<uint8_t>(s.size());
  if (!s.empty()) std::memcpy(out_.data() + size_ + 1, s.data(), s.size());
  size_ += 1 + s.size();
}

bool MessageWriter::EndRecord() {
  if (!ok()) return false;
  if (!in_record_) return truncated_ ? false : Fail(WriteError::kNotInRecord);
  in_record_ = false;
  if (record_overflow_ || size_ + reserved_ > limit_) {
    size_ = record_start_;
    table_.Truncate(record_start_);
    if (record_section_ == Section::kAdditional) {
      ++dropped_additional_;
    } else {
      truncated_ = true;
      flags_.set_tc(true);
    }
    return false;
  }
  StoreU16(out_.data() + rdata_start_ - 2, static_cast<uint16_t>(size_ - rdata_start_));
  ++counts_[static_cast<size_t>(record_section_)];
  return true;
}

ByteSpan MessageWriter::Finish() {
  if (!ok()) return {};
  if (finished_) return out_.first(size_);
  if (in_record_) {
    Fail(WriteError::kNotInRecord);
    return {};
  }
  if (has_opt_) {
    // Room was reserved by SetOpt and kept free by every record since.
    uint8_t* p = out_.data() + size_;
    p[0] = 0;
    StoreU16(p + 1, rrtype::kOpt);
    StoreU16(p + 3, opt_.udp_payload_size);
    const uint32_t ttl = (uint32_t{static_cast<uint8_t>(rcode_ >> 4)} << 24) |
                         (uint32_t{opt_.version} << 16) | opt_.flags;
    StoreU32(p + 5, ttl);
    StoreU16(p + 9, static_cast<uint16_t>(opt_.options.size()));
    if (!opt_.options.empty()) {
      std::memcpy(p + kOptFixedSize, opt_.options.data(), opt_.options.size());
    }
    size_ += opt_.WireSize();
    reserved_ = 0;
    ++counts_[static_cast<size_t>(Section::kAdditional)];
  }
  Header h;
  h.id = id_;
  h.flags = flags_;
  h.qdcount = counts_[0];
  h.ancount = counts_[1];
  h.nscount = counts_[2];
  h.arcount = counts_[3];
  WriteHeader(h, out_);
  finished_ = true;
  return out_.first(size_);
}

bool MessageWriter::AddA(Section s, ByteSpan owner, uint32_t ttl,
                         const std::array<uint8_t, 4>& address) {
  if (!BeginRecord(s, owner, rrtype::kA, rrclass::kIn, ttl)) return false;
  PutBytes(address);
  return EndRecord();
}

bool MessageWriter::AddAaaa(Section s, ByteSpan owner, uint32_t ttl,
                            const std::array<uint8_t, 16>& address) {
  if (!BeginRecord(s, owner, rrtype::kAaaa, rrclass::kIn, ttl)) return false;
  PutBytes(address);
  return EndRecord();
}

bool MessageWriter::AddNameRecord(Section s, ByteSpan owner, uint16_t type, uint32_t ttl,
                                  ByteSpan target) {
  if (!BeginRecord(s, owner, type, rrclass::kIn, ttl)) return false;
  PutName(target, CompressibleRdata(type));
  return EndRecord();
}

bool MessageWriter::AddSoa(Section s, ByteSpan owner, uint32_t ttl, const SoaData& soa) {
  if (!BeginRecord(s, owner, rrtype::kSoa, rrclass::kIn, ttl)) return false;
  PutName(soa.mname.wire(), true);
  PutName(soa.rname.wire(), true);
  PutU32(soa.serial);
  PutU32(soa.refresh);
  PutU32(soa.retry);
  PutU32(soa.expire);
  PutU32(soa.minimum);
  return EndRecord();
}

bool MessageWriter::AddMx(Section s, ByteSpan owner, uint32_t ttl, uint16_t preference,
                          ByteSpan exchange) {
  if (!BeginRecord(s, owner, rrtype::kMx, rrclass::kIn, ttl)) return false;
  PutU16(preference);
  PutName(exchange, true);
  return EndRecord();
}

bool MessageWriter::AddSrv(Section s, ByteSpan owner, uint32_t ttl, const SrvData& srv) {
  if (!BeginRecord(s, owner, rrtype::kSrv, rrclass::kIn, ttl)) return false;
  PutU16(srv.priority);
  PutU16(srv.weight);
  PutU16(srv.port);
  PutName(srv.target.wire(), false);
  return EndRecord();
}

bool MessageWriter::AddTxt(Section s, ByteSpan owner, uint32_t ttl,
                           std::span<const std::string_view> strings) {
  if (!BeginRecord(s, owner, rrtype::kTxt, rrclass::kIn, ttl)) return false;
  for (std::string_view str : strings) PutCharacterString(str);
  return EndRecord();
}

bool MessageWriter::AddRaw(Section s, ByteSpan owner, uint16_t type, uint16_t rrclass, uint32_t ttl,
                           ByteSpan rdata) {
  if (!BeginRecord(s, owner, type, rrclass, ttl)) return false;
  PutBytes(rdata);
  return EndRecord();
}

}  // namespace meshvpn::dns
