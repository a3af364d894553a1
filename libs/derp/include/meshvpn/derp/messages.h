// DERP's wire constants (Tailscale's protocol version 2): frame types, the magic, sizes, limits,
// timers, peer-gone reasons and peer-present flags, each with where in Tailscale's source it is.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshvpn::derp {

// Source of every constant below: tailscale/tailscale at de9ec7ee (2026-08), files derp/derp.go
// ("derp.go"), derp/derp_client.go ("client"), derp/derpserver/derpserver.go ("server"),
// derp/derphttp/ ("derphttp") and disco/disco.go ("disco"). Facts only; no code is copied.

// ---- Protocol ---------------------------------------------------------------------------------
// derp.go ProtocolVersion: 2 = "received packets have src addrs in frameRecvPacket at beginning".
inline constexpr int kProtocolVersion = 2;

// derp.go Magic: "DERP🔑", the 8 bytes 0x44 45 52 50 f0 9f 94 91, first in FrameServerKey.
inline constexpr std::array<uint8_t, 8> kMagic = {0x44, 0x45, 0x52, 0x50, 0xf0, 0x9f, 0x94, 0x91};
inline constexpr std::string_view kMagicString = "DERP\xf0\x9f\x94\x91";
static_assert(kMagicString.size() == kMagic.size());

// ---- Frame header: 1 type byte + big-endian uint32 length of what follows (derp.go) -----------
//
//   0        1                                   5
//   +--------+-----------------------------------+------------------------------+
//   |  type  |  length (uint32, big-endian)      |  payload (length bytes)      |
//   +--------+-----------------------------------+------------------------------+
inline constexpr size_t kFrameHeaderLen = 1 + 4;
static_assert(kFrameHeaderLen == 5);

// derp.go: KeyLen, NonceLen. A key is a Curve25519 public key; a nonce is NaCl box's (XSalsa20).
inline constexpr size_t kKeyLen = 32;
inline constexpr size_t kNonceLen = 24;
// NaCl box's Poly1305 tag, in front of the ciphertext (crypto_box_MACBYTES; Go's box.Overhead).
inline constexpr size_t kBoxTagLen = 16;
// What sealing adds to a plaintext on DERP's wire: the nonce, prepended, and the tag
// (types/key/node.go SealTo: "a 24-byte nonce concatenated with the box value").
inline constexpr size_t kSealOverhead = kNonceLen + kBoxTagLen;
static_assert(kSealOverhead == 40);

// ---- Sizes and limits -----------------------------------------------------------------------
// derp.go MaxPacketSize: 64 KiB, the largest packet (payload only, keys not counted).
inline constexpr size_t kMaxPacketSize = 64 << 10;
// derp.go MaxInfoLen: the largest ClientInfo/ServerInfo JSON (1 MiB). The client also refuses
// any frame longer than this ("unexpectedly large frame", client recvTimeout).
inline constexpr size_t kMaxInfoLen = 1 << 20;
// The largest frame either of our readers accepts at all (also for frame types it skips).
// Tailscale's client uses 1 MiB; its server has no cap for skipped frames (see docs/derp.md).
inline constexpr size_t kMaxFrameLen = 1 << 20;
// client recvServerKey: the greeting is read with a 1 KiB limit (readFrame(br, 1<<10, ...)).
inline constexpr size_t kMaxServerKeyFrameLen = 1 << 10;
// server recvClientKey: "long client info" above 256 KiB, "short client info" below key+nonce.
inline constexpr size_t kMaxClientInfoFrameLen = 256 << 10;
inline constexpr size_t kMinClientInfoFrameLen = kKeyLen + kNonceLen;
// server handleFramePing: shorter than 8 is an error, longer than 1000 "unreasonably extra large".
inline constexpr size_t kPingLen = 8;
inline constexpr size_t kMaxPingFrameLen = 1000;
// derp.go WriteFrame refuses writes above 10 MiB ("unreasonably large frame write").
inline constexpr size_t kMaxFrameWrite = 10 << 20;

// Payload sizes of the fixed frames.
inline constexpr size_t kServerKeyFrameLen = kMagic.size() + kKeyLen;  // + 0 or more future bytes
inline constexpr size_t kNotePreferredFrameLen = 1;
inline constexpr size_t kPeerGoneFrameLen = kKeyLen + 1;  // server peerGoneFrameLen
// server peerPresentFrameLen: key + 16-byte IP + 2-byte big-endian port + 1 flags byte. (The
// comment in derp.go says "current servers send 41 bytes"; the server code writes 51.)
inline constexpr size_t kPeerPresentIpLen = 16;
inline constexpr size_t kPeerPresentFrameLen = kKeyLen + kPeerPresentIpLen + 2 + 1;
inline constexpr size_t kClosePeerFrameLen = kKeyLen;
inline constexpr size_t kRestartingFrameLen = 4 + 4;
static_assert(kServerKeyFrameLen == 40 && kPeerGoneFrameLen == 33 && kPeerPresentFrameLen == 51);

// The longest frame our server ever writes for a packet: a RecvPacket of the largest packet.
inline constexpr size_t kMaxRecvPacketFrame = kFrameHeaderLen + kKeyLen + kMaxPacketSize;
inline constexpr size_t kMaxForwardPacketFrame = kFrameHeaderLen + 2 * kKeyLen + kMaxPacketSize;
static_assert(kMaxRecvPacketFrame == 65573);

// ---- Timers and queue sizes ------------------------------------------------------------------
// derp.go KeepAlive: the server sends a keepalive at least this often; the server adds a jitter
// of up to 5 s per connection (server sendLoop: derp.KeepAlive + rand.N(5*time.Second)).
inline constexpr std::chrono::seconds kKeepAlive{60};
inline constexpr std::chrono::seconds kKeepAliveJitterMax{5};
// server accept: 10 s for the whole handshake (nc.SetDeadline(now + 10 s)).
inline constexpr std::chrono::seconds kHandshakeTimeout{10};
// client Recv: a read that sees nothing for 120 s fails (recvTimeout(120 * time.Second)).
inline constexpr std::chrono::seconds kClientRecvTimeout{120};
// derphttp Client.Ping: a ping not answered within 5 s fails.
inline constexpr std::chrono::seconds kPingTimeout{5};
// derphttp mesh_client.go retryInterval: a mesh link that fails waits 5 s before redialling.
inline constexpr std::chrono::seconds kMeshRetryInterval{5};
// server setPreferred: home moves are counted only after the first 5 s of a connection.
inline constexpr std::chrono::seconds kHomeMoveGrace{5};
// server defaultPerClientSendQueueDepth: 32 packets per queue (one for disco, one for the rest).
inline constexpr size_t kPerClientSendQueueDepth = 32;
// server accept: peerGoneLim = rate.NewLimiter(rate.Every(time.Second), 3).
inline constexpr std::chrono::seconds kPeerGoneNotHereInterval{1};
inline constexpr uint32_t kPeerGoneNotHereBurst = 3;
// server minRateLimitTokenBucketSize: a rate limit's burst is at least one full send frame.
inline constexpr uint64_t kMinRateLimitBurst = kMaxPacketSize + kKeyLen;
// server DefaultTCPWiteTimeout / privilegedWriteTimeout: for the drivers.
inline constexpr std::chrono::seconds kWriteTimeout{2};
inline constexpr std::chrono::seconds kMeshWriteTimeout{30};

// ---- Frame types (derp.go) ------------------------------------------------------------------
enum class FrameType : uint8_t {
  kServerKey = 0x01,      // 8B magic + 32B server public key + (0+ bytes future use)
  kClientInfo = 0x02,     // 32B client public key + 24B nonce + box(JSON)
  kServerInfo = 0x03,     // 24B nonce + box(JSON)
  kSendPacket = 0x04,     // 32B destination key + packet
  kRecvPacket = 0x05,     // v2: 32B source key + packet
  kKeepAlive = 0x06,      // no payload
  kNotePreferred = 0x07,  // 1 byte: 0x01 this is the client's home server, 0x00 not
  kPeerGone = 0x08,       // 32B key of the peer that is gone + 1B reason
  kPeerPresent = 0x09,    // 32B key [+ 16B IP + 2B port [+ 1B flags]] (mesh watchers)
  kForwardPacket = 0x0a,  // 32B source key + 32B destination key + packet (mesh)
  kWatchConns = 0x10,     // no payload; needs the mesh key
  kClosePeer = 0x11,      // 32B key of the peer to close; needs the mesh key
  kPing = 0x12,           // 8 bytes, echoed in a pong
  kPong = 0x13,           // the 8 bytes of the ping answered
  kHealth = 0x14,         // UTF-8 text of a problem; empty clears it
  kRestarting = 0x15,     // 2 x big-endian uint32 ms: reconnect in, try for
};
// "server_key", "send_packet", ...; "unknown" for other values.
std::string_view ToString(FrameType type);
// True for the 16 frame types above.
bool IsKnownFrameType(uint8_t type);

// derp.go PeerGoneReasonType: why a server has no path to a peer.
enum class PeerGoneReason : uint8_t {
  kDisconnected = 0x00,   // the peer was connected here and left
  kNotHere = 0x01,        // the server does not know the peer
  kMeshConnBroke = 0xf0,  // never on the wire: a mesh link to the peer's server broke
};
std::string_view ToString(PeerGoneReason reason);

// derp.go PeerPresentFlags: the optional byte after a PeerPresent's endpoint. A modern server
// never sends 0 (no flag means "regular").
namespace peer_present_flags {
inline constexpr uint8_t kIsRegular = 1 << 0;
inline constexpr uint8_t kIsMeshPeer = 1 << 1;
inline constexpr uint8_t kIsProber = 1 << 2;
inline constexpr uint8_t kNotIdeal = 1 << 3;  // the client's ideal node is another one
}  // namespace peer_present_flags

// derp.go IdealNodeHeader / FastStartHeader: HTTP request headers of the upgrade (derphttp).
inline constexpr std::string_view kIdealNodeHeader = "Ideal-Node";
inline constexpr std::string_view kFastStartHeader = "Derp-Fast-Start";

// disco.go Magic "TS💬" (0x54 53 f0 9f 92 ac): a payload that starts with it and is at least
// magic + key + nonce long "looks like disco". The server queues such packets separately and,
// like Tailscale, can restrict PeerGone(NotHere) replies to them.
inline constexpr std::array<uint8_t, 6> kDiscoMagic = {0x54, 0x53, 0xf0, 0x9f, 0x92, 0xac};
inline constexpr size_t kDiscoMinLen = kDiscoMagic.size() + kKeyLen + kNonceLen;

}  // namespace meshvpn::derp
