// Private to libs/http: TLS 1.3's record protection (RFC 8446 section 5) for a session whose
// handshake OpenSSL finished, so the SSL object (about 11 KiB) can be freed and an idle
// connection keeps only two traffic secrets. Application data, close_notify and KeyUpdate;
// anything else after the handshake is an error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::http::internal {

enum class Tls13Cipher : uint8_t { kAes128GcmSha256, kAes256GcmSha384, kChaCha20Poly1305Sha256 };

// One direction's traffic keys: the secret (for KeyUpdate), the AEAD key and IV, the sequence.
class TrafficKeys {
 public:
  static absl::StatusOr<TrafficKeys> FromSecret(Tls13Cipher cipher, ByteSpan secret);
  ~TrafficKeys();
  TrafficKeys(TrafficKeys&& other) noexcept;
  TrafficKeys& operator=(TrafficKeys&& other) noexcept;
  TrafficKeys(const TrafficKeys&) = delete;
  TrafficKeys& operator=(const TrafficKeys&) = delete;

  // RFC 8446 7.2: secret' = HKDF-Expand-Label(secret, "traffic upd", "", Hash.length).
  absl::Status Update();
  // Seals `plaintext` + `content_type` as one record (header included) onto `out`.
  absl::Status Seal(uint8_t content_type, ByteSpan plaintext, std::string* out);
  // Opens one record body (`header` is its 5 bytes, the additional data); on success `out`
  // holds the inner plaintext without padding and `content_type` its real type.
  absl::Status Open(ByteSpan header, ByteSpan body, std::string* out, uint8_t* content_type);

 private:
  TrafficKeys() = default;
  absl::Status Derive();
  void Nonce(uint8_t out[12]) const;

  Tls13Cipher cipher_ = Tls13Cipher::kAes128GcmSha256;
  std::array<uint8_t, 48> secret_{};
  size_t secret_len_ = 0;
  std::array<uint8_t, 32> key_{};
  std::array<uint8_t, 12> iv_{};
  uint64_t seq_ = 0;
};

// Both directions of a detached TLS 1.3 session, and the buffering between records. Records
// are opened lazily, as plaintext is read (as OpenSSL does): a reader that stops reading leaves
// ciphertext buffered, and a KeyUpdate or close_notify takes effect in stream order.
class Tls13RecordLayer {
 public:
  Tls13RecordLayer(TrafficKeys read, TrafficKeys write)
      : read_(std::move(read)), write_(std::move(write)) {}

  // Ciphertext from the peer, any split.
  void Append(ByteSpan ciphertext);
  // Opens records until it has plaintext, then moves up to out.size() bytes out; 0 when a whole
  // record has not arrived yet, or after close_notify (peer_closed()). A KeyUpdate updates the
  // read keys (and, when the peer asked, appends our own KeyUpdate to `ciphertext_out` and
  // updates the write keys). Any other record type, a bad tag, an oversized record: an error,
  // and every later Read returns it again.
  absl::StatusOr<size_t> Read(MutableByteSpan out, std::string* ciphertext_out);
  // Seals application data (records of at most 16 KiB) onto `ciphertext_out`.
  absl::Status Send(ByteSpan plaintext, std::string* ciphertext_out);
  // The close_notify alert.
  absl::Status SendCloseNotify(std::string* ciphertext_out);

  bool peer_closed() const { return peer_closed_; }
  size_t buffered_plaintext() const { return plain_.size() - plain_pos_; }
  size_t buffered_ciphertext() const { return in_.size() - in_pos_; }
  // Gives back buffer memory when nothing is buffered (idle connections).
  void ReleaseBuffers();

 private:
  // Opens the next whole record into plain_ (application data) or acts on it; false when none
  // is complete.
  absl::StatusOr<bool> OpenNextRecord(std::string* ciphertext_out);
  absl::Status OnHandshakeMessages(std::string* ciphertext_out);

  TrafficKeys read_;
  TrafficKeys write_;
  std::string in_;  // ciphertext not yet opened, from in_pos_
  size_t in_pos_ = 0;
  std::string plain_;  // plaintext of the last application-data record, from plain_pos_
  size_t plain_pos_ = 0;
  bool peer_closed_ = false;
  absl::Status failure_;  // the first error Read met
};

}  // namespace meshvpn::http::internal
