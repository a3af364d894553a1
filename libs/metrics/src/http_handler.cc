// The /metrics handler: negotiate, collect, expose.
#include "meshvpn/metrics/http_handler.h"

#include "meshvpn/metrics/exposition.h"
#include "meshvpn/metrics/negotiate.h"

namespace meshvpn::metrics {

http::Router::Handler MetricsHandler(const Registry* registry) {
  return [registry](http::Request& request, http::ResponseWriter writer) {
    const Negotiation n = NegotiateFormat(request.headers.Get("Accept").value_or(""));
    http::Response response;
    response.status = http::kStatusOk;
    response.headers.Add("Content-Type", std::string(n.content_type));
    response.headers.Add("Cache-Control", "no-store");
    response.body = Expose(registry->Collect(), n.format);
    writer.Send(std::move(response));
  };
}

}  // namespace meshvpn::metrics
