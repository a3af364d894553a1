// psk_tunnel (C project 3): the UDP tunnel with ChaCha20-Poly1305 under a pre-shared key.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/secure.h"
#include "psk_protector.h"
#include "tunnel_main.h"

ABSL_FLAG(std::string, key_file, "",
          "file holding the 32-byte pre-shared key in base64 (make one with --genkey)");
ABSL_FLAG(bool, genkey, false, "print a new random key in base64 and exit");
ABSL_FLAG(std::string, backend, "openssl", "crypto backend: openssl or ref (the readable one)");

namespace {

constexpr char kUsage[] =
    R"(psk_tunnel: the UDP tunnel, encrypted with ChaCha20-Poly1305 under a pre-shared key.

Every IP packet from the TUN device is sealed before it leaves:
  | dir | 0 0 0 | counter (8 bytes) | ChaCha20(packet) | Poly1305 tag (16) |
The 12-byte header is the nonce: the direction byte keeps the two directions apart, the counter
never repeats (the tunnel refuses to run on rather than wrap it). The receiver drops, and counts,
anything whose tag does not verify (a flipped byte, another key) and any counter it has already
accepted or that is too old for its 1984-packet replay window.

The MTU is 1424 by default: 1500 minus 40 (outer IPv6) minus 8 (UDP) minus 28 (header and tag).

Make a key and copy it to both machines (it is never printed or logged by the tunnel):
  psk_tunnel --genkey > tunnel.key
Machine A:  psk_tunnel --mode server --listen :5000 --address 10.0.0.1/24 --key-file tunnel.key
Machine B:  psk_tunnel --mode client --peer A:5000 --address 10.0.0.2/24 --key-file tunnel.key
Then on B:  ping 10.0.0.1, and watch `tcpdump -X udp port 5000` show only ciphertext.

Ctrl-C stops and prints the statistics (including the dropped packets by reason);
`kill -USR1 <pid>` prints them while running.)";

absl::Status ReadKey(const std::string& path, uint8_t (&key)[32]) {
  if (path.empty()) return absl::InvalidArgumentError("--key-file is required (see --genkey)");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot open key file %s", path));
  std::string text;
  std::getline(in, text);
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  absl::Status status = meshvpn::Base64DecodeInto(text, key);
  meshvpn::SecureWipe(
      meshvpn::MutableByteSpan(reinterpret_cast<uint8_t*>(text.data()), text.size()));
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("key file %s: %s (want 44 base64 characters)", path, status.message()));
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  meshvpn::tunnel::TunnelToolSpec spec;
  spec.usage = kUsage;
  spec.default_mtu = 1500 - 40 - 8 - 28;
  spec.make_protector = [](meshvpn::tunnel::TunnelConfig::Mode mode)
      -> absl::StatusOr<std::unique_ptr<meshvpn::tunnel::PacketProtector>> {
    auto backend = meshvpn::ParseCryptoBackend(absl::GetFlag(FLAGS_backend));
    if (!backend.ok()) return backend.status();
    uint8_t key[32];
    if (absl::Status s = ReadKey(absl::GetFlag(FLAGS_key_file), key); !s.ok()) return s;
    using Direction = meshvpn::tunnel::PskProtector::Direction;
    auto protector = meshvpn::tunnel::PskProtector::Create(
        key,
        mode == meshvpn::tunnel::TunnelConfig::Mode::kClient ? Direction::kClientToServer
                                                             : Direction::kServerToClient,
        *backend);
    meshvpn::SecureWipe(key);
    if (!protector.ok()) return protector.status();
    return std::make_unique<meshvpn::tunnel::PskProtector>(std::move(*protector));
  };
  spec.before_start = []() -> std::optional<int> {
    if (!absl::GetFlag(FLAGS_genkey)) return std::nullopt;
    uint8_t key[32];
    if (!meshvpn::FillRandom(key).ok()) return 1;
    std::printf("%s\n", meshvpn::Base64Encode(key).c_str());
    meshvpn::SecureWipe(key);
    return 0;
  };
  return meshvpn::tunnel::RunTunnelTool(argc, argv, spec);
}
