#include "meshvpn/wg/uapi.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "meshvpn/base/errno_status.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"
#include "quote.h"

namespace meshvpn::wg {
namespace {

constexpr char kErrnoPayloadUrl[] = "type.meshvpn.dev/meshvpn.wg.UapiErrno";

// Overwrites the bytes a string holds, then empties it (keeping its capacity). The bytes past
// size() are clean as long as every string that held a secret is wiped before it shrinks, which
// is how this file uses strings; so a reader that once took a 1 MiB request does not wipe 1 MiB
// after every small one.
void WipeString(std::string& s) {
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(s.data()), s.size()));
  s.clear();
}

// A key name for an error message, or a placeholder when it does not look like one (a line
// made of a pasted key would otherwise be echoed).
std::string KeyName(std::string_view key) {
  bool plain = !key.empty() && key.size() <= 32;
  for (const char c : key) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_');
  }
  return plain ? absl::StrFormat("\"%s\"", key) : std::string("(not shown)");
}

// Decimal digits only (no sign, no spaces; leading zeros are fine, as Go's ParseUint), <= max.
std::optional<uint64_t> ParseDecimal(std::string_view text, uint64_t max) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

absl::Status LineError(int line, std::string_view key, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrFormat("line %d: %s: %s", line, key, what));
}

// The lines of a body: split at "\n", one "\r" before it dropped. A blank line ends the body and
// must be its last line.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  // The next line, or nullopt at the end of the text or after the blank line. Sets *error when
  // something follows the blank line.
  std::optional<std::string_view> Next(absl::Status* error) {
    if (pos_ >= text_.size()) return std::nullopt;
    const size_t newline = text_.find('\n', pos_);
    std::string_view line = text_.substr(
        pos_, newline == std::string_view::npos ? std::string_view::npos : newline - pos_);
    pos_ = newline == std::string_view::npos ? text_.size() : newline + 1;
    ++number_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (pos_ < text_.size()) {
        *error = absl::InvalidArgumentError(
            absl::StrFormat("line %d: a blank line ends the request, but more follows", number_));
      }
      pos_ = text_.size();
      return std::nullopt;
    }
    return line;
  }
  int number() const { return number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int number_ = 0;
};

absl::Status MissingEquals(int line) {
  return WithUapiErrno(
      absl::InvalidArgumentError(absl::StrFormat("line %d: not a key=value line", line)), EPROTO);
}

absl::Status ExpectTrue(int line, std::string_view key, std::string_view value) {
  if (value == "true") return absl::OkStatus();
  return LineError(line, key, "the only value is \"true\"");
}

absl::StatusOr<uint64_t> Number(int line, std::string_view key, std::string_view value,
                                uint64_t max) {
  const std::optional<uint64_t> n = ParseDecimal(value, max);
  if (!n) {
    return LineError(line, key,
                     absl::StrFormat("%s is not a decimal number from 0 to %d", Quote(value), max));
  }
  return *n;
}

// Wraps a key parser's message (which never echoes the text) with the line and key.
template <typename Key>
absl::StatusOr<Key> HexKey(int line, std::string_view key, std::string_view value) {
  absl::StatusOr<Key> parsed = Key::FromHex(value);
  if (!parsed.ok()) {
    return LineError(line, key, absl::StrFormat("not a hex key (%s)", parsed.status().message()));
  }
  return parsed;
}

absl::StatusOr<udp::Endpoint> NumericEndpoint(int line, std::string_view key,
                                              std::string_view value) {
  absl::StatusOr<udp::Endpoint> endpoint = udp::Endpoint::Parse(value);
  // Parse reads ":4000" as "every address"; a peer needs a real one.
  if (!endpoint.ok() || value.empty() || value.front() == ':') {
    return LineError(line, key,
                     absl::StrFormat("%s is not a numeric endpoint like 192.0.2.1:51820 or "
                                     "[2001:db8::1]:51820",
                                     Quote(value)));
  }
  return endpoint;
}

absl::StatusOr<tun::IpPrefix> Prefix(int line, std::string_view key, std::string_view value) {
  absl::StatusOr<tun::IpPrefix> prefix = tun::IpPrefix::Parse(value);
  if (!prefix.ok() || value.find('/') == std::string_view::npos) {
    return LineError(
        line, key,
        absl::StrFormat("%s is not an IP prefix like 10.0.0.0/24 or fd00::/64", Quote(value)));
  }
  return prefix;
}

bool IsDeviceKey(std::string_view key) {
  return key == "private_key" || key == "listen_port" || key == "fwmark" || key == "replace_peers";
}

bool IsPeerKey(std::string_view key) {
  return key == "public_key" || key == "remove" || key == "update_only" || key == "preshared_key" ||
         key == "endpoint" || key == "persistent_keepalive_interval" ||
         key == "replace_allowed_ips" || key == "allowed_ip" || key == "protocol_version";
}

absl::Status ParseSetDeviceLine(int line, std::string_view key, std::string_view value,
                                DeviceConfigUpdate* update) {
  if (key == "private_key") {
    MESHVPN_ASSIGN_OR_RETURN(update->private_key, HexKey<x25519::PrivateKey>(line, key, value));
  } else if (key == "listen_port") {
    MESHVPN_ASSIGN_OR_RETURN(const uint64_t port, Number(line, key, value, 65535));
    update->listen_port = static_cast<uint16_t>(port);
  } else if (key == "fwmark") {
    MESHVPN_ASSIGN_OR_RETURN(const uint64_t mark, Number(line, key, value, UINT32_MAX));
    update->fwmark = static_cast<uint32_t>(mark);
  } else if (key == "replace_peers") {
    MESHVPN_RETURN_IF_ERROR(ExpectTrue(line, key, value));
    update->replace_peers = true;
  } else if (IsPeerKey(key)) {
    return LineError(line, key, "a peer key before the first public_key");
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("line %d: unknown key %s", line, KeyName(key)));
  }
  return absl::OkStatus();
}

absl::Status ParseSetPeerLine(int line, std::string_view key, std::string_view value,
                              PeerConfigUpdate* peer) {
  if (key == "remove") {
    MESHVPN_RETURN_IF_ERROR(ExpectTrue(line, key, value));
    peer->remove = true;
  } else if (key == "update_only") {
    MESHVPN_RETURN_IF_ERROR(ExpectTrue(line, key, value));
    peer->update_only = true;
  } else if (key == "preshared_key") {
    MESHVPN_ASSIGN_OR_RETURN(peer->preshared_key, HexKey<x25519::PresharedKey>(line, key, value));
  } else if (key == "endpoint") {
    MESHVPN_ASSIGN_OR_RETURN(peer->endpoint, NumericEndpoint(line, key, value));
  } else if (key == "persistent_keepalive_interval") {
    MESHVPN_ASSIGN_OR_RETURN(const uint64_t seconds, Number(line, key, value, 65535));
    peer->persistent_keepalive = std::chrono::seconds(seconds);
  } else if (key == "replace_allowed_ips") {
    MESHVPN_RETURN_IF_ERROR(ExpectTrue(line, key, value));
    // wireguard-go removes the peer's allowed IPs at this line, also those added just before.
    peer->replace_allowed_ips = true;
    peer->allowed_ips.clear();
  } else if (key == "allowed_ip") {
    MESHVPN_ASSIGN_OR_RETURN(tun::IpPrefix prefix, Prefix(line, key, value));
    peer->allowed_ips.push_back(prefix);
  } else if (key == "protocol_version") {
    if (value != "1") return LineError(line, key, "only version 1 exists");
  } else if (IsDeviceKey(key)) {
    return LineError(line, key, "a device key after the first public_key");
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("line %d: unknown key %s", line, KeyName(key)));
  }
  return absl::OkStatus();
}

// Appends "key=value\n" lines to a string reserved up front, so that the secrets written into it
// are not left behind in buffers given up by a reallocation.
class LineWriter {
 public:
  explicit LineWriter(size_t reserve) { out_.reserve(reserve); }

  void Line(std::string_view key, std::string_view value) {
    out_.append(key.data(), key.size());
    out_.push_back('=');
    out_.append(value.data(), value.size());
    out_.push_back('\n');
  }
  void Number(std::string_view key, uint64_t value) { Line(key, absl::StrFormat("%d", value)); }
  // `hex` holds a secret: it is wiped after copying.
  void Secret(std::string_view key, std::string hex) {
    Line(key, hex);
    WipeString(hex);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

size_t SetSizeEstimate(const DeviceConfigUpdate& update) {
  size_t size = 256;
  for (const PeerConfigUpdate& peer : update.peers) {
    size += 400 + 64 * peer.allowed_ips.size();
  }
  return size;
}

size_t GetSizeEstimate(const DeviceStatus& status) {
  size_t size = 256;
  for (const PeerStatus& peer : status.peers) size += 512 + 64 * peer.allowed_ips.size();
  return size;
}

// last_handshake_time_sec / _nsec as they arrive, turned into a time once the peer is complete.
struct HandshakeTime {
  uint64_t sec = 0;
  uint64_t nsec = 0;
};

// Seconds that still fit a nanosecond count in int64 (the year 2255).
constexpr uint64_t kMaxHandshakeSeconds = 9'000'000'000;

std::optional<WallTime> ToWallTime(const HandshakeTime& t) {
  if (t.sec == 0 && t.nsec == 0) return std::nullopt;
  const auto since_epoch = std::chrono::seconds(t.sec) + std::chrono::nanoseconds(t.nsec);
  return WallTime(std::chrono::duration_cast<WallTime::duration>(since_epoch));
}

absl::Status ParseGetDeviceLine(int line, std::string_view key, std::string_view value,
                                DeviceStatus* status) {
  if (key == "private_key") {
    MESHVPN_ASSIGN_OR_RETURN(x25519::PrivateKey private_key,
                             HexKey<x25519::PrivateKey>(line, key, value));
    if (private_key.IsZero()) {
      status->private_key.reset();
    } else {
      status->private_key = std::move(private_key);
    }
  } else if (key == "listen_port") {
    MESHVPN_ASSIGN_OR_RETURN(const uint64_t port, Number(line, key, value, 65535));
    status->listen_port = static_cast<uint16_t>(port);
  } else if (key == "fwmark") {
    MESHVPN_ASSIGN_OR_RETURN(const uint64_t mark, Number(line, key, value, UINT32_MAX));
    status->fwmark = static_cast<uint32_t>(mark);
  }
  // Anything else: a key of a newer server, skipped.
  return absl::OkStatus();
}

absl::Status ParseGetPeerLine(int line, std::string_view key, std::string_view value,
                              PeerStatus* peer, HandshakeTime* handshake) {
  if (key == "preshared_key") {
    MESHVPN_ASSIGN_OR_RETURN(peer->preshared_key, HexKey<x25519::PresharedKey>(line, key, value));
  } else if (key == "protocol_version") {
    if (value != "1") return LineError(line, key, "only version 1 exists");
  } else if (key == "endpoint") {
    MESHVPN_ASSIGN_OR_RETURN(peer->endpoint, NumericEndpoint(line, key, value));
  } else if (key == "last_handshake_time_sec") {
    MESHVPN_ASSIGN_OR_RETURN(handshake->sec, Number(line, key, value, kMaxHandshakeSeconds));
  } else if (key == "last_handshake_time_nsec") {
    MESHVPN_ASSIGN_OR_RETURN(handshake->nsec, Number(line, key, value, 999'999'999));
  } else if (key == "tx_bytes") {
    MESHVPN_ASSIGN_OR_RETURN(peer->tx_bytes, Number(line, key, value, UINT64_MAX));
  } else if (key == "rx_bytes") {
    MESHVPN_ASSIGN_OR_RETURN(peer->rx_bytes, Number(line, key, value, UINT64_MAX));
  } else if (key == "persistent_keepalive_interval") {
    MESHVPN_ASSIGN_OR_RETURN(const uint64_t seconds, Number(line, key, value, 65535));
    peer->persistent_keepalive = std::chrono::seconds(seconds);
  } else if (key == "allowed_ip") {
    MESHVPN_ASSIGN_OR_RETURN(tun::IpPrefix prefix, Prefix(line, key, value));
    peer->allowed_ips.push_back(prefix);
  } else if (IsDeviceKey(key)) {
    return LineError(line, key, "a device key after the first public_key");
  }
  return absl::OkStatus();
}

// "errno=N" of a reply: N may be negative (wireguard-go) or positive.
absl::StatusOr<int> ParseErrnoValue(int line, std::string_view value) {
  const bool negative = !value.empty() && value.front() == '-';
  const std::optional<uint64_t> n = ParseDecimal(negative ? value.substr(1) : value, 4095);
  if (!n) return LineError(line, "errno", absl::StrFormat("%s is not an errno", Quote(value)));
  return static_cast<int>(*n);
}

}  // namespace

absl::StatusOr<DeviceConfigUpdate> ParseUapiSet(std::string_view body) {
  DeviceConfigUpdate update;
  PeerConfigUpdate* peer = nullptr;
  LineReader lines(body);
  absl::Status error;
  while (const std::optional<std::string_view> line = lines.Next(&error)) {
    const int n = lines.number();
    const size_t equals = line->find('=');
    if (equals == std::string_view::npos) return MissingEquals(n);
    const std::string_view key = line->substr(0, equals);
    const std::string_view value = line->substr(equals + 1);
    if (key == "public_key") {
      MESHVPN_ASSIGN_OR_RETURN(x25519::PublicKey public_key,
                               HexKey<x25519::PublicKey>(n, key, value));
      peer = &update.peers.emplace_back();
      peer->public_key = public_key;
    } else if (peer == nullptr) {
      MESHVPN_RETURN_IF_ERROR(ParseSetDeviceLine(n, key, value, &update));
    } else {
      MESHVPN_RETURN_IF_ERROR(ParseSetPeerLine(n, key, value, peer));
    }
  }
  if (!error.ok()) return error;
  return update;
}

std::string FormatUapiSet(const DeviceConfigUpdate& update) {
  LineWriter out(SetSizeEstimate(update));
  if (update.private_key) out.Secret("private_key", update.private_key->ExportHexForUapi());
  if (update.listen_port) out.Number("listen_port", *update.listen_port);
  if (update.fwmark) out.Number("fwmark", *update.fwmark);
  if (update.replace_peers) out.Line("replace_peers", "true");
  for (const PeerConfigUpdate& peer : update.peers) {
    out.Line("public_key", peer.public_key.ToHex());
    if (peer.update_only) out.Line("update_only", "true");
    if (peer.remove) out.Line("remove", "true");
    if (peer.preshared_key) out.Secret("preshared_key", peer.preshared_key->ExportHexForUapi());
    if (peer.endpoint) out.Line("endpoint", peer.endpoint->ToString());
    if (peer.persistent_keepalive) {
      out.Number("persistent_keepalive_interval",
                 static_cast<uint64_t>(peer.persistent_keepalive->count()));
    }
    if (peer.replace_allowed_ips) out.Line("replace_allowed_ips", "true");
    for (const tun::IpPrefix& prefix : peer.allowed_ips) out.Line("allowed_ip", prefix.ToString());
  }
  return out.Take();
}

std::string FormatUapiGet(const DeviceStatus& status) {
  LineWriter out(GetSizeEstimate(status));
  if (status.private_key && !status.private_key->IsZero()) {
    out.Secret("private_key", status.private_key->ExportHexForUapi());
  }
  if (status.listen_port != 0) out.Number("listen_port", status.listen_port);
  if (status.fwmark != 0) out.Number("fwmark", status.fwmark);
  for (const PeerStatus& peer : status.peers) {
    out.Line("public_key", peer.public_key.ToHex());
    out.Secret("preshared_key", peer.preshared_key.ExportHexForUapi());
    out.Line("protocol_version", "1");
    if (peer.endpoint) out.Line("endpoint", peer.endpoint->ToString());
    int64_t nanos = 0;
    if (peer.last_handshake) {
      nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  peer.last_handshake->time_since_epoch())
                  .count();
    }
    if (nanos < 0) nanos = 0;
    out.Number("last_handshake_time_sec", static_cast<uint64_t>(nanos / 1'000'000'000));
    out.Number("last_handshake_time_nsec", static_cast<uint64_t>(nanos % 1'000'000'000));
    out.Number("tx_bytes", peer.tx_bytes);
    out.Number("rx_bytes", peer.rx_bytes);
    out.Number("persistent_keepalive_interval",
               static_cast<uint64_t>(std::max<int64_t>(0, peer.persistent_keepalive.count())));
    for (const tun::IpPrefix& prefix : peer.allowed_ips) out.Line("allowed_ip", prefix.ToString());
  }
  return out.Take();
}

absl::StatusOr<DeviceStatus> ParseUapiGet(std::string_view reply) {
  DeviceStatus status;
  std::vector<HandshakeTime> handshakes;  // one per peer
  LineReader lines(reply);
  absl::Status error;
  std::optional<int> server_errno;
  while (const std::optional<std::string_view> line = lines.Next(&error)) {
    const int n = lines.number();
    if (server_errno) {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d: errno must be the last line before the blank one", n));
    }
    const size_t equals = line->find('=');
    if (equals == std::string_view::npos) return MissingEquals(n);
    const std::string_view key = line->substr(0, equals);
    const std::string_view value = line->substr(equals + 1);
    if (key == "errno") {
      MESHVPN_ASSIGN_OR_RETURN(server_errno, ParseErrnoValue(n, value));
    } else if (key == "public_key") {
      MESHVPN_ASSIGN_OR_RETURN(x25519::PublicKey public_key,
                               HexKey<x25519::PublicKey>(n, key, value));
      status.peers.emplace_back().public_key = public_key;
      handshakes.emplace_back();
    } else if (status.peers.empty()) {
      if (IsPeerKey(key) || key == "last_handshake_time_sec" || key == "last_handshake_time_nsec" ||
          key == "tx_bytes" || key == "rx_bytes") {
        return LineError(n, key, "a peer key before the first public_key");
      }
      MESHVPN_RETURN_IF_ERROR(ParseGetDeviceLine(n, key, value, &status));
    } else {
      MESHVPN_RETURN_IF_ERROR(
          ParseGetPeerLine(n, key, value, &status.peers.back(), &handshakes.back()));
    }
  }
  if (!error.ok()) return error;
  if (server_errno && *server_errno != 0) {
    return WithUapiErrno(ErrnoToStatus(*server_errno, "uapi get"), *server_errno);
  }
  for (size_t i = 0; i < status.peers.size(); ++i) {
    status.peers[i].last_handshake = ToWallTime(handshakes[i]);
  }
  return status;
}

int UapiErrno(const absl::Status& status) {
  if (status.ok()) return 0;
  if (const auto payload = status.GetPayload(kErrnoPayloadUrl)) {
    int value = 0;
    if (absl::SimpleAtoi(std::string(*payload), &value) && value > 0) return value;
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return EINVAL;
    case absl::StatusCode::kAlreadyExists:
      return EADDRINUSE;
    default:
      return EIO;
  }
}

absl::Status WithUapiErrno(absl::Status status, int error_number) {
  if (!status.ok())
    status.SetPayload(kErrnoPayloadUrl, absl::Cord(absl::StrFormat("%d", error_number)));
  return status;
}

std::string UapiErrnoLine(int error_number) {
  if (error_number < 0) error_number = -error_number;
  return error_number == 0 ? std::string("errno=0\n\n")
                           : absl::StrFormat("errno=-%d\n\n", error_number);
}

UapiRequestReader::~UapiRequestReader() {
  WipeString(partial_);
  for (UapiRequest& request : ready_) WipeString(request.body);
}

absl::Status UapiRequestReader::Fail(absl::Status status) {
  WipeString(partial_);
  line_start_ = 0;
  status_ = status;
  return status;
}

void UapiRequestReader::Append(char c) {
  if (partial_.size() == partial_.capacity()) {
    // Grow by hand so that the buffer given up is wiped, not just freed.
    std::string bigger;
    bigger.reserve(std::max<size_t>(256, partial_.capacity() * 2));
    bigger.assign(partial_);
    WipeString(partial_);
    partial_.swap(bigger);
  }
  partial_.push_back(c);
}

void UapiRequestReader::Complete(UapiRequest::Kind kind, size_t body_begin, size_t body_end) {
  UapiRequest request;
  request.kind = kind;
  request.body.assign(partial_.data() + body_begin, body_end - body_begin);
  ready_.push_back(std::move(request));
  WipeString(partial_);  // keeps its capacity for the next request
  line_start_ = 0;
  state_ = State::kOperation;
}

absl::Status UapiRequestReader::Feed(ByteSpan bytes) {
  if (!status_.ok()) return status_;
  constexpr std::string_view kGet = "get=1\n";
  constexpr std::string_view kSet = "set=1\n";
  for (const uint8_t byte : bytes) {
    if (partial_.size() >= kMaxRequestSize) {
      return Fail(WithUapiErrno(
          absl::ResourceExhaustedError(absl::StrFormat(
              "uapi: a request longer than %d bytes (no blank line yet)", kMaxRequestSize)),
          EMSGSIZE));
    }
    const char c = static_cast<char>(byte);
    Append(c);
    switch (state_) {
      case State::kOperation: {
        const std::string_view sofar = partial_;
        const bool get = kGet.substr(0, sofar.size()) == sofar;
        const bool set = kSet.substr(0, sofar.size()) == sofar;
        if (!get && !set) {
          return Fail(WithUapiErrno(
              absl::InvalidArgumentError("uapi: the first line is neither get=1 nor set=1"),
              EPROTO));
        }
        if (c == '\n') {
          state_ = get ? State::kGetEnd : State::kSetBody;
          line_start_ = partial_.size();
        }
        break;
      }
      case State::kGetEnd:
        if (c != '\n') {
          return Fail(WithUapiErrno(
              absl::InvalidArgumentError("uapi: get=1 must be followed by a blank line"), EINVAL));
        }
        Complete(UapiRequest::Kind::kGet, 0, 0);
        break;
      case State::kSetBody:
        if (c == '\n') {
          const size_t line_length = partial_.size() - 1 - line_start_;
          if (line_length == 0 || (line_length == 1 && partial_[line_start_] == '\r')) {
            Complete(UapiRequest::Kind::kSet, kSet.size(), line_start_);
          } else {
            line_start_ = partial_.size();
          }
        }
        break;
    }
  }
  return absl::OkStatus();
}

std::optional<UapiRequest> UapiRequestReader::Next() {
  if (ready_.empty()) return std::nullopt;
  UapiRequest request = std::move(ready_.front());
  ready_.pop_front();
  return request;
}

}  // namespace meshvpn::wg
