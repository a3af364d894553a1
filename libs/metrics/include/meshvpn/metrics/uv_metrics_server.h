// MetricsServer: what a daemon's --metrics-listen ADDR starts: an HTTP server on the daemon's loop
// that serves its Registry at /metrics, with the server's own request counters in it.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "meshvpn/base/log.h"
#include "meshvpn/http/router.h"
#include "meshvpn/http/uv_server.h"
#include "meshvpn/metrics/registry.h"

namespace meshvpn::metrics {

struct MetricsServerOptions {
  std::string listen = "127.0.0.1:9100";  // "ADDR:PORT"
  std::string path = "/metrics";
  LogSink* log = nullptr;
};

// Routes: GET/HEAD `path` (the exposition), GET / (a one-line pointer to it), 404 otherwise.
// Registers in `registry` the families meshvpn_metrics_http_requests_total and
// meshvpn_metrics_http_connections (its own traffic: a scrape that fails shows up there). The
// registry must outlive the server. Loop thread only.
class MetricsServer {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(uv_loop_t* loop, Registry* registry,
                                                              MetricsServerOptions options);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "127.0.0.1:9100" as bound (port 0 in `listen` picks one).
  const std::string& local_address() const { return server_->local_address(); }
  uint16_t port() const { return server_->port(); }
  const http::UvServerStats& stats() const { return server_->stats(); }

 private:
  MetricsServer(Registry* registry, MetricsServerOptions options);

  Registry* registry_;
  MetricsServerOptions options_;
  http::Router router_;
  std::unique_ptr<http::UvServer> server_;
  std::optional<CollectorId> collector_;
};

}  // namespace meshvpn::metrics
