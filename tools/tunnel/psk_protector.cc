#include "psk_protector.h"

#include <cstring>

namespace meshvpn::tunnel {
namespace {

void WriteHeader(uint8_t* header, uint8_t direction, uint64_t counter) {
  header[0] = direction;
  header[1] = header[2] = header[3] = 0;
  for (int i = 0; i < 8; ++i) header[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
}

uint64_t ReadCounter(const uint8_t* header) {
  uint64_t counter = 0;
  for (int i = 0; i < 8; ++i) counter |= uint64_t{header[4 + i]} << (8 * i);
  return counter;
}

}  // namespace

absl::StatusOr<PskProtector> PskProtector::Create(ByteSpan key, Direction send_direction,
                                                  CryptoBackend backend, uint64_t first_counter) {
  auto cipher = aead::ChaCha20Poly1305::Create(key, backend);
  if (!cipher.ok()) return cipher.status();
  return PskProtector(std::move(*cipher), send_direction, first_counter);
}

ProtectResult PskProtector::Protect(PacketBuffer& buffer) {
  // The last counter value is never used, so a receiver's window limit can exclude it.
  if (next_counter_ == UINT64_MAX) return ProtectResult::kNonceExhausted;
  const size_t plaintext_size = buffer.size();
  if (buffer.headroom() < kHeaderSize || buffer.tailroom() < aead::kTagSize) {
    return ProtectResult::kNoRoom;
  }
  const uint64_t counter = next_counter_++;
  MutableByteSpan header = buffer.Prepend(kHeaderSize);
  WriteHeader(header.data(), static_cast<uint8_t>(send_direction_), counter);
  (void)buffer.Append(aead::kTagSize);  // room checked above
  const aead::AeadResult result =
      key_.Seal(header, header, buffer.span().subspan(kHeaderSize), plaintext_size);
  return result == aead::AeadResult::kOk ? ProtectResult::kOk : ProtectResult::kCryptoFailure;
}

ProtectResult PskProtector::MakeKeepalive(PacketBuffer& buffer) {
  buffer.Reset();
  return Protect(buffer);
}

UnprotectResult PskProtector::Unprotect(PacketBuffer& buffer) {
  if (buffer.size() < kHeaderSize + aead::kTagSize) return UnprotectResult::kMalformed;
  const uint8_t* header = buffer.data();
  const uint8_t expected = send_direction_ == Direction::kClientToServer
                               ? static_cast<uint8_t>(Direction::kServerToClient)
                               : static_cast<uint8_t>(Direction::kClientToServer);
  if (header[1] != 0 || header[2] != 0 || header[3] != 0) return UnprotectResult::kMalformed;
  if (header[0] != expected) {
    return header[0] == static_cast<uint8_t>(send_direction_) ? UnprotectResult::kWrongDirection
                                                              : UnprotectResult::kMalformed;
  }
  const uint64_t counter = ReadCounter(header);
  // Cheap check first: an old or repeated counter costs no decryption.
  if (!replay_.IsPlausible(counter)) return UnprotectResult::kReplay;
  MutableByteSpan sealed{buffer.data() + kHeaderSize, buffer.size() - kHeaderSize};
  if (key_.Open(ByteSpan(header, kHeaderSize), ByteSpan(header, kHeaderSize), sealed) !=
      aead::AeadResult::kOk) {
    return UnprotectResult::kAuthFailed;
  }
  // Only an authenticated counter may move the window.
  if (!replay_.CheckAndUpdate(counter)) return UnprotectResult::kReplay;
  if (!buffer.TrimFront(kHeaderSize) || !buffer.TrimBack(aead::kTagSize)) {
    return UnprotectResult::kMalformed;
  }
  return buffer.empty() ? UnprotectResult::kKeepalive : UnprotectResult::kOk;
}

}  // namespace meshvpn::tunnel
