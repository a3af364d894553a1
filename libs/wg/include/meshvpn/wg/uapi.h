// WireGuard's cross-platform userspace API (https://www.wireguard.com/xplatform/), the text
// protocol `wg` speaks to a userspace device over /var/run/wireguard/<name>.sock, as a sans-I/O
// codec: the set=1 parser, the get=1 formatter (and their inverses), errno replies, and a framer
// that cuts a byte stream into requests.
//
// One exchange (each line ends in "\n"; a blank line ends a request and a reply):
//
//   client: get=1 | (blank)                    server: <FormatUapiGet> | errno=0 | (blank)
//   client: set=1 | key=value ... | (blank)    server: errno=0 | (blank)   or errno=-22 ...
//
// Who writes the errno trailer: the socket server, never the formatter. FormatUapiGet returns
// only the key=value lines; the server appends UapiErrnoLine(0) after them, or writes only
// UapiErrnoLine(UapiErrno(status)) when an operation failed. One place writes the trailer for both
// operations and for framing errors.
//
// Secrets: a set=1 body and a get=1 reply carry the private and preshared keys in hex. Nothing
// here logs; error messages name the line and the key but never echo a key's value. Wipe the
// strings that hold keys (SecureWipe) once written.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/wg/device_config.h"

namespace meshvpn::wg {

// Parses the body of a set=1 request: the lines after "set=1" up to (not including) the blank
// line. A trailing blank line is accepted; anything after it is an error. Lines end in "\n" (a
// "\r" before it is dropped, as wireguard-go's line scanner does). Keys, as wireguard-go:
//   device: private_key (hex; all zeros removes it), listen_port, fwmark, replace_peers=true
//   peer:   public_key (hex; starts a peer), remove=true, update_only=true, preshared_key (hex;
//           all zeros removes it), endpoint (numeric "1.2.3.4:5" / "[v6]:5"),
//           persistent_keepalive_interval (0..65535 s), replace_allowed_ips=true,
//           allowed_ip (address/length, the length is required), protocol_version (must be 1)
// A device key after the first public_key, a peer key before it, an unknown key, a bad value and
// a line without '=' are errors: InvalidArgument "line N: <key>: what is wrong", with line 1 the
// first line of the body. replace_allowed_ips after allowed_ip lines drops them, as wireguard-go
// applying the lines in order would. UapiErrno() of an error is EPROTO for a line without '=' and
// EINVAL for everything else (wireguard-go's codes; it also answers EINVAL, not EPROTO, for a
// protocol_version other than 1).
absl::StatusOr<DeviceConfigUpdate> ParseUapiSet(std::string_view body);

// The inverse of ParseUapiSet: a set=1 body (without "set=1" and without the blank line) that
// ParseUapiSet reads back to the same update. Per peer the order is public_key, update_only,
// remove, preshared_key, endpoint, persistent_keepalive_interval, replace_allowed_ips,
// allowed_ip... For clients (a `wg setconf` equivalent) and round-trip tests.
std::string FormatUapiSet(const DeviceConfigUpdate& update);

// The get=1 reply body in wireguard-go's order, without the errno trailer (see above):
//   private_key (only if set and nonzero), listen_port (only if nonzero), fwmark (only if
//   nonzero), then per peer: public_key, preshared_key (always, zeros when none, as
//   wireguard-go), protocol_version=1, endpoint (if known), last_handshake_time_sec,
//   last_handshake_time_nsec (0 and 0: never; a time before 1970 also prints as 0 and 0),
//   tx_bytes, rx_bytes, persistent_keepalive_interval, allowed_ip...
std::string FormatUapiGet(const DeviceStatus& status);

// Reads a get=1 reply back (for clients, tools and tests). Takes the body alone or followed by
// an "errno=N" line and a blank line; a nonzero errno gives an error whose UapiErrno() is |N|.
// Keys may come in any order within their section; unknown keys are skipped (a newer server may
// add some), malformed values of known keys are InvalidArgument naming the line. A zero
// last_handshake_time reads as "no handshake". FormatUapiGet's output reads back to an equal
// status.
absl::StatusOr<DeviceStatus> ParseUapiGet(std::string_view reply);

// The errno a reply reports for `status`, as a positive number: 0 for OK; the value attached by
// WithUapiErrno if any; otherwise by code: InvalidArgument and OutOfRange -> EINVAL (22),
// AlreadyExists -> EADDRINUSE (98, a port already bound), anything else -> EIO (5).
int UapiErrno(const absl::Status& status);
// `status` (not OK) with an errno for UapiErrno to report, kept as a status payload.
absl::Status WithUapiErrno(absl::Status status, int error_number);
// The reply trailer: "errno=0\n\n" for 0, "errno=-22\n\n" for 22. wireguard-go writes the
// negated errno and `wg` negates it back, so pass the positive value UapiErrno returns.
std::string UapiErrnoLine(int error_number);

// One request cut out of the socket's byte stream.
struct UapiRequest {
  enum class Kind { kGet, kSet };
  Kind kind = Kind::kGet;
  // kSet: the lines between "set=1" and the blank line, each with its "\n" (empty for a set=1
  // that changes nothing). kGet: empty. Holds keys: wipe it once parsed.
  std::string body;
};

// Cuts a UAPI byte stream into requests, sans-I/O: the socket server feeds whatever it reads
// and takes out complete requests. A request is "get=1\n\n", or "set=1\n" followed by lines up to
// a blank one ("\n", or "\r\n" as wireguard-go's scanner also accepts). Several requests may be
// pipelined on one connection.
//
//   UapiRequestReader reader;
//   on read(bytes):  absl::Status s = reader.Feed(bytes);
//                    while (auto request = reader.Next()) { handle it; write its reply; }
//                    if (!s.ok()) { write UapiErrnoLine(UapiErrno(s)); close; }
//
// Requests completed before an error are still returned by Next(). Errors (the reader then stays
// failed; answer and close the connection):
//   - the first line is not "get=1" or "set=1" (reported as soon as the bytes cannot become one):
//     InvalidArgument, EPROTO (wireguard-go closes without an answer)
//   - "get=1\n" not followed by "\n": InvalidArgument, EINVAL (as wireguard-go)
//   - a request longer than kMaxRequestSize bytes: ResourceExhausted, EMSGSIZE
// At end of stream a partial request is simply dropped (idle() tells whether there is one):
// unlike wireguard-go, a set cut short is not applied.
// Secrets: buffers that held request bytes are wiped when released (also when they grow).
class UapiRequestReader {
 public:
  static constexpr size_t kMaxRequestSize = size_t{1} << 20;  // 1 MiB, the blank line included

  UapiRequestReader() = default;
  UapiRequestReader(const UapiRequestReader&) = delete;
  UapiRequestReader& operator=(const UapiRequestReader&) = delete;
  ~UapiRequestReader();

  absl::Status Feed(ByteSpan bytes);
  // The oldest complete request not yet taken, if any.
  std::optional<UapiRequest> Next();

  // True if no bytes of an unfinished request are buffered.
  bool idle() const { return partial_.empty(); }
  // The error Feed returned, or OK.
  const absl::Status& status() const { return status_; }

 private:
  enum class State { kOperation, kGetEnd, kSetBody };

  absl::Status Fail(absl::Status status);
  void Append(char c);
  void Complete(UapiRequest::Kind kind, size_t body_begin, size_t body_end);

  State state_ = State::kOperation;
  std::string partial_;    // the bytes of the unfinished request
  size_t line_start_ = 0;  // offset in partial_ of the current line
  std::deque<UapiRequest> ready_;
  absl::Status status_;
};

}  // namespace meshvpn::wg
