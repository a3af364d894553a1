// Prints the sample registry's exposition, for e2e checks with outside tools.
//   metrics_sample text | openmetrics   the body in that format
//   metrics_sample --accept HEADER      "Content-Type: <negotiated>", a blank line, the body
#include <cstdio>
#include <string>
#include <string_view>

#include "meshvpn/metrics/exposition.h"
#include "meshvpn/metrics/negotiate.h"
#include "sample_registry.h"

int main(int argc, char** argv) {
  using namespace meshvpn::metrics;
  const std::string_view arg = argc > 1 ? argv[1] : "text";
  auto registry = testing::MakeSampleRegistry();
  std::string out;
  if (arg == "--accept" && argc > 2) {
    const Negotiation n = NegotiateFormat(argv[2]);
    out = "Content-Type: " + std::string(n.content_type) + "\n\n" +
          Expose(registry->Collect(), n.format);
  } else if (arg == "text" || arg == "openmetrics") {
    out =
        Expose(registry->Collect(), arg == "text" ? Format::kPrometheusText : Format::kOpenMetrics);
  } else {
    std::fprintf(stderr, "usage: metrics_sample text | openmetrics | --accept HEADER\n");
    return 2;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
