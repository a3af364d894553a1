// MetricsServer: a Router with the /metrics handler on a UvServer, and a collector of its stats.
#include "meshvpn/metrics/uv_metrics_server.h"

#include "meshvpn/metrics/collector.h"
#include "meshvpn/metrics/http_handler.h"

namespace meshvpn::metrics {

MetricsServer::MetricsServer(Registry* registry, MetricsServerOptions options)
    : registry_(registry), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(uv_loop_t* loop,
                                                                    Registry* registry,
                                                                    MetricsServerOptions options) {
  std::unique_ptr<MetricsServer> self(new MetricsServer(registry, std::move(options)));
  const std::string path = self->options_.path;
  self->router_.Exact("GET", path, MetricsHandler(registry));
  self->router_.Exact("GET", "/", [path](http::Request&, http::ResponseWriter writer) {
    writer.Send(http::Response::Text(http::kStatusOk, "metrics at " + path + "\n"));
  });
  http::UvServerOptions server_options;
  server_options.listen = self->options_.listen;
  server_options.log = self->options_.log;
  server_options.max_connections = 64;  // scrapers, not the public
  auto server = http::UvServer::Listen(loop, std::move(server_options), &self->router_);
  if (!server.ok()) return server.status();
  self->server_ = std::move(*server);

  const http::UvServer* s = self->server_.get();
  auto id = registry->AddCollector(
      {
          FamilyDesc{"meshvpn_metrics_http_requests_total",
                     "HTTP requests the metrics server answered, by outcome.",
                     MetricType::kCounter,
                     {"outcome"}},
          FamilyDesc{"meshvpn_metrics_http_connections", "Open connections to the metrics server.",
                     MetricType::kGauge},
      },
      [s](CollectOutput& out) {
        const http::ServerStats& h = s->stats().http;
        const uint64_t refused = h.bad_requests + h.header_too_large + h.target_too_long +
                                 h.body_too_large + h.header_timeouts + h.body_timeouts;
        out.Add(0, {"answered"}, Value(h.responses));
        out.Add(0, {"refused"}, Value(refused));
        out.Add(1, {}, Value(static_cast<uint64_t>(s->connection_count())));
      });
  if (!id.ok()) return id.status();
  self->collector_ = *id;
  return self;
}

MetricsServer::~MetricsServer() {
  if (collector_) registry_->RemoveCollector(*collector_);
}

}  // namespace meshvpn::metrics
