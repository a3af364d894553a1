// Version negotiation and Envelope encoding for the control protocol.
#include "meshvpn/control/protocol.h"

#include <google/protobuf/stubs/logging.h>

#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace meshvpn::control {
namespace {

// Protobuf logs a line for each string field with invalid UTF-8 it parses: a peer could flood
// the log with them. Parse failures are our errors already, so its log lines below FATAL are
// dropped (process-wide: this library is where outside bytes reach protobuf).
void SilenceProtobufParseLogs() {
  static std::once_flag once;
  std::call_once(once, [] {
    google::protobuf::SetLogHandler([](google::protobuf::LogLevel level, const char* file, int line,
                                       const std::string& message) {
      if (level == google::protobuf::LOGLEVEL_FATAL) {
        std::fprintf(stderr, "[libprotobuf FATAL %s:%d] %s\n", file, line, message.c_str());
      }
    });
  });
}

}  // namespace

absl::StatusOr<uint32_t> NegotiateVersion(uint32_t peer_version) {
  if (peer_version == 0) {
    return absl::InvalidArgumentError("control: the peer sent no capability version");
  }
  if (peer_version < kMinCapabilityVersion) {
    return absl::FailedPreconditionError(absl::StrCat("control: capability version ", peer_version,
                                                      " is older than the oldest supported (",
                                                      kMinCapabilityVersion, ")"));
  }
  return peer_version < kCapabilityVersion ? peer_version : kCapabilityVersion;
}

absl::StatusOr<std::string> EncodeEnvelope(const v1::Envelope& envelope) {
  if (envelope.body_case() == v1::Envelope::BODY_NOT_SET) {
    return absl::InvalidArgumentError("control: an envelope with no message");
  }
  const size_t size = envelope.ByteSizeLong();
  if (size > kMaxEnvelopeBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "control: a ", size, "-byte message is over the ", kMaxEnvelopeBytes, "-byte limit"));
  }
  std::string out;
  if (!envelope.SerializeToString(&out)) {
    return absl::InternalError("control: serializing a message failed");
  }
  return out;
}

absl::StatusOr<v1::Envelope> DecodeEnvelope(ByteSpan bytes) {
  if (bytes.size() > kMaxEnvelopeBytes) {
    return absl::ResourceExhaustedError(absl::StrCat("control: a ", bytes.size(),
                                                     "-byte message is over the ",
                                                     kMaxEnvelopeBytes, "-byte limit"));
  }
  SilenceProtobufParseLogs();
  v1::Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("control: a malformed message (not a valid Envelope)");
  }
  if (envelope.body_case() == v1::Envelope::BODY_NOT_SET) {
    return absl::InvalidArgumentError("control: an envelope with no message (or an unknown one)");
  }
  return envelope;
}

}  // namespace meshvpn::control
