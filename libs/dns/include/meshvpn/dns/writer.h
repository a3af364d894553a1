// MessageWriter: encodes a DNS message into a caller-provided buffer, with name compression, a
// size limit (the client's UDP size) that truncates cleanly at record boundaries and sets TC,
// and the OPT record last. No allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/dns/compression.h"
#include "meshvpn/dns/edns.h"
#include "meshvpn/dns/rdata.h"
#include "meshvpn/dns/reader.h"
#include "meshvpn/dns/wire.h"

namespace meshvpn::dns {

enum class WriteError : uint8_t {
  kOk,
  kNotStarted,    // Start() was not called
  kNoSpace,       // the header, a question or the reserved OPT does not fit the limit
  kBadName,       // a name that is not valid uncompressed wire form
  kBadOrder,      // a question after records, or a record of an earlier section
  kValueTooLong,  // a TXT string over 255 bytes
  kNotInRecord,   // Put* or EndRecord without BeginRecord
};
std::string_view ToString(WriteError e);

// Usage (what the server's fast path does through BeginResponse, response.h):
//   std::array<uint8_t, 1232> buf;
//   MessageWriter w(buf);
//   w.Start(id, flags);
//   w.set_limit(512);                       // or the EDNS size: ResponseUdpSize(...)
//   w.SetOpt(opt);                          // if the query had EDNS; written by Finish, last
//   w.AddQuestion(qname, rrtype::kA, rrclass::kIn);
//   w.AddA(Section::kAnswer, qname, 300, {100, 64, 0, 5});   // owner: a pointer to the question
//   ByteSpan wire = w.Finish();             // empty after an error
//
// Records are atomic. One that would pass the limit is rolled back (the compression table too)
// and not counted: in the answer or authority section that sets TC and every later record is
// refused (truncated() is true); in the additional section it is just left out (RFC 2181 9:
// TC is not set for optional data) and later additional records may still fit. Add* return
// true only when the record was written. Errors are sticky.
class MessageWriter {
 public:
  // The buffer is used up to kMaxMessageSize bytes.
  explicit MessageWriter(MutableByteSpan out);

  // Begins a message (counts zero until Finish), forgetting anything written before.
  bool Start(uint16_t id, Flags flags);
  // The largest message allowed, at most the buffer; default the buffer. Call before records.
  void set_limit(size_t limit);
  size_t limit() const { return limit_; }
  // Reserves room for an OPT record now (kNoSpace if even that fails) and writes it at the end
  // of the additional section in Finish. Its options are copied then, so they must stay valid.
  bool SetOpt(const Opt& opt);
  // The full rcode: its low 4 bits go in the header, its high 8 in the OPT record (if any).
  void set_rcode(uint16_t rcode);
  Flags& flags() { return flags_; }

  bool AddQuestion(ByteSpan name, uint16_t type, uint16_t qclass);

  // Typed records of class IN. Names are uncompressed wire names (Name::wire()); owners and the
  // names inside NS/CNAME/PTR/SOA/MX rdata are compressed, SRV targets are not.
  bool AddA(Section s, ByteSpan owner, uint32_t ttl, const std::array<uint8_t, 4>& address);
  bool AddAaaa(Section s, ByteSpan owner, uint32_t ttl, const std::array<uint8_t, 16>& address);
  // NS, CNAME, PTR (or any type whose rdata is one name).
  bool AddNameRecord(Section s, ByteSpan owner, uint16_t type, uint32_t ttl, ByteSpan target);
  bool AddSoa(Section s, ByteSpan owner, uint32_t ttl, const SoaData& soa);
  bool AddMx(Section s, ByteSpan owner, uint32_t ttl, uint16_t preference, ByteSpan exchange);
  bool AddSrv(Section s, ByteSpan owner, uint32_t ttl, const SrvData& srv);
  bool AddTxt(Section s, ByteSpan owner, uint32_t ttl, std::span<const std::string_view> strings);
  // Any type and class with rdata as given (never looked into).
  bool AddRaw(Section s, ByteSpan owner, uint16_t type, uint16_t rrclass, uint32_t ttl,
              ByteSpan rdata);

  // The general form behind those: BeginRecord, Put* the rdata, EndRecord (which reports whether
  // the record was kept). When BeginRecord returns false the Put*s and EndRecord do nothing.
  bool BeginRecord(Section s, ByteSpan owner, uint16_t type, uint16_t rrclass, uint32_t ttl);
  void PutU16(uint16_t v);
  void PutU32(uint32_t v);
  void PutBytes(ByteSpan b);
  void PutName(ByteSpan name, bool compress);
  void PutCharacterString(std::string_view s);
  bool EndRecord();

  // Writes the OPT record and the counts; returns the message, or an empty span after an error.
  // Nothing may be added afterwards (Start begins anew).
  ByteSpan Finish();

  WriteError error() const { return error_; }
  bool ok() const { return error_ == WriteError::kOk; }
  // True once an answer or authority record did not fit (TC is set).
  bool truncated() const { return truncated_; }
  // Additional records left out for lack of room (no TC).
  size_t dropped_additional() const { return dropped_additional_; }
  // Bytes written so far (records in progress included).
  size_t size() const { return size_; }
  uint16_t count(Section s) const { return counts_[static_cast<size_t>(s)]; }

 private:
  bool Fail(WriteError e);
  // Writes a name at size_ (compressed against the table if asked); false if it is malformed.
  bool WriteName(ByteSpan name, bool compress);
  bool Room(size_t n);

  MutableByteSpan out_;
  size_t capacity_ = 0;
  size_t limit_ = 0;
  size_t size_ = 0;
  size_t reserved_ = 0;  // the OPT record's size, kept free
  Flags flags_;
  uint16_t id_ = 0;
  uint16_t rcode_ = 0;
  std::array<uint16_t, 4> counts_{};
  Section section_ = Section::kQuestion;
  bool has_opt_ = false;
  Opt opt_;
  bool started_ = false;
  bool finished_ = false;
  bool truncated_ = false;
  size_t dropped_additional_ = 0;
  // The record being written: where it began (rollback point) and where its rdata begins.
  bool in_record_ = false;
  bool record_overflow_ = false;
  Section record_section_ = Section::kAnswer;
  size_t record_start_ = 0;
  size_t rdata_start_ = 0;
  WriteError error_ = WriteError::kNotStarted;
  CompressionTable table_;
};

}  // namespace meshvpn::dns
