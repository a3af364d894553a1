#include "meshvpn/noise/handshake_pattern.h"

#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace meshvpn::noise {
namespace {

using T = Token;

constexpr std::array<Token, 1> kE = {T::kE};
constexpr std::array<Token, 2> kEEe = {T::kE, T::kEE};
constexpr std::array<Token, 4> kXx2 = {T::kE, T::kEE, T::kS, T::kES};
constexpr std::array<Token, 2> kXx3 = {T::kS, T::kSE};
constexpr std::array<Token, 4> kIk1 = {T::kE, T::kES, T::kS, T::kSS};
constexpr std::array<Token, 3> kIk2 = {T::kE, T::kEE, T::kSE};
constexpr std::array<Token, 4> kIkpsk2_2 = {T::kE, T::kEE, T::kSE, T::kPsk};

const std::array<MessagePattern, 2> kNnMessages = {{{true, kE}, {false, kEEe}}};
const std::array<MessagePattern, 3> kXxMessages = {{{true, kE}, {false, kXx2}, {true, kXx3}}};
const std::array<MessagePattern, 2> kIkMessages = {{{true, kIk1}, {false, kIk2}}};
const std::array<MessagePattern, 2> kIkpsk2Messages = {{{true, kIk1}, {false, kIkpsk2_2}}};

const PatternSpec kSpecs[] = {
    {HandshakePattern::kNN, "NN", "Noise_NN_25519_ChaChaPoly_BLAKE2s", false, false, false, false,
     false, kNnMessages},
    {HandshakePattern::kXX, "XX", "Noise_XX_25519_ChaChaPoly_BLAKE2s", false, false, false, true,
     true, kXxMessages},
    {HandshakePattern::kIK, "IK", "Noise_IK_25519_ChaChaPoly_BLAKE2s", false, true, false, true,
     true, kIkMessages},
    {HandshakePattern::kIKpsk2, "IKpsk2", "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", false, true,
     true, true, true, kIkpsk2Messages},
};

}  // namespace

const PatternSpec& GetPatternSpec(HandshakePattern pattern) {
  return kSpecs[static_cast<size_t>(pattern)];
}

std::string_view ToString(HandshakePattern pattern) { return GetPatternSpec(pattern).name; }

absl::StatusOr<HandshakePattern> ParseHandshakePattern(std::string_view name) {
  for (const PatternSpec& spec : kSpecs) {
    if (spec.name == name) return spec.pattern;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "noise: unknown handshake pattern \"%s\" (known: NN, XX, IK, IKpsk2)", std::string(name)));
}

std::string_view ToString(Token token) {
  switch (token) {
    case Token::kE:
      return "e";
    case Token::kS:
      return "s";
    case Token::kEE:
      return "ee";
    case Token::kES:
      return "es";
    case Token::kSE:
      return "se";
    case Token::kSS:
      return "ss";
    case Token::kPsk:
      return "psk";
  }
  return "?";
}

std::string_view ToString(Role role) {
  return role == Role::kInitiator ? "initiator" : "responder";
}

}  // namespace meshvpn::noise
