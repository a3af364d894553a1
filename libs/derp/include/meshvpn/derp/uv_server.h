// UvServer: the libuv driver of the DERP server core, an HTTP handler for libs/http's server:
// "GET /derp" with "Upgrade: DERP" becomes a DERP connection (101 with Derp-Version and
// Derp-Public-Key, as derphttp's handler), plus the probe endpoints Tailscale clients use
// (/derp/probe, /derp/latency-check, /generate_204). Output is written once per loop turn per
// connection, or at once when a destination's queue fills.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/derp/server_core.h"
#include "meshvpn/http/response_writer.h"
#include "meshvpn/http/upgraded_stream.h"

namespace meshvpn::derp {

struct UvServerOptions {
  ServerOptions core;
  // Requests for other paths go here (metrics, a home page); null: 404.
  http::RequestHandler* fallback = nullptr;
  // Output taken from the core per write (whole frames); the stream's own bound is larger.
  size_t write_budget = 64 << 10;
  const Clock* clock = nullptr;  // null: the real clock
};

class UvServer final : public http::RequestHandler, private ServerTransport {
 public:
  static absl::StatusOr<std::unique_ptr<UvServer>> Create(uv_loop_t* loop, UvServerOptions options);
  ~UvServer() override;
  UvServer(const UvServer&) = delete;
  UvServer& operator=(const UvServer&) = delete;

  // http::RequestHandler: mount it on an http::UvServer (or behind an http::Router).
  void OnRequest(http::Request& request, http::ResponseWriter writer) override;

  ServerCore& core() { return core_; }
  const ServerCore& core() const { return core_; }
  // Closes every DERP connection at once, sending what is buffered first (for shutdown; call
  // core().AnnounceRestart() a moment before to tell clients to come back).
  void CloseAll();
  size_t upgraded_connections() const { return links_.size(); }

 private:
  struct Link;
  UvServer(uv_loop_t* loop, UvServerOptions options, const Clock* clock);

  // ServerTransport.
  void WantWrite(ConnId conn) override;
  void CloseConnection(ConnId conn) override;

  void Upgrade(http::Request& request, http::ResponseWriter writer);
  void Flush(Link* link);
  void FlushDirty();
  void Bury(ConnId conn);
  void OnTick();
  static void OnCheck(uv_check_t* handle);
  static void OnTimer(uv_timer_t* handle);

  uv_loop_t* loop_;
  UvServerOptions options_;
  const Clock* clock_;
  ServerCore core_;
  UvCheck check_;  // after each poll: write what the reads queued
  UvTimer tick_;   // once a second: the core's timers
  absl::flat_hash_map<ConnId, std::unique_ptr<Link>> links_;
  std::vector<ConnId> dirty_;
  std::vector<std::unique_ptr<Link>> graveyard_;  // freed after the callback that ended them
  ConnId next_id_ = 1;
  std::string scratch_;
};

}  // namespace meshvpn::derp
