// Fuzzes Tls13RecordLayer with a peer that has the keys: the server side reads with keys from
// secret C and writes with S; the fuzzer plays the client (a TrafficKeys pair of its own made
// from the same secrets), so its records decrypt and what is tested is what comes after the
// AEAD: inner content types, padding, alerts, KeyUpdate handling, record framing. The input is a
// script of [op][len][bytes]:
//   0: seal `bytes` as one record whose inner content type is bytes[0] (rest the content)
//   1: raw bytes into the stream (forged headers, truncations)
//   2: the server reads up to len+1 bytes of plaintext (its replies go to the client)
//   3: the server sends `bytes`; the client opens what it gets
//   4: the client sends KeyUpdate(update_requested = bytes[0] & 1) and switches its write keys
// Invariants: application data read equals what was sealed as application data, in order,
// until the first error or close_notify; an error is final; the server's
// records (data, KeyUpdate replies) always open with the client's keys.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tls_record_layer.h"

namespace {

using meshvpn::ByteSpan;
using meshvpn::MutableByteSpan;
using meshvpn::http::internal::Tls13Cipher;
using meshvpn::http::internal::Tls13RecordLayer;
using meshvpn::http::internal::TrafficKeys;

void Check(bool condition) {
  if (!condition) std::abort();
}

TrafficKeys Keys(Tls13Cipher cipher, uint8_t fill) {
  uint8_t secret[48];
  for (size_t i = 0; i < sizeof secret; ++i) secret[i] = static_cast<uint8_t>(fill + i);
  const size_t len = cipher == Tls13Cipher::kAes256GcmSha384 ? 48 : 32;
  auto keys = TrafficKeys::FromSecret(cipher, ByteSpan(secret, len));
  Check(keys.ok());
  return *std::move(keys);
}

// The client's view of the server's records: opens each whole record, follows KeyUpdates.
struct ClientReader {
  TrafficKeys keys;
  std::string in;
  std::string got;
  void Take(std::string_view wire) {
    in.append(wire);
    size_t at = 0;
    while (in.size() - at >= 5) {
      const auto* h = reinterpret_cast<const uint8_t*>(in.data() + at);
      const size_t len = (size_t{h[3]} << 8) | h[4];
      Check(h[0] == 23 && len <= (1 << 14) + 256);
      if (in.size() - at < 5 + len) break;
      std::string plain;
      uint8_t type = 0;
      Check(keys.Open(ByteSpan(h, 5), ByteSpan(h + 5, len), &plain, &type).ok());
      at += 5 + len;
      if (type == 23) {
        got += plain;
      } else {
        // Our layer only ever sends a KeyUpdate(update_not_requested) reply or close_notify.
        Check(type == 22 && plain == std::string("\x18\x00\x00\x01\x00", 5));
        Check(keys.Update().ok());
      }
    }
    in.erase(0, at);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto cipher = static_cast<Tls13Cipher>(data[0] % 3);
  Tls13RecordLayer server(Keys(cipher, 1), Keys(cipher, 2));
  TrafficKeys client_write = Keys(cipher, 1);
  ClientReader client{Keys(cipher, 2), {}, {}};

  std::string wire_to_client;
  std::string sealed_data;  // application data the client sealed, in order
  std::string read_data;    // what the server read
  bool tampered = false;    // raw bytes went in: the stream is no longer only sealed records
  bool failed = false;
  std::string record;
  uint8_t buf[4096];
  size_t pos = 1;
  while (pos + 2 <= size) {
    const uint8_t op = data[pos];
    const size_t len = std::min<size_t>(data[pos + 1] * (op & 0x80 ? 64 : 1), size - pos - 2);
    const ByteSpan bytes(data + pos + 2, len);
    pos += 2 + len;
    switch (op & 7) {
      case 0: {
        if (bytes.empty()) break;
        const uint8_t type = bytes[0];
        record.clear();
        Check(client_write.Seal(type, bytes.subspan(1), &record).ok());
        // A type of 0 makes the content's last non-zero byte the type (it reads as padding).
        server.Append(ByteSpan(reinterpret_cast<const uint8_t*>(record.data()), record.size()));
        if (type == 23) {
          // The inner plaintext is content || 23: trailing zeros in the content stay content.
          if (!tampered && !failed) {
            sealed_data.append(reinterpret_cast<const char*>(bytes.data() + 1), bytes.size() - 1);
          }
        } else {
          tampered = true;  // alerts, KeyUpdates, unknown types: the stream may end or fail
        }
        break;
      }
      case 1:
        server.Append(bytes);
        tampered = true;
        break;
      case 2: {
        const size_t want = std::min(sizeof buf, len + 1);
        auto n = server.Read(MutableByteSpan(buf, want), &wire_to_client);
        Check(!failed || !n.ok());  // an error is final
        if (!n.ok()) {
          failed = true;
        } else {
          read_data.append(reinterpret_cast<const char*>(buf), *n);
        }
        break;
      }
      case 3:
        Check(server.Send(bytes, &wire_to_client).ok());
        break;
      case 4: {
        const uint8_t ku[5] = {24, 0, 0, 1, static_cast<uint8_t>(len > 0 ? bytes[0] & 1 : 0)};
        record.clear();
        Check(client_write.Seal(22, ByteSpan(ku, 5), &record).ok());
        Check(client_write.Update().ok());
        server.Append(ByteSpan(reinterpret_cast<const uint8_t*>(record.data()), record.size()));
        break;
      }
      default:
        break;
    }
    if (!tampered) client.Take(wire_to_client);
    wire_to_client.clear();
    if (!tampered && !failed) {
      // Everything read so far is a prefix of what was sealed.
      Check(sealed_data.compare(0, read_data.size(), read_data) == 0);
    }
  }
  // Drain: with an untampered stream every sealed byte comes out.
  if (!tampered && !failed) {
    for (int i = 0; i < 1 << 16; ++i) {
      auto n = server.Read(MutableByteSpan(buf, sizeof buf), &wire_to_client);
      Check(n.ok());
      if (*n == 0) break;
      read_data.append(reinterpret_cast<const char*>(buf), *n);
    }
    Check(read_data == sealed_data);
  }
  server.ReleaseBuffers();
  return 0;
}
