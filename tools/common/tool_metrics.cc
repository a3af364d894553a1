// ToolMetrics: register the collectors, start the server, undo both in reverse.
#include "common/tool_metrics.h"

namespace meshvpn::tools {

absl::StatusOr<std::unique_ptr<ToolMetrics>> ToolMetrics::Start(
    uv_loop_t* loop, const std::string& listen, LogSink* log,
    std::vector<metrics::Collector*> collectors) {
  std::unique_ptr<ToolMetrics> self(new ToolMetrics());
  for (metrics::Collector* c : collectors) {
    auto id = self->registry_.AddCollector(c);
    if (!id.ok()) return id.status();
    self->ids_.push_back(*id);
  }
  metrics::MetricsServerOptions options;
  options.listen = listen;
  options.log = log;
  auto server = metrics::MetricsServer::Start(loop, &self->registry_, options);
  if (!server.ok()) return server.status();
  self->server_ = std::move(*server);
  return self;
}

ToolMetrics::~ToolMetrics() {
  server_.reset();
  for (metrics::CollectorId id : ids_) registry_.RemoveCollector(id);
}

std::string ToolMetrics::url() const { return "http://" + server_->local_address() + "/metrics"; }

}  // namespace meshvpn::tools
