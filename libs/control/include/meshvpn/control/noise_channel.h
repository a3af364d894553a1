// The control protocol's secure channel: a Noise IK handshake (the client's machine key against
// the server's pinned static key) and then Envelopes in encrypted records, all in 3-byte-header
// frames on the upgraded HTTP stream. Sans-I/O: bytes in, bytes out (docs/control.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/control/v1/control.pb.h"
#include "meshvpn/noise/handshake_state.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::control {

// Frames: type (1 byte) | length (2 bytes, big-endian) | payload (at most 65535 bytes).
enum class NoiseFrameType : uint8_t {
  kInitiation = 1,  // client: channel version (2 bytes) | Noise IK message 1
  kResponse = 2,    // server: Noise IK message 2
  kError = 3,       // either side, in plaintext: why it gives up (never a secret), then it closes
  kRecord = 4,      // a Noise transport message: a piece of the Envelope stream
};
inline constexpr size_t kNoiseFrameHeader = 3;
inline constexpr size_t kMaxNoiseFramePayload = 65535;
// The channel's own version (the framing and the handshake), mixed into the prologue.
inline constexpr uint16_t kNoiseChannelVersion = 1;

// The length of the whole frame at the start of `stream` (header included) once it has fully
// arrived; nullopt while incomplete.
std::optional<size_t> CompleteFrameLength(ByteSpan stream);
// An error frame with `message` (truncated to fit).
std::string ErrorFrame(std::string_view message);

// Both directions of an established channel. Envelopes go in as u32-length-prefixed pieces of
// a byte stream, cut into records of at most 65519 plaintext bytes. Any error is final.
class NoiseChannel {
 public:
  explicit NoiseChannel(noise::TransportState transport) : transport_(std::move(transport)) {}
  NoiseChannel(NoiseChannel&&) noexcept = default;
  NoiseChannel& operator=(NoiseChannel&&) noexcept = default;

  // Bytes from the peer, any split. Each whole Envelope is appended to `out`. A bad tag, a frame
  // of the wrong type, an Envelope over kMaxEnvelopeBytes or malformed, or the peer's error
  // frame (its text in the status): an error, and every later call returns it.
  absl::Status Receive(ByteSpan wire, std::vector<v1::Envelope>* out);
  // Appends the frames carrying one Envelope to `wire`.
  absl::Status Send(const v1::Envelope& envelope, std::string* wire);
  // The same for an Envelope already encoded (the map builder's output).
  absl::Status SendEncoded(std::string_view envelope_bytes, std::string* wire);

  // Equal on both sides: binds the channel (safe to show).
  const noise::Blake2sHash& handshake_hash() const { return transport_.handshake_hash; }
  // Ciphertext of an incomplete frame plus plaintext of an incomplete Envelope, buffered.
  size_t buffered() const { return (in_.size() - in_pos_) + (plain_.size() - plain_pos_); }

 private:
  absl::Status Fail(absl::Status status);

  noise::TransportState transport_;
  std::string in_;  // frames not yet complete
  size_t in_pos_ = 0;
  std::string plain_;  // the Envelope stream, decrypted
  size_t plain_pos_ = 0;
  absl::Status failure_;
};

// The client's side of the handshake.
class ClientHandshake {
 public:
  // `machine_key` is the client's identity; `server_key` what it pinned from /key.
  static absl::StatusOr<ClientHandshake> Start(const x25519::PrivateKey& machine_key,
                                               const x25519::PublicKey& server_key);
  // The initiation frame: sent in the upgrade request (base64 in a header) or as the first
  // bytes of the stream.
  const std::string& initiation() const { return initiation_; }
  // Reads the server's first frame (CompleteFrameLength bytes of it): its response, or its
  // error (the text in the status). Unauthenticated if the server is not who was pinned.
  absl::StatusOr<NoiseChannel> Finish(ByteSpan frame);

 private:
  explicit ClientHandshake(noise::HandshakeState state) : state_(std::move(state)) {}
  noise::HandshakeState state_;
  std::string initiation_;
};

// The server's side: one initiation frame in, the client's machine key and the response out.
struct AcceptedChannel {
  x25519::PublicKey machine_key;  // who the client is (authenticated by the handshake)
  std::string response;           // the response frame, to send first
  NoiseChannel channel;
};
absl::StatusOr<AcceptedChannel> AcceptHandshake(const x25519::PrivateKey& server_key,
                                                ByteSpan initiation_frame);

}  // namespace meshvpn::control
