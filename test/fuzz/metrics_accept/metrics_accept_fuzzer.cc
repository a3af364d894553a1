// Fuzzes metrics' Accept-header negotiation: no crash, no read outside the input, and the answer
// is always one of the three replies, its content type matching its format; appending a range
// that nobody serves never changes the answer.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "meshvpn/metrics/negotiate.h"

namespace {

using meshvpn::metrics::Format;
using meshvpn::metrics::NegotiateFormat;
using meshvpn::metrics::Negotiation;

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckReply(const Negotiation& n) {
  if (n.format == Format::kPrometheusText) {
    Check(n.content_type == meshvpn::metrics::kPrometheusTextContentType);
  } else {
    Check(n.format == Format::kOpenMetrics);
    Check(n.content_type == meshvpn::metrics::kOpenMetricsContentType ||
          n.content_type == "application/openmetrics-text; version=0.0.1; charset=utf-8");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view accept(reinterpret_cast<const char*>(data), size);
  const Negotiation n = NegotiateFormat(accept);
  CheckReply(n);
  // Only when the input cannot have left a quoted string open, which would swallow the suffix.
  size_t quotes = 0;
  for (char c : accept) quotes += c == '"' || c == '\\';
  if (quotes == 0) {
    const Negotiation same = NegotiateFormat(std::string(accept) + ",application/json;q=1");
    Check(same.format == n.format && same.content_type == n.content_type);
  }
  return 0;
}
