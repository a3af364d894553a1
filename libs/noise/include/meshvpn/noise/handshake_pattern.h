// The Noise handshake patterns meshvpn implements (NN, XX, IK and WireGuard's IKpsk2) as tables of
// tokens, with their protocol names for the 25519_ChaChaPoly_BLAKE2s suite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace meshvpn::noise {

// Noise rev. 34 section 7 (and 9 for psk):
//
//   NN:         -> e                 XX:  -> e               IK:   <- s
//               <- e, ee                  <- e, ee, s, es          ...
//                                         -> s, se                 -> e, es, s, ss
//                                                                  <- e, ee, se
//   IKpsk2:     <- s
//               ...
//               -> e, es, s, ss
//               <- e, ee, se, psk        (WireGuard's handshake)
enum class HandshakePattern : uint8_t { kNN, kXX, kIK, kIKpsk2 };
enum class Token : uint8_t { kE, kS, kEE, kES, kSE, kSS, kPsk };
enum class Role : uint8_t { kInitiator, kResponder };

inline constexpr size_t kMaxMessagePatterns = 3;
inline constexpr size_t kMaxTokensPerMessage = 6;

// One message: who sends it and its tokens.
struct MessagePattern {
  bool from_initiator;
  std::span<const Token> tokens;
};

// Pre-messages (keys known before the handshake) and messages of one pattern.
struct PatternSpec {
  HandshakePattern pattern;
  std::string_view name;             // "IKpsk2"
  std::string_view protocol_name;    // "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
  bool initiator_static_premessage;  // -> s before "..."
  bool responder_static_premessage;  // <- s before "..."
  bool has_psk;                      // a psk modifier (e tokens also MixKey)
  bool initiator_has_static;         // the initiator needs a static key pair
  bool responder_has_static;         // the responder needs a static key pair
  std::span<const MessagePattern> messages;
};

const PatternSpec& GetPatternSpec(HandshakePattern pattern);

// "NN", "XX", "IK", "IKpsk2".
std::string_view ToString(HandshakePattern pattern);
// Accepts exactly the names ToString returns (case-sensitive, as Noise names are).
absl::StatusOr<HandshakePattern> ParseHandshakePattern(std::string_view name);
// "e", "s", "ee", "es", "se", "ss", "psk".
std::string_view ToString(Token token);
// "initiator", "responder".
std::string_view ToString(Role role);

}  // namespace meshvpn::noise
