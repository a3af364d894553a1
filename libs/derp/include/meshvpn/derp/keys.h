// DERP's keys: node keys in Tailscale's text forms ("nodekey:<hex>", "privkey:<hex>"), the mesh
// key shared by the servers of a region, and the server's private key file (0600, JSON).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::derp {

// A DERP client or server is identified by a Curve25519 public key (Tailscale's node key).
using PublicKey = x25519::PublicKey;
using PrivateKey = x25519::PrivateKey;

// Tailscale's text forms (types/key/node.go): "nodekey:" + 64 lowercase hex for a public key,
// "privkey:" + 64 hex for a private one.
inline constexpr std::string_view kNodeKeyPrefix = "nodekey:";
inline constexpr std::string_view kPrivateKeyPrefix = "privkey:";

// "nodekey:<hex>".
std::string FormatNodeKey(const PublicKey& key);
// Tailscale's ShortString: "[" + the first 5 characters of the base64 form + "]", for logs.
std::string ShortKey(const PublicKey& key);
// Accepts "nodekey:<hex>", bare 64-hex, or WireGuard's 44-character base64.
absl::StatusOr<PublicKey> ParseNodeKey(std::string_view text);
// Accepts "privkey:<hex>" or bare 64-hex. Errors never echo the text.
absl::StatusOr<PrivateKey> ParsePrivateKey(std::string_view text);
// "privkey:<hex>": holds the secret, wipe it (SecureWipe) once written.
std::string ExportPrivateKey(const PrivateKey& key);

// The mesh key: 32 secret bytes written as 64 hex digits (types/key/derp.go). A client that
// presents it in its ClientInfo is a mesh peer (it may watch connections and forward packets).
// Compared in constant time; never printed.
class MeshKey {
 public:
  MeshKey() = default;                                         // zero: no mesh key
  static absl::StatusOr<MeshKey> Parse(std::string_view hex);  // 64 hex digits, spaces trimmed
  // The file holds the 64 hex digits (a trailing newline is fine), as derper's --meshpsk-file.
  static absl::StatusOr<MeshKey> ReadFile(const std::string& path);

  bool IsZero() const;
  bool ConstantTimeEquals(const MeshKey& other) const;
  // 64 lowercase hex digits, for the ClientInfo JSON only (it travels inside the NaCl box).
  std::string ExportHexForClientInfo() const;

  friend bool operator==(const MeshKey&, const MeshKey&) = delete;

 private:
  x25519::PresharedKey bytes_;  // 32 secret bytes with the same hygiene (wiped, not printable)
};

// The server's identity key. LoadOrCreate reads `path` (derper's config format, JSON
// {"PrivateKey": "privkey:<hex>"}), or if the file does not exist generates a key and writes it
// with mode 0600 (created atomically: written to a temporary file in the same directory, then
// renamed). An existing file readable by group or others is refused.
struct ServerKeyFile {
  static absl::StatusOr<PrivateKey> LoadOrCreate(const std::string& path, bool* created = nullptr);
};

}  // namespace meshvpn::derp
