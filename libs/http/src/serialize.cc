// Request and response heads.
#include "meshvpn/http/serialize.h"

#include "absl/strings/str_format.h"
#include "meshvpn/http/messages.h"

namespace meshvpn::http {
namespace {

bool IsFramingField(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection");
}

void AppendField(std::string_view name, std::string_view value, std::string* out) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

// Appends the valid non-framing fields; returns how many were invalid.
size_t AppendFields(const Headers& headers, bool keep_upgrade, std::string* out) {
  size_t dropped = 0;
  for (const auto& [name, value] : headers) {
    if (IsFramingField(name)) continue;
    if (!keep_upgrade && EqualsIgnoreCase(name, "Upgrade")) continue;
    if (!IsValidField(name, value)) {
      ++dropped;
      continue;
    }
    AppendField(name, value, out);
  }
  return dropped;
}

}  // namespace

size_t AppendResponseHead(int status, std::string_view reason, const Headers& headers,
                          const HeadFraming& framing, std::string* out) {
  if (reason.empty() || reason.find_first_of("\r\n") != std::string_view::npos) {
    reason = StatusText(status);
  }
  absl::StrAppendFormat(out, "HTTP/1.1 %d %s\r\n", status, reason);
  const size_t dropped = AppendFields(headers, framing.upgrade, out);
  switch (framing.framing) {
    case Framing::kNone:
    case Framing::kUntilClose:
      break;
    case Framing::kContentLength:
      absl::StrAppendFormat(out, "Content-Length: %d\r\n", framing.content_length);
      break;
    case Framing::kChunked:
      out->append("Transfer-Encoding: chunked\r\n");
      break;
  }
  if (framing.upgrade) {
    out->append("Connection: Upgrade\r\n");
  } else if (framing.close || framing.framing == Framing::kUntilClose) {
    out->append("Connection: close\r\n");
  } else if (framing.http10_peer) {
    out->append("Connection: keep-alive\r\n");
  }
  out->append("\r\n");
  return dropped;
}

size_t AppendRequest(const Request& request, std::string_view host, std::string* out) {
  absl::StrAppendFormat(out, "%s %s HTTP/1.1\r\n", request.method,
                        request.target.empty() ? "/" : request.target);
  if (!request.headers.Has("Host")) AppendField("Host", host, out);
  size_t dropped = 0;
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding")) {
      continue;
    }
    if (!IsValidField(name, value)) {
      ++dropped;
      continue;
    }
    AppendField(name, value, out);
  }
  const bool wants_length = !request.body.empty() || request.method == "POST" ||
                            request.method == "PUT" || request.method == "PATCH";
  if (wants_length) absl::StrAppendFormat(out, "Content-Length: %d\r\n", request.body.size());
  out->append("\r\n");
  out->append(request.body);
  return dropped;
}

}  // namespace meshvpn::http
