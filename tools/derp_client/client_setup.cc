#include "client_setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "meshvpn/base/errno_status.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::tools {
namespace {

// std::string_view's absl::ConsumePrefix (Debian's abseil has its own string_view).
bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

void Wipe(std::string& s) {
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(s.data()), s.size()));
}

}  // namespace

absl::StatusOr<ServerUrl> ParseServerUrl(std::string_view url) {
  ServerUrl out;
  out.text = std::string(url);
  const std::string& text = out.text;
  std::string_view rest = url;
  if (ConsumePrefix(&rest, "https://")) {
    out.tls = true;
  } else if (ConsumePrefix(&rest, "http://")) {
    out.tls = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--server ", text, ": expected https://HOST[:PORT] or http://HOST[:PORT]"));
  }
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    out.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  std::string_view port_text;
  if (ConsumePrefix(&rest, "[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--server ", text, ": unclosed [ in the host"));
    }
    out.host = std::string(rest.substr(0, close));
    rest = rest.substr(close + 1);
    if (!rest.empty() && !ConsumePrefix(&rest, ":")) {
      return absl::InvalidArgumentError(absl::StrCat("--server ", text, ": junk after ]"));
    }
    port_text = rest;
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
  } else {
    out.host = std::string(rest);
  }
  if (out.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--server ", text, ": no host"));
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("--server ", text, ": bad port"));
    }
    out.port = static_cast<uint16_t>(port);
  } else {
    out.port = out.tls ? 443 : 80;
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const http::TlsContext>> MakeClientTls(const ServerUrl& url,
                                                                      const TlsChoice& choice) {
  if (!url.tls) {
    if (choice.insecure || !choice.pins.empty() || !choice.ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--insecure, --pin and --ca-file are for https:// servers only");
    }
    return std::shared_ptr<const http::TlsContext>();
  }
  http::TlsClientOptions options;
  options.alpn = {"http/1.1"};
  if (choice.insecure) {
    if (!choice.pins.empty() || !choice.ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--insecure accepts any certificate: drop --pin/--ca-file, or drop --insecure");
    }
    options.insecure_skip_verify = true;
  }
  for (const std::string& text : choice.pins) {
    auto pin = http::ParseSpkiPin(text);
    if (!pin.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--pin ", text, ": ", pin.status().message(),
                       " (expected sha256//<base64>, as derp_server prints it)"));
    }
    options.pins.push_back(*pin);
  }
  options.ca_file = choice.ca_file;
  if (!choice.insecure && choice.pins.empty() && choice.ca_file.empty()) {
    options.system_roots = true;
  }
  auto context = http::TlsContext::NewClient(options);
  if (!context.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("TLS: ", context.status().message()));
  }
  return std::shared_ptr<const http::TlsContext>(*std::move(context));
}

std::string DescribeTls(const ServerUrl& url, const TlsChoice& choice) {
  if (!url.tls) return "off (plain HTTP)";
  if (choice.insecure) return "insecure (any certificate is accepted)";
  std::string out;
  for (const std::string& pin : choice.pins) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", "pinned ", pin);
  }
  if (!choice.ca_file.empty())
    absl::StrAppend(&out, out.empty() ? "" : ", ", "CA file ", choice.ca_file);
  if (out.empty()) out = "system roots";
  return out;
}

absl::StatusOr<derp::PrivateKey> LoadOrCreateClientKey(const std::string& path, bool* created) {
  *created = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      return ErrnoToStatus(e, absl::StrCat("stat ", path));
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      ::close(fd);
      return absl::PermissionDeniedError(
          absl::StrCat(path, ": readable by group or others; chmod 600 it (it holds the key)"));
    }
    std::string text(4096, '\0');
    size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    std::string_view trimmed(text.data(), got);
    while (!trimmed.empty() && absl::ascii_isspace(static_cast<unsigned char>(trimmed.back()))) {
      trimmed.remove_suffix(1);
    }
    while (!trimmed.empty() && absl::ascii_isspace(static_cast<unsigned char>(trimmed.front()))) {
      trimmed.remove_prefix(1);
    }
    auto key = derp::ParsePrivateKey(trimmed);
    Wipe(text);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": expected privkey:<64 hex digits> (", key.status().message(), ")"));
    }
    return key;
  }
  if (errno != ENOENT) return ErrnoToStatus(errno, absl::StrCat("open ", path));

  auto key = derp::PrivateKey::Generate();
  if (!key.ok()) return key.status();
  std::string body = derp::ExportPrivateKey(*key) + "\n";
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  absl::Status status;
  if (out < 0) {
    status = ErrnoToStatus(errno, absl::StrCat("create ", tmp));
  } else {
    size_t done = 0;
    while (done < body.size()) {
      const ssize_t n = ::write(out, body.data() + done, body.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    if (done != body.size() || ::fsync(out) != 0) status = ErrnoToStatus(errno, "write " + tmp);
    ::close(out);
    if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
      status = ErrnoToStatus(errno, absl::StrCat("rename to ", path));
    }
    if (!status.ok()) ::unlink(tmp.c_str());
  }
  Wipe(body);
  if (!status.ok()) return status;
  *created = true;
  return key;
}

derp::UvClientOptions MakeUvClientOptions(const ServerUrl& url,
                                          std::shared_ptr<const http::TlsContext> tls,
                                          const std::string& app_name) {
  derp::UvClientOptions options;
  options.host = url.host;
  options.port = url.port;
  options.tls = std::move(tls);
  options.path = url.path;
  options.core.app_name = app_name;
  return options;
}

bool LooksLikeCertificateError(std::string_view message) {
  for (std::string_view word : {"certificate", "pin", "verify"}) {
    if (message.find(word) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace meshvpn::tools
