// DERP's handshake messages: the server's greeting (FrameServerKey), the client's info sealed to
// the server (FrameClientInfo) and the server's info sealed back (FrameServerInfo), with their
// JSON exactly as Tailscale's encoding/json writes it.
//
//   server -> client   ServerKey   magic "DERP🔑" (8) | server public key (32)
//   client -> server   ClientInfo  client public key (32) | nonce (24) | box(JSON ClientInfo)
//   server -> client   ServerInfo  nonce (24) | box(JSON ServerInfo)
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/derp/keys.h"

namespace meshvpn::derp {

// derp_client.go ClientInfo. JSON field names and omission rules are Tailscale's:
// {"meshKey":"<hex>" (omitted when zero), "version":2 (omitted when 0), "CanAckPings":bool,
//  "IsProber":true (omitted when false), "AppName":"..." (omitted when empty)}.
struct ClientInfo {
  MeshKey mesh_key;
  int version = 0;
  bool can_ack_pings = false;
  bool is_prober = false;
  std::string app_name;
};

// derp.go ServerInfo: {"version":2, "TokenBucketBytesPerSecond":N, "TokenBucketBytesBurst":N},
// each omitted when zero. A non-zero rate asks the client to limit what it sends.
struct ServerInfo {
  int version = 0;
  int64_t token_bucket_bytes_per_second = 0;
  int64_t token_bucket_bytes_burst = 0;
};

// The JSON, byte for byte as Go's json.Marshal writes these structs (field order, omissions).
std::string EncodeClientInfoJson(const ClientInfo& info);
std::string EncodeServerInfoJson(const ServerInfo& info);
// Parses as Go's json.Unmarshal would: field names match case-insensitively, unknown fields are
// ignored, the last of repeated fields wins; a mesh key that is not 64 hex digits is an error.
absl::StatusOr<ClientInfo> DecodeClientInfoJson(std::string_view json);
absl::StatusOr<ServerInfo> DecodeServerInfoJson(std::string_view json);

// ---- Whole frames (header included) ---------------------------------------------------------
std::string MakeServerKeyFrame(const PublicKey& server);
std::string MakeClientInfoFrame(const PrivateKey& client, const PublicKey& client_public,
                                const PublicKey& server, const ClientInfo& info);
std::string MakeServerInfoFrame(const PrivateKey& server, const PublicKey& client,
                                const ServerInfo& info);

// ---- Payload parsers (the frame's payload, after the 5-byte header) -------------------------
// The magic and the key; longer payloads are accepted (future use), shorter ones are not.
absl::StatusOr<PublicKey> ParseServerKey(ByteSpan payload);

struct OpenedClientInfo {
  PublicKey client;
  ClientInfo info;
};
// The server's side: the length bounds of recvClientKey (kMinClientInfoFrameLen ..
// kMaxClientInfoFrameLen), the box opened with the server's key, then the JSON.
absl::StatusOr<OpenedClientInfo> OpenClientInfo(const PrivateKey& server, ByteSpan payload);
// The client's side: at least a nonce, at most nonce + kMaxInfoLen, the box, the JSON.
absl::StatusOr<ServerInfo> OpenServerInfo(const PrivateKey& client, const PublicKey& server,
                                          ByteSpan payload);

}  // namespace meshvpn::derp
