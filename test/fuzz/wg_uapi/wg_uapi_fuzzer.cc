// Fuzzes wg's UAPI codec: no crash, no read outside the input; the request reader frames the same
// requests whether the bytes arrive at once or in pieces; every set body and get reply that parses
// formats back into text that parses to the same thing; every error has an errno and a message
// that does not contain a key value of the input.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meshvpn/wg/uapi.h"

namespace {

using meshvpn::wg::UapiRequest;

void Check(bool condition) {
  if (!condition) std::abort();
}

// The values of private_key= and preshared_key= lines that look like keys (32 or more hex digits)
// and occur only once in the input (so that an error message quoting some other value cannot
// contain them by coincidence).
bool HexOnly(std::string_view s) {
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

std::vector<std::string_view> SecretValues(std::string_view text) {
  std::vector<std::string_view> secrets;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    for (const std::string_view key : {"private_key=", "preshared_key="}) {
      if (line.substr(0, key.size()) != key) continue;
      std::string_view value = line.substr(key.size());
      if (!value.empty() && value.back() == '\r') value.remove_suffix(1);
      if (value.size() >= 32 && HexOnly(value) && text.find(value) == text.rfind(value)) {
        secrets.push_back(value);
      }
    }
  }
  return secrets;
}

void CheckError(const absl::Status& status, std::string_view input) {
  Check(!status.ok());
  Check(meshvpn::wg::UapiErrno(status) > 0);
  const std::string message(status.message());
  for (const std::string_view secret : SecretValues(input)) {
    Check(message.find(secret) == std::string::npos);
  }
}

void SetRoundTrip(std::string_view body) {
  const absl::StatusOr<meshvpn::wg::DeviceConfigUpdate> update = meshvpn::wg::ParseUapiSet(body);
  if (!update.ok()) {
    CheckError(update.status(), body);
    return;
  }
  const std::string text = meshvpn::wg::FormatUapiSet(*update);
  const absl::StatusOr<meshvpn::wg::DeviceConfigUpdate> again = meshvpn::wg::ParseUapiSet(text);
  Check(again.ok());
  Check(again->peers.size() == update->peers.size());
  Check(meshvpn::wg::FormatUapiSet(*again) == text);
}

void GetRoundTrip(std::string_view reply) {
  const absl::StatusOr<meshvpn::wg::DeviceStatus> status = meshvpn::wg::ParseUapiGet(reply);
  if (!status.ok()) {
    CheckError(status.status(), reply);
    return;
  }
  const std::string text = meshvpn::wg::FormatUapiGet(*status);
  const absl::StatusOr<meshvpn::wg::DeviceStatus> again =
      meshvpn::wg::ParseUapiGet(text + meshvpn::wg::UapiErrnoLine(0));
  Check(again.ok());
  Check(meshvpn::wg::FormatUapiGet(*again) == text);
}

struct Framed {
  std::vector<UapiRequest> requests;
  absl::Status status;
};

Framed Frame(std::string_view input, size_t piece) {
  Framed out;
  meshvpn::wg::UapiRequestReader reader;
  for (size_t i = 0; i < input.size() && out.status.ok(); i += piece) {
    const std::string_view part = input.substr(i, piece);
    out.status =
        reader.Feed(meshvpn::ByteSpan(reinterpret_cast<const uint8_t*>(part.data()), part.size()));
  }
  while (std::optional<UapiRequest> request = reader.Next()) {
    out.requests.push_back(std::move(*request));
  }
  Check(reader.status() == out.status);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const Framed whole = Frame(input, input.size() + 1);
  const Framed pieces = Frame(input, 3);
  Check(whole.status == pieces.status);
  Check(whole.requests.size() == pieces.requests.size());
  for (size_t i = 0; i < whole.requests.size(); ++i) {
    Check(whole.requests[i].kind == pieces.requests[i].kind);
    Check(whole.requests[i].body == pieces.requests[i].body);
    if (whole.requests[i].kind == UapiRequest::Kind::kGet) {
      Check(whole.requests[i].body.empty());
    } else {
      SetRoundTrip(whole.requests[i].body);
    }
  }
  if (!whole.status.ok()) Check(meshvpn::wg::UapiErrno(whole.status) > 0);
  Check(meshvpn::wg::UapiErrnoLine(meshvpn::wg::UapiErrno(whole.status)).substr(0, 6) == "errno=");

  // The parsers on the raw input too (a body or a reply without framing).
  SetRoundTrip(input);
  GetRoundTrip(input);
  return 0;
}
