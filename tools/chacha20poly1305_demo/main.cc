// chacha20poly1305_demo: encrypts and decrypts one message with ChaCha20-Poly1305 (the cipher of
// every WireGuard data packet), shows the nonce, ciphertext and tag, proves that tampering is
// caught, and shows what an eavesdropper learns when a nonce is reused.
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/aead/messages.h"
#include "meshvpn/aead/version.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/base/secure.h"

ABSL_FLAG(std::string, backend, "openssl",
          "which implementation to use: 'openssl' (OpenSSL 3, fast) or 'ref' (meshvpn's readable "
          "from-scratch code); both give identical bytes");
ABSL_FLAG(std::string, message, "Hello, WireGuard!", "the plaintext to encrypt");
ABSL_FLAG(std::string, aad, "",
          "associated data as text: authenticated but NOT encrypted (default: a made-up "
          "16-byte WireGuard-style packet header)");
ABSL_FLAG(std::string, key, "", "the 32-byte key as 64 hex characters (default: a random key)");
ABSL_FLAG(
    uint64_t, counter, 1,
    "the message counter; the 12-byte nonce is 4 zero bytes + this counter (WireGuard's way)");
ABSL_FLAG(int, tamper_byte, 5, "which ciphertext byte the tampering demo flips");
ABSL_FLAG(std::string, second_message, "Retreat at noon!!",
          "the message the nonce-reuse demo encrypts under the SAME key and nonce");
ABSL_FLAG(bool, full, false, "print whole hex strings instead of abbreviating long ones");

namespace meshvpn::tools {
namespace {

using aead::AeadResult;
using aead::ChaCha20Poly1305;
using aead::kTagSize;

constexpr char kUsage[] =
    R"(chacha20poly1305_demo: authenticated encryption, the way WireGuard does it.

ChaCha20-Poly1305 (RFC 8439) takes a 32-byte KEY, a 12-byte NONCE (a number used once), the
PLAINTEXT and some ASSOCIATED DATA (AAD). It gives back a CIPHERTEXT as long as the plaintext
plus a 16-byte TAG:

  ChaCha20 (key, nonce, block 0) -> one-time Poly1305 key
  ChaCha20 (key, nonce, blocks 1..) XOR plaintext -> ciphertext
  Poly1305 (one-time key, AAD + ciphertext + lengths) -> tag

  +-----------------+-------------------------+------------------+
  | AAD (header)    | ciphertext (encrypted)  | tag (16 bytes)   |
  | sent in clear,  | same length as the      | proves nobody    |
  | but protected   | plaintext               | changed anything |
  +-----------------+-------------------------+------------------+

This demo runs four steps and prints what happens in each:
  1. Encrypt your --message with the --aad, and show key, nonce, ciphertext and tag.
  2. Decrypt it again: the tag checks out, you get your message back.
  3. Tamper: flip one ciphertext byte, one AAD byte and one tag byte. Each time decryption
     refuses (and hands back nothing), because the tag no longer matches.
  4. Nonce reuse: encrypt --second_message under the SAME key and nonce. The two ciphertexts
     XORed together equal the two plaintexts XORed together: the encryption cancels out, and
     anyone who knows or guesses one message can read the other. Never reuse a nonce.

Usage:
  chacha20poly1305_demo                          # the whole tour with a random key
  chacha20poly1305_demo --backend=ref            # same, with meshvpn's readable implementation
  chacha20poly1305_demo --message="hi" --aad="header" --counter=7 --full
  chacha20poly1305_demo --key=000102...1f        # a fixed key: the output is reproducible

The exit code is 0 when every step behaved as ChaCha20-Poly1305 must.)";

// Hex, shortened to "first4...last2" bytes unless --full (the seed's "d4f5a2c1...8b9e" style).
std::string ShortHex(ByteSpan bytes) {
  const std::string hex = HexEncode(bytes);
  if (absl::GetFlag(FLAGS_full) || bytes.size() <= 8) return hex;
  return hex.substr(0, 8) + "..." + hex.substr(hex.size() - 4);
}

void PrintBytes(const char* label, ByteSpan bytes) {
  std::printf("%-12s%s (%zu bytes)\n", label, ShortHex(bytes).c_str(), bytes.size());
}

// Printable text, with anything else as \xNN.
std::string Quote(ByteSpan bytes) {
  std::string out = "\"";
  for (uint8_t b : bytes) {
    if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') {
      out += static_cast<char>(b);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", b);
      out += esc;
    }
  }
  return out + "\"";
}

// A made-up WireGuard data-packet header (type 4, reserved, receiver index, counter), standing in
// for "packet header bytes" the receiver must be sure were not changed. (Real WireGuard data
// packets use an empty AAD: the header is covered because the counter is the nonce.)
Bytes DemoHeader(uint64_t counter) {
  Bytes h = {4, 0, 0, 0, 0x2a, 0x13, 0x00, 0x00};
  for (int i = 0; i < 8; ++i) h.push_back(static_cast<uint8_t>(counter >> (8 * i)));
  return h;
}

// Seals `plaintext` into a fresh buffer (ciphertext || tag).
Bytes Seal(ChaCha20Poly1305& key, uint64_t counter, ByteSpan aad, ByteSpan plaintext) {
  Bytes buffer(plaintext.begin(), plaintext.end());
  buffer.resize(plaintext.size() + kTagSize);
  const AeadResult r = key.SealCounter(counter, aad, buffer, plaintext.size());
  if (r != AeadResult::kOk) {
    std::fprintf(stderr, "seal failed: %.*s\n", static_cast<int>(aead::ToString(r).size()),
                 aead::ToString(r).data());
    std::exit(1);
  }
  return buffer;
}

// Tries to open a copy of `sealed`; prints the outcome. Returns true if it was REJECTED.
bool ExpectRejected(ChaCha20Poly1305& key, uint64_t counter, ByteSpan aad, ByteSpan sealed,
                    const std::string& what) {
  Bytes copy(sealed.begin(), sealed.end());
  const AeadResult r = key.OpenCounter(counter, aad, copy);
  std::printf("[%s]\n", what.c_str());
  if (r == AeadResult::kAuthenticationFailed) {
    bool wiped = true;
    for (uint8_t b : copy) wiped &= (b == 0);
    std::printf("\u2717 Authentication failed: tampered message detected!\n");
    if (!wiped) std::printf("!! but the buffer still holds data\n");
    return wiped;
  }
  std::printf("!! unexpected result: %.*s\n", static_cast<int>(aead::ToString(r).size()),
              aead::ToString(r).data());
  return false;
}

int Run() {
  auto backend = ParseCryptoBackend(absl::GetFlag(FLAGS_backend));
  if (!backend.ok()) {
    std::fprintf(stderr, "%s\n", std::string(backend.status().message()).c_str());
    return 2;
  }
  Bytes key_bytes(aead::kKeySize);
  if (const std::string hex = absl::GetFlag(FLAGS_key); !hex.empty()) {
    if (auto s = HexDecodeInto(hex, key_bytes); !s.ok()) {
      std::fprintf(stderr, "--key must be 64 hex characters (32 bytes): %s\n",
                   std::string(s.message()).c_str());
      return 2;
    }
  } else if (auto s = FillRandom(key_bytes); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto created = ChaCha20Poly1305::Create(key_bytes, *backend);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", std::string(created.status().message()).c_str());
    return 1;
  }
  ChaCha20Poly1305& key = *created;

  const uint64_t counter = absl::GetFlag(FLAGS_counter);
  const std::string message = absl::GetFlag(FLAGS_message);
  const std::string aad_text = absl::GetFlag(FLAGS_aad);
  const Bytes aad =
      aad_text.empty() ? DemoHeader(counter) : Bytes(aad_text.begin(), aad_text.end());
  const ByteSpan plaintext = AsBytes(message);
  bool all_good = true;

  // Each nonce this process has used with this key. A real sender never needs such a set: it
  // only ever increments its counter. Here it lets step 4 catch the mistake it makes on purpose.
  std::set<uint64_t> used_counters;

  // 1 + 2: encrypt, decrypt.
  std::printf("ChaCha20-Poly1305 (RFC 8439), backend: %s\n\n",
              std::string(ToString(*backend)).c_str());
  std::printf("Encryption Demo:\n");
  PrintBytes("Key:", key_bytes);
  const auto nonce = aead::CounterNonce(counter);
  std::printf("%-12s%s (12 bytes) = 4 zero bytes + counter %llu, little-endian\n",
              "Nonce:", HexEncode(nonce).c_str(), static_cast<unsigned long long>(counter));
  std::printf("%-12s%s\n", "Plaintext:", Quote(plaintext).c_str());
  std::printf("%-12s%s (%zu bytes)%s\n", "AAD:", HexEncode(aad).c_str(), aad.size(),
              aad_text.empty() ? " [packet header bytes: type 4, receiver index, counter]" : "");
  std::printf("Encrypting...\n");
  used_counters.insert(counter);
  const Bytes sealed = Seal(key, counter, aad, plaintext);
  const ByteSpan ciphertext = ByteSpan(sealed).first(plaintext.size());
  const ByteSpan tag = ByteSpan(sealed).subspan(plaintext.size());
  PrintBytes("Ciphertext:", ciphertext);
  PrintBytes("Auth Tag:", tag);
  std::printf("Decrypting...\n");
  Bytes opened = sealed;
  if (key.OpenCounter(counter, aad, opened) == AeadResult::kOk &&
      ToString(ByteSpan(opened).first(plaintext.size())) == message) {
    std::printf("%-12s%s\n", "Decrypted:", Quote(ByteSpan(opened).first(plaintext.size())).c_str());
    std::printf("\u2713 Authentication verified!\n\n");
  } else {
    std::printf("!! decryption of an untouched message failed\n\n");
    all_good = false;
  }

  // 3: tampering.
  std::printf("Tampering Detection:\n");
  if (!plaintext.empty()) {
    const size_t i = static_cast<size_t>(absl::GetFlag(FLAGS_tamper_byte)) % plaintext.size();
    Bytes forged = sealed;
    forged[i] ^= 0x01;
    all_good &=
        ExpectRejected(key, counter, aad, forged, "Modified ciphertext byte " + std::to_string(i));
  }
  if (!aad.empty()) {
    Bytes forged_aad = aad;
    forged_aad[0] ^= 0x01;
    all_good &= ExpectRejected(key, counter, forged_aad, sealed, "Modified AAD byte 0");
  }
  {
    Bytes forged = sealed;
    forged.back() ^= 0x80;
    all_good &= ExpectRejected(key, counter, aad, forged, "Modified tag byte 15");
  }
  all_good &=
      ExpectRejected(key, counter + 1, aad, sealed,
                     "Opened with the wrong nonce (counter " + std::to_string(counter + 1) + ")");
  std::printf(
      "Each time the tag did not match, so Open returned an error and wiped the buffer:\n"
      "not one byte of a forged message is ever handed back.\n\n");

  // 4: nonce reuse.
  std::printf("Nonce Reuse Detection:\n");
  const std::string second = absl::GetFlag(FLAGS_second_message);
  std::printf("Encrypting a second message %s with the same key and counter %llu...\n",
              Quote(AsBytes(second)).c_str(), static_cast<unsigned long long>(counter));
  if (!used_counters.insert(counter).second) {
    std::printf("\u26a0 Warning: Nonce reused with same key - security broken!\n");
  }
  const Bytes sealed2 = Seal(key, counter, aad, AsBytes(second));
  const size_t n = std::min(message.size(), second.size());
  Bytes ct_xor(n), pt_xor(n), recovered(n);
  for (size_t i = 0; i < n; ++i) {
    ct_xor[i] = sealed[i] ^ sealed2[i];
    pt_xor[i] = static_cast<uint8_t>(message[i] ^ second[i]);
    recovered[i] = ct_xor[i] ^ static_cast<uint8_t>(message[i]);
  }
  std::printf("  C1 XOR C2 = %s\n", HexEncode(ct_xor).c_str());
  std::printf("  P1 XOR P2 = %s\n", HexEncode(pt_xor).c_str());
  if (n == 0) {
    std::printf(
        "  (One message is empty, so there is nothing to compare; try two non-empty ones.)\n");
    return all_good ? 0 : 1;
  }
  const bool leak_shown = ct_xor == pt_xor;
  std::printf(
      "  %s: the keystream cancels out, so the ciphertexts leak the XOR of the plaintexts.\n",
      leak_shown ? "Identical" : "Different (!?)");
  std::printf("  Anyone who knows message 1 now reads message 2: C1 XOR C2 XOR P1 = %s\n",
              Quote(recovered).c_str());
  std::printf("  (The one-time Poly1305 key repeats too, which lets an attacker forge tags.)\n");
  std::printf(
      "  WireGuard avoids this by never reusing a counter under one key, and rekeying\n"
      "  long before the 64-bit counter could run out.\n");
  all_good &= leak_shown;

  return all_good ? 0 : 1;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(meshvpn::tools::kUsage);
  // --help lists the flags of this file (absl's default looks for a file named after the binary).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "chacha20poly1305_demo/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] {
    return std::string("chacha20poly1305_demo (meshvpn aead ") + MESHVPN_AEAD_VERSION_STRING +
           ")\n";
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  return meshvpn::tools::Run();
}
