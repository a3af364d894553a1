// The control protocol's versions and the Envelope framing inside the Noise channel: what both
// the server and its client agree on before any message means anything (docs/control.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/control/v1/control.pb.h"

namespace meshvpn::control {

// The capability version this build speaks, and the oldest it accepts.
inline constexpr uint32_t kCapabilityVersion = 1;
inline constexpr uint32_t kMinCapabilityVersion = 1;

// The version two sides speak: the lower of the two, or an error if the peer's is below
// kMinCapabilityVersion (0 means the peer did not say).
absl::StatusOr<uint32_t> NegotiateVersion(uint32_t peer_version);

// The largest Envelope either side accepts: a full map of 10,000 peers fits with room (about
// 300 bytes a peer), and nothing larger is ever buffered.
inline constexpr size_t kMaxEnvelopeBytes = 16 * 1024 * 1024;

// Serializes an Envelope (bounded by kMaxEnvelopeBytes).
absl::StatusOr<std::string> EncodeEnvelope(const v1::Envelope& envelope);
// Parses one Envelope; an oversized or malformed one, or one with no body, is an error. The
// first call silences protobuf's own log lines below FATAL (a peer could flood the log with
// them; the returned error already says the message was bad).
absl::StatusOr<v1::Envelope> DecodeEnvelope(ByteSpan bytes);

}  // namespace meshvpn::control
