// DERP's handshake frames and their JSON, matching Go's encoding/json on both sides.
#include "meshvpn/derp/handshake.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/derp/box.h"
#include "meshvpn/derp/frame.h"
#include "meshvpn/derp/messages.h"
#include "nlohmann/json.hpp"

namespace meshvpn::derp {
namespace {

using Json = nlohmann::ordered_json;  // document order, so the last of repeated fields wins

// Appends `s` as a JSON string the way Go's encoding/json does: <, > and & as \u003c \u003e
// \u0026, U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
void AppendGoJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 0xf]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, then validated (no overlongs, no
    // surrogates, nothing above U+10FFFF), as Go's utf8.DecodeRuneInString.
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    }
    bool valid = len != 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (valid && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                  (cp >= 0xd800 && cp <= 0xdfff))) {
      valid = false;
    }
    if (!valid) {
      out->append("\xef\xbf\xbd");  // U+FFFD, one per bad byte
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      out->append(cp == 0x2028 ? "\\u2028" : "\\u2029");
    } else {
      out->append(s.substr(i, len));
    }
    i += len;
  }
  out->push_back('"');
}

// Go matches JSON keys to struct fields case-insensitively (ASCII is enough for these names).
bool KeyIs(const std::string& key, std::string_view field) {
  return absl::EqualsIgnoreCase(key, absl::string_view(field.data(), field.size()));
}

absl::StatusOr<Json> ParseObject(std::string_view text, std::string_view what) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError(std::string(what) + ": invalid JSON");
  if (!json.is_object() && !json.is_null()) {
    return absl::InvalidArgumentError(std::string(what) + ": not a JSON object");
  }
  return json;
}

absl::Status ReadInt(const Json& value, std::string_view field, int64_t* out) {
  if (value.is_null()) return absl::OkStatus();  // Go leaves the field as it was
  if (value.is_number_integer()) {
    *out = value.get<int64_t>();
    return absl::OkStatus();
  }
  if (value.is_number_unsigned()) {
    return absl::InvalidArgumentError(std::string(field) + ": number out of range");
  }
  return absl::InvalidArgumentError(std::string(field) + ": not an integer");
}

absl::Status ReadBool(const Json& value, std::string_view field, bool* out) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_boolean()) return absl::InvalidArgumentError(std::string(field) + ": not a bool");
  *out = value.get<bool>();
  return absl::OkStatus();
}

absl::Status ReadInt32(const Json& value, std::string_view field, int* out) {
  int64_t v = *out;
  if (auto s = ReadInt(value, field, &v); !s.ok()) return s;
  // Go's int is 64-bit; ours is narrower, so larger versions are refused rather than wrapped.
  if (v < INT32_MIN || v > INT32_MAX) {
    return absl::InvalidArgumentError(std::string(field) + ": number out of range");
  }
  *out = static_cast<int>(v);
  return absl::OkStatus();
}

}  // namespace

std::string EncodeClientInfoJson(const ClientInfo& info) {
  std::string out = "{";
  auto comma = [&] {
    if (out.size() > 1) out.push_back(',');
  };
  if (!info.mesh_key.IsZero()) {
    std::string hex = info.mesh_key.ExportHexForClientInfo();
    absl::StrAppend(&out, "\"meshKey\":\"", hex, "\"");
    SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(hex.data()), hex.size()));
  }
  if (info.version != 0) {
    comma();
    absl::StrAppend(&out, "\"version\":", info.version);
  }
  comma();
  absl::StrAppend(&out, "\"CanAckPings\":", info.can_ack_pings ? "true" : "false");
  if (info.is_prober) out.append(",\"IsProber\":true");
  if (!info.app_name.empty()) {
    out.append(",\"AppName\":");
    AppendGoJsonString(info.app_name, &out);
  }
  out.push_back('}');
  return out;
}

std::string EncodeServerInfoJson(const ServerInfo& info) {
  std::string out = "{";
  auto field = [&](std::string_view name, int64_t value) {
    if (value == 0) return;
    if (out.size() > 1) out.push_back(',');
    out.append("\"").append(name).append("\":").append(std::to_string(value));
  };
  field("version", info.version);
  field("TokenBucketBytesPerSecond", info.token_bucket_bytes_per_second);
  field("TokenBucketBytesBurst", info.token_bucket_bytes_burst);
  out.push_back('}');
  return out;
}

absl::StatusOr<ClientInfo> DecodeClientInfoJson(std::string_view text) {
  auto json = ParseObject(text, "client info");
  if (!json.ok()) return json.status();
  ClientInfo info;
  if (json->is_null()) return info;
  for (auto it = json->begin(); it != json->end(); ++it) {
    const std::string& key = it.key();
    const Json& value = it.value();
    absl::Status s;
    if (KeyIs(key, "meshKey")) {
      // types/key/derp.go: whatever is there must decode as a string of 64 hex digits.
      std::string hex = value.is_string() ? value.get<std::string>() : std::string();
      auto mesh = MeshKey::Parse(hex);
      SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(hex.data()), hex.size()));
      if (!mesh.ok())
        return absl::InvalidArgumentError("client info: meshKey is not 64 hex digits");
      info.mesh_key = *std::move(mesh);
    } else if (KeyIs(key, "version")) {
      s = ReadInt32(value, "client info: version", &info.version);
    } else if (KeyIs(key, "CanAckPings")) {
      s = ReadBool(value, "client info: CanAckPings", &info.can_ack_pings);
    } else if (KeyIs(key, "IsProber")) {
      s = ReadBool(value, "client info: IsProber", &info.is_prober);
    } else if (KeyIs(key, "AppName")) {
      if (value.is_string()) {
        info.app_name = value.get<std::string>();
      } else if (!value.is_null()) {
        s = absl::InvalidArgumentError("client info: AppName: not a string");
      }
    }
    if (!s.ok()) return s;
  }
  return info;
}

absl::StatusOr<ServerInfo> DecodeServerInfoJson(std::string_view text) {
  auto json = ParseObject(text, "server info");
  if (!json.ok()) return json.status();
  ServerInfo info;
  if (json->is_null()) return info;
  for (auto it = json->begin(); it != json->end(); ++it) {
    const std::string& key = it.key();
    absl::Status s;
    if (KeyIs(key, "version")) {
      s = ReadInt32(it.value(), "server info: version", &info.version);
    } else if (KeyIs(key, "TokenBucketBytesPerSecond")) {
      s = ReadInt(it.value(), "server info: TokenBucketBytesPerSecond",
                  &info.token_bucket_bytes_per_second);
    } else if (KeyIs(key, "TokenBucketBytesBurst")) {
      s = ReadInt(it.value(), "server info: TokenBucketBytesBurst", &info.token_bucket_bytes_burst);
    }
    if (!s.ok()) return s;
  }
  return info;
}

std::string MakeServerKeyFrame(const PublicKey& server) {
  std::string payload(kMagicString);
  payload.append(reinterpret_cast<const char*>(server.bytes().data()), kKeyLen);
  std::string out;
  AppendFrame(FrameType::kServerKey, AsBytes(payload), &out);
  return out;
}

std::string MakeClientInfoFrame(const PrivateKey& client, const PublicKey& client_public,
                                const PublicKey& server, const ClientInfo& info) {
  std::string json = EncodeClientInfoJson(info);
  std::string payload(reinterpret_cast<const char*>(client_public.bytes().data()), kKeyLen);
  payload += SealTo(client, server, AsBytes(json));
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(json.data()), json.size()));
  std::string out;
  AppendFrame(FrameType::kClientInfo, AsBytes(payload), &out);
  return out;
}

std::string MakeServerInfoFrame(const PrivateKey& server, const PublicKey& client,
                                const ServerInfo& info) {
  const std::string sealed = SealTo(server, client, AsBytes(EncodeServerInfoJson(info)));
  std::string out;
  AppendFrame(FrameType::kServerInfo, AsBytes(sealed), &out);
  return out;
}

absl::StatusOr<PublicKey> ParseServerKey(ByteSpan payload) {
  if (payload.size() < kServerKeyFrameLen ||
      std::memcmp(payload.data(), kMagic.data(), kMagic.size()) != 0) {
    return absl::InvalidArgumentError("invalid server greeting");
  }
  return PublicKey(x25519::KeySpan(payload.data() + kMagic.size(), kKeyLen));
}

absl::StatusOr<OpenedClientInfo> OpenClientInfo(const PrivateKey& server, ByteSpan payload) {
  if (payload.size() < kMinClientInfoFrameLen)
    return absl::InvalidArgumentError("short client info");
  if (payload.size() > kMaxClientInfoFrameLen)
    return absl::InvalidArgumentError("long client info");
  OpenedClientInfo opened;
  opened.client = PublicKey(x25519::KeySpan(payload.data(), kKeyLen));
  auto json = OpenFrom(server, opened.client, payload.subspan(kKeyLen));
  if (!json)
    return absl::PermissionDeniedError("client info: the box does not open with the client's key");
  auto info = DecodeClientInfoJson(*json);
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(json->data()), json->size()));
  if (!info.ok()) return info.status();
  opened.info = *std::move(info);
  return opened;
}

absl::StatusOr<ServerInfo> OpenServerInfo(const PrivateKey& client, const PublicKey& server,
                                          ByteSpan payload) {
  if (payload.size() < kNonceLen) return absl::InvalidArgumentError("short server info frame");
  if (payload.size() > kNonceLen + kMaxInfoLen)
    return absl::InvalidArgumentError("long server info frame");
  auto json = OpenFrom(client, server, payload);
  if (!json)
    return absl::PermissionDeniedError("server info: the box does not open with the server's key");
  return DecodeServerInfoJson(*json);
}

}  // namespace meshvpn::derp
