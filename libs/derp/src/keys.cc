// DERP key text forms, the mesh key and the server's key file.
#include "meshvpn/derp/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/errno_status.h"
#include "meshvpn/base/secure.h"
#include "nlohmann/json.hpp"

namespace meshvpn::derp {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// Reads a whole small file; the contents may be secret, so errors never include them.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, struct stat* st) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  if (::fstat(fd, st) != 0) {
    const int e = errno;
    ::close(fd);
    return ErrnoToStatus(e, absl::StrCat("stat ", path));
  }
  if (st->st_size > 64 * 1024) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 64 KiB"));
  }
  std::string text(static_cast<size_t>(st->st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  return text;
}

}  // namespace

std::string FormatNodeKey(const PublicKey& key) {
  return std::string(kNodeKeyPrefix) + key.ToHex();
}

std::string ShortKey(const PublicKey& key) {
  return absl::StrCat("[", key.ToBase64().substr(0, 5), "]");
}

absl::StatusOr<PublicKey> ParseNodeKey(std::string_view text) {
  text = Trim(text);
  if (text.starts_with(kNodeKeyPrefix))
    return PublicKey::FromHex(text.substr(kNodeKeyPrefix.size()));
  if (text.size() == x25519::kKeyHexLength) return PublicKey::FromHex(text);
  if (text.size() == x25519::kKeyBase64Length) return PublicKey::FromBase64(text);
  return absl::InvalidArgumentError(
      "a node key is nodekey:<64 hex digits>, 64 hex digits, or 44 characters of base64");
}

absl::StatusOr<PrivateKey> ParsePrivateKey(std::string_view text) {
  text = Trim(text);
  if (text.starts_with(kPrivateKeyPrefix)) text.remove_prefix(kPrivateKeyPrefix.size());
  return PrivateKey::FromHex(text);
}

std::string ExportPrivateKey(const PrivateKey& key) {
  std::string hex = key.ExportHexForUapi();
  std::string out = std::string(kPrivateKeyPrefix) + hex;
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(hex.data()), hex.size()));
  return out;
}

absl::StatusOr<MeshKey> MeshKey::Parse(std::string_view hex) {
  hex = Trim(hex);
  if (hex.size() != x25519::kKeyHexLength) {
    return absl::InvalidArgumentError("a mesh key is 64 hexadecimal digits");
  }
  auto bytes = x25519::PresharedKey::FromHex(hex);
  if (!bytes.ok()) return absl::InvalidArgumentError("a mesh key is 64 hexadecimal digits");
  MeshKey key;
  key.bytes_ = *std::move(bytes);
  return key;
}

absl::StatusOr<MeshKey> MeshKey::ReadFile(const std::string& path) {
  struct stat st {};
  auto text = ReadSmallFile(path, &st);
  if (!text.ok()) return text.status();
  auto key = Parse(*text);
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(text->data()), text->size()));
  if (!key.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  return key;
}

bool MeshKey::IsZero() const { return bytes_.IsZero(); }

bool MeshKey::ConstantTimeEquals(const MeshKey& other) const {
  return bytes_.ConstantTimeEquals(other.bytes_);
}

std::string MeshKey::ExportHexForClientInfo() const { return bytes_.ExportHexForUapi(); }

absl::StatusOr<PrivateKey> ServerKeyFile::LoadOrCreate(const std::string& path, bool* created) {
  if (created != nullptr) *created = false;
  struct stat st {};
  auto text = ReadSmallFile(path, &st);
  if (text.ok()) {
    auto wipe = [&] {
      SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(text->data()), text->size()));
    };
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      wipe();
      return absl::PermissionDeniedError(
          absl::StrCat(path, ": readable by group or others; chmod 600 it (it holds the key)"));
    }
    auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    wipe();
    if (!json.is_object() || !json.contains("PrivateKey") || !json["PrivateKey"].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": expected {\"PrivateKey\": \"privkey:<64 hex digits>\"}"));
    }
    std::string field = json["PrivateKey"].get<std::string>();
    json = nullptr;
    auto key = ParsePrivateKey(field);
    SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(field.data()), field.size()));
    if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": bad PrivateKey"));
    return key;
  }
  if (!absl::IsNotFound(text.status())) return text.status();

  auto key = PrivateKey::Generate();
  if (!key.ok()) return key.status();
  std::string exported = ExportPrivateKey(*key);
  std::string body = absl::StrCat("{\n\t\"PrivateKey\": \"", exported, "\"\n}");
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(exported.data()), exported.size()));
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  absl::Status status;
  if (fd < 0) {
    status = ErrnoToStatus(errno, absl::StrCat("create ", tmp));
  } else {
    size_t done = 0;
    while (done < body.size()) {
      const ssize_t n = ::write(fd, body.data() + done, body.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    if (done != body.size() || ::fsync(fd) != 0) status = ErrnoToStatus(errno, "write " + tmp);
    ::close(fd);
    if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
      status = ErrnoToStatus(errno, absl::StrCat("rename to ", path));
    }
    if (!status.ok()) ::unlink(tmp.c_str());
  }
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(body.data()), body.size()));
  if (!status.ok()) return status;
  if (created != nullptr) *created = true;
  return key;
}

}  // namespace meshvpn::derp
