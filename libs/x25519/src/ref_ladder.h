// Reference backend: the X25519 function of RFC 7748 as a Montgomery ladder over ref_field.h.
#pragma once

#include <cstdint>
#include <span>

namespace meshvpn::x25519::ref {

// out = X25519(scalar, u): clamps a copy of the scalar, decodes u (ignoring bit 255), runs the
// ladder and encodes the resulting u-coordinate. Constant-time in scalar and u. Returns all zeros
// when u is a low-order point; rejecting that is the caller's job. out may alias neither input.
void X25519(std::span<const uint8_t, 32> scalar, std::span<const uint8_t, 32> u,
            std::span<uint8_t, 32> out);

}  // namespace meshvpn::x25519::ref
