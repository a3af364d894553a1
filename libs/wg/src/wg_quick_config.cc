#include "meshvpn/wg/wg_quick_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "meshvpn/base/errno_status.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"
#include "meshvpn/udp/resolve.h"
#include "quote.h"

namespace meshvpn::wg {
namespace {

constexpr size_t kMaxFileSize = size_t{1} << 20;

enum class Section { kNone, kInterface, kPeer };

std::string_view SectionName(Section s) {
  return s == Section::kInterface ? "[Interface]" : s == Section::kPeer ? "[Peer]" : "";
}

// Every key a wg-quick file may hold. `repeatable`: the key may appear more than once.
struct KeySpec {
  std::string_view name;
  Section section;
  bool repeatable;
};

constexpr std::array<KeySpec, 17> kKeys = {{
    {"PrivateKey", Section::kInterface, false},
    {"ListenPort", Section::kInterface, false},
    {"FwMark", Section::kInterface, false},
    {"Address", Section::kInterface, true},
    {"DNS", Section::kInterface, true},
    {"MTU", Section::kInterface, false},
    {"Table", Section::kInterface, false},
    {"PreUp", Section::kInterface, true},
    {"PostUp", Section::kInterface, true},
    {"PreDown", Section::kInterface, true},
    {"PostDown", Section::kInterface, true},
    {"SaveConfig", Section::kInterface, false},
    {"PublicKey", Section::kPeer, false},
    {"PresharedKey", Section::kPeer, false},
    {"Endpoint", Section::kPeer, false},
    {"AllowedIPs", Section::kPeer, true},
    {"PersistentKeepalive", Section::kPeer, false},
}};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// A name from the file (an unknown key or section) for an error message, or a placeholder when
// it does not look like a name: a pasted key must not be echoed.
std::string Name(std::string_view name) {
  bool plain = !name.empty() && name.size() <= 32;
  for (const char c : name) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-');
  }
  return plain ? absl::StrFormat("\"%s\"", name) : std::string("(not shown)");
}

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

std::optional<uint64_t> ParseHex(std::string_view text, uint64_t max) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (const char c : text) {
    const char l = Lower(c);
    uint64_t digit;
    if (l >= '0' && l <= '9') {
      digit = static_cast<uint64_t>(l - '0');
    } else if (l >= 'a' && l <= 'f') {
      digit = static_cast<uint64_t>(l - 'a' + 10);
    } else {
      return std::nullopt;
    }
    if (value > (max - digit) / 16) return std::nullopt;
    value = value * 16 + digit;
  }
  return value;
}

// A search domain as wg-quick would hand it to resolvconf: letters, digits, '-', '_' and '.'.
bool IsDomainName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Checks that `text` has the shape "host:port" or "[host]:port" with a decimal port, which is
// what a resolver is handed.
bool LooksLikeHostPort(std::string_view text) {
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close < 2 || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return false;
    }
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    port = text.substr(colon + 1);
  }
  return ParseDecimal(port, 65535).has_value();
}

void WipeString(std::string& s) {
  s.resize(s.capacity());
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(s.data()), s.size()));
  s.clear();
}

class Parser {
 public:
  explicit Parser(const WgQuickParseOptions& options)
      : source_(options.source_name.empty() ? std::string_view("config")
                                            : std::string_view(options.source_name)),
        resolve_(options.resolve_endpoint) {}

  absl::StatusOr<WgQuickConfig> Run(std::string_view text) {
    config_.device.replace_peers = true;
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t newline = text.find('\n', pos);
      std::string_view line = text.substr(
          pos, newline == std::string_view::npos ? std::string_view::npos : newline - pos);
      pos = newline == std::string_view::npos ? text.size() : newline + 1;
      ++line_;
      line = Trim(line.substr(0, line.find('#')));
      if (line.empty()) continue;
      if (line.front() == '[') {
        MESHVPN_RETURN_IF_ERROR(StartSection(line));
      } else {
        MESHVPN_RETURN_IF_ERROR(KeyValueLine(line));
      }
    }
    MESHVPN_RETURN_IF_ERROR(Finish());
    return std::move(config_);
  }

 private:
  absl::Status Error(int line, std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", source_, line, what));
  }
  // "<source>:<line>: [Peer] AllowedIPs: <what>"
  absl::Status FieldError(std::string_view what) const {
    return Error(line_, absl::StrFormat("%s %s: %s", SectionName(section_), key_->name, what));
  }

  absl::Status StartSection(std::string_view line) {
    if (line.back() != ']') {
      return Error(line_, "a section header is \"[Interface]\" or \"[Peer]\"");
    }
    const std::string_view name = Trim(line.substr(1, line.size() - 2));
    seen_.fill(0);
    if (EqualsIgnoreCase(name, "Interface")) {
      if (interface_line_ != 0) {
        return Error(line_,
                     absl::StrFormat("a second [Interface] section (the first is on line %d)",
                                     interface_line_));
      }
      section_ = Section::kInterface;
      interface_line_ = line_;
    } else if (EqualsIgnoreCase(name, "Peer")) {
      section_ = Section::kPeer;
      config_.device.peers.emplace_back().replace_allowed_ips = true;
      peer_lines_.push_back(line_);
      peer_has_key_.push_back(false);
    } else {
      return Error(line_,
                   absl::StrFormat("unknown section %s (want [Interface] or [Peer])", Name(name)));
    }
    return absl::OkStatus();
  }

  absl::Status KeyValueLine(std::string_view line) {
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return Error(line_, "expected \"Key = value\" or a [Section] header");
    }
    const std::string_view key = Trim(line.substr(0, equals));
    const std::string_view value = Trim(line.substr(equals + 1));
    size_t index = 0;
    while (index < kKeys.size() && !EqualsIgnoreCase(kKeys[index].name, key)) ++index;
    if (section_ == Section::kNone) {
      return Error(line_, absl::StrFormat(
                              "%s before any [Interface] or [Peer] section",
                              index < kKeys.size() ? std::string(kKeys[index].name) : Name(key)));
    }
    if (index == kKeys.size()) {
      return Error(line_, absl::StrFormat("%s unknown key %s", SectionName(section_), Name(key)));
    }
    key_ = &kKeys[index];
    if (key_->section != section_) {
      return FieldError(absl::StrFormat("belongs in a %s section", SectionName(key_->section)));
    }
    if (!key_->repeatable) {
      if (seen_[index] != 0) {
        return FieldError(absl::StrFormat("given twice (first on line %d)", seen_[index]));
      }
      seen_[index] = line_;
    }
    return section_ == Section::kInterface ? InterfaceValue(value) : PeerValue(value);
  }

  // Calls `each` for every comma-separated entry of `value` (trimmed; none may be empty).
  template <typename Fn>
  absl::Status ForEachEntry(std::string_view value, Fn each) {
    size_t pos = 0;
    while (true) {
      const size_t comma = value.find(',', pos);
      const std::string_view entry = Trim(value.substr(
          pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
      if (entry.empty()) return FieldError("an empty entry in the comma-separated list");
      MESHVPN_RETURN_IF_ERROR(each(entry));
      if (comma == std::string_view::npos) return absl::OkStatus();
      pos = comma + 1;
    }
  }

  absl::Status InterfaceValue(std::string_view value) {
    const std::string_view name = key_->name;
    if (name == "PreUp" || name == "PostUp" || name == "PreDown" || name == "PostDown" ||
        name == "Table" || name == "SaveConfig") {
      config_.ignored.push_back({line_, std::string(name), std::string(value)});
      return absl::OkStatus();
    }
    if (value.empty()) return FieldError("no value");
    if (name == "PrivateKey") {
      absl::StatusOr<x25519::PrivateKey> key = x25519::PrivateKey::FromBase64(value);
      if (!key.ok()) {
        return FieldError(absl::StrFormat("not a base64 key (%s)", key.status().message()));
      }
      config_.device.private_key = std::move(*key);
    } else if (name == "ListenPort") {
      const std::optional<uint64_t> port = ParseDecimal(value, 65535);
      if (!port) return FieldError(absl::StrFormat("%s is not a port (0..65535)", Quote(value)));
      config_.device.listen_port = static_cast<uint16_t>(*port);
    } else if (name == "FwMark") {
      std::optional<uint64_t> mark;
      if (EqualsIgnoreCase(value, "off")) {
        mark = 0;
      } else if (value.size() > 2 && value[0] == '0' && Lower(value[1]) == 'x') {
        mark = ParseHex(value.substr(2), UINT32_MAX);
      } else {
        mark = ParseDecimal(value, UINT32_MAX);
      }
      if (!mark) {
        return FieldError(absl::StrFormat(
            "%s is not \"off\" or a number up to 4294967295 (decimal or 0x hex)", Quote(value)));
      }
      config_.device.fwmark = static_cast<uint32_t>(*mark);
    } else if (name == "MTU") {
      const std::optional<uint64_t> mtu = ParseDecimal(value, 65535);
      if (!mtu || *mtu < 68) {
        return FieldError(absl::StrFormat("%s is not a number from 68 to 65535", Quote(value)));
      }
      config_.mtu = static_cast<int>(*mtu);
    } else if (name == "Address") {
      return ForEachEntry(value, [&](std::string_view entry) -> absl::Status {
        absl::StatusOr<tun::IpPrefix> prefix = tun::IpPrefix::Parse(entry);
        if (!prefix.ok())
          return FieldError(absl::StrFormat("%s is not an IP prefix", Quote(entry)));
        config_.addresses.push_back(*prefix);
        return absl::OkStatus();
      });
    } else if (name == "DNS") {
      return ForEachEntry(value, [&](std::string_view entry) -> absl::Status {
        if (absl::StatusOr<tun::IpAddress> address = tun::IpAddress::Parse(entry); address.ok()) {
          config_.dns.push_back(address->ToString());
        } else if (IsDomainName(entry)) {
          config_.dns_search.emplace_back(entry);
        } else {
          return FieldError(
              absl::StrFormat("%s is neither an IP address nor a search domain", Quote(entry)));
        }
        return absl::OkStatus();
      });
    }
    return absl::OkStatus();
  }

  absl::Status PeerValue(std::string_view value) {
    const std::string_view name = key_->name;
    PeerConfigUpdate& peer = config_.device.peers.back();
    if (name == "AllowedIPs") {
      if (value.empty()) return absl::OkStatus();  // wg(8) accepts "AllowedIPs =": none
      return ForEachEntry(value, [&](std::string_view entry) -> absl::Status {
        absl::StatusOr<tun::IpPrefix> prefix = tun::IpPrefix::Parse(entry);
        if (!prefix.ok())
          return FieldError(absl::StrFormat("%s is not an IP prefix", Quote(entry)));
        peer.allowed_ips.push_back(*prefix);
        return absl::OkStatus();
      });
    }
    if (value.empty()) return FieldError("no value");
    if (name == "PublicKey") {
      absl::StatusOr<x25519::PublicKey> key = x25519::PublicKey::FromBase64(value);
      if (!key.ok()) {
        return FieldError(absl::StrFormat("not a base64 key (%s)", key.status().message()));
      }
      for (size_t i = 0; i + 1 < config_.device.peers.size(); ++i) {
        if (peer_has_key_[i] && config_.device.peers[i].public_key == *key) {
          return FieldError(
              absl::StrFormat("the same key as the [Peer] on line %d", peer_lines_[i]));
        }
      }
      peer.public_key = *key;
      peer_has_key_.back() = true;
    } else if (name == "PresharedKey") {
      absl::StatusOr<x25519::PresharedKey> key = x25519::PresharedKey::FromBase64(value);
      if (!key.ok()) {
        return FieldError(absl::StrFormat("not a base64 key (%s)", key.status().message()));
      }
      peer.preshared_key = std::move(*key);
    } else if (name == "Endpoint") {
      MESHVPN_ASSIGN_OR_RETURN(peer.endpoint, Endpoint(value));
    } else if (name == "PersistentKeepalive") {
      const std::optional<uint64_t> seconds =
          EqualsIgnoreCase(value, "off") ? std::optional<uint64_t>(0) : ParseDecimal(value, 65535);
      if (!seconds) {
        return FieldError(
            absl::StrFormat("%s is not \"off\" or a number of seconds (0..65535)", Quote(value)));
      }
      peer.persistent_keepalive = std::chrono::seconds(*seconds);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<udp::Endpoint> Endpoint(std::string_view value) {
    if (value.front() != ':') {
      if (absl::StatusOr<udp::Endpoint> numeric = udp::Endpoint::Parse(value); numeric.ok()) {
        return numeric;
      }
    }
    if (!LooksLikeHostPort(value)) {
      return FieldError(absl::StrFormat(
          "%s is not host:port (192.0.2.1:51820, [2001:db8::1]:51820, vpn.example.com:51820)",
          Quote(value)));
    }
    absl::StatusOr<udp::Endpoint> resolved =
        resolve_ ? resolve_(value) : udp::Resolve(value, std::nullopt);
    if (!resolved.ok()) return FieldError(absl::StrFormat("%s", resolved.status().message()));
    return resolved;
  }

  absl::Status Finish() {
    if (interface_line_ == 0) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: no [Interface] section", source_));
    }
    if (!config_.device.private_key) {
      return Error(interface_line_, "[Interface] has no PrivateKey");
    }
    for (size_t i = 0; i < peer_has_key_.size(); ++i) {
      if (!peer_has_key_[i]) return Error(peer_lines_[i], "[Peer] has no PublicKey");
    }
    return absl::OkStatus();
  }

  const std::string_view source_;
  const EndpointResolver& resolve_;
  WgQuickConfig config_;
  int line_ = 0;
  Section section_ = Section::kNone;
  const KeySpec* key_ = nullptr;          // the key of the line being read
  std::array<int, kKeys.size()> seen_{};  // line of each single-valued key in this section
  int interface_line_ = 0;
  std::vector<int> peer_lines_;  // header line of each [Peer]
  std::vector<bool> peer_has_key_;
};

}  // namespace

EndpointResolver RefuseHostNames() {
  return [](std::string_view host_port) -> absl::StatusOr<udp::Endpoint> {
    if (absl::StatusOr<udp::Endpoint> numeric = udp::Endpoint::Parse(host_port); numeric.ok()) {
      return numeric;
    }
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is not a numeric endpoint, and host names are not resolved here", Quote(host_port)));
  };
}

absl::StatusOr<WgQuickConfig> ParseWgQuickConfig(std::string_view text,
                                                 const WgQuickParseOptions& options) {
  return Parser(options).Run(text);
}

absl::StatusOr<WgQuickConfig> LoadWgQuickConfig(const std::string& path,
                                                const WgQuickParseOptions& options) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrFormat("open %s", path));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int error = errno;
    close(fd);
    return ErrnoToStatus(error, absl::StrFormat("stat %s", path));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrFormat("%s: not a regular file", path));
  }
  std::string text(kMaxFileSize + 1, '\0');
  size_t size = 0;
  while (size < text.size()) {
    const ssize_t n = read(fd, text.data() + size, text.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      WipeString(text);
      return ErrnoToStatus(error, absl::StrFormat("read %s", path));
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  close(fd);
  if (size > kMaxFileSize) {
    WipeString(text);
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: larger than %d bytes, not a WireGuard configuration", path, kMaxFileSize));
  }
  WgQuickParseOptions named = options;
  if (named.source_name.empty()) named.source_name = path;
  absl::StatusOr<WgQuickConfig> config =
      ParseWgQuickConfig(std::string_view(text.data(), size), named);
  WipeString(text);
  return config;
}

std::string FormatWgShowconf(const DeviceStatus& status) {
  std::string out;
  size_t reserve = 256;
  for (const PeerStatus& peer : status.peers) reserve += 256 + 48 * peer.allowed_ips.size();
  out.reserve(reserve);  // no reallocation leaves copies of the keys behind
  const auto secret = [&out](std::string_view key, std::string base64) {
    out.append(absl::StrFormat("%s = ", key));
    out.append(base64);
    out.push_back('\n');
    WipeString(base64);
  };
  out.append("[Interface]\n");
  if (status.listen_port != 0) out.append(absl::StrFormat("ListenPort = %d\n", status.listen_port));
  if (status.fwmark != 0) out.append(absl::StrFormat("FwMark = 0x%x\n", status.fwmark));
  if (status.private_key && !status.private_key->IsZero()) {
    secret("PrivateKey", status.private_key->ExportBase64ForConfig());
  }
  for (const PeerStatus& peer : status.peers) {
    out.append(absl::StrFormat("\n[Peer]\nPublicKey = %s\n", peer.public_key.ToBase64()));
    if (!peer.preshared_key.IsZero()) {
      secret("PresharedKey", peer.preshared_key.ExportBase64ForConfig());
    }
    if (!peer.allowed_ips.empty()) {
      out.append("AllowedIPs = ");
      for (size_t i = 0; i < peer.allowed_ips.size(); ++i) {
        if (i > 0) out.append(", ");
        out.append(peer.allowed_ips[i].ToString());
      }
      out.push_back('\n');
    }
    if (peer.endpoint) out.append(absl::StrFormat("Endpoint = %s\n", peer.endpoint->ToString()));
    if (peer.persistent_keepalive.count() > 0) {
      out.append(absl::StrFormat("PersistentKeepalive = %d\n", peer.persistent_keepalive.count()));
    }
  }
  return out;
}

}  // namespace meshvpn::wg
