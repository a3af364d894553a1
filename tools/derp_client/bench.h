// derp_client --bench: relayed throughput and latency between pairs of clients in one process.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>

#include "client_setup.h"
#include "meshvpn/base/clock.h"

namespace meshvpn::tools {

struct BenchOptions {
  int pairs = 1;
  size_t size = 1400;     // packet payload bytes (at least kBenchHeaderLen)
  double duration_s = 5;  // of the measurement, after every client is connected
  int window = 32;        // packets each sender has in flight at most
  int rtt_every = 64;     // every n-th packet carries a timestamp that is echoed back
  bool json = false;      // one JSON object on stdout; progress on stderr
  Duration timeout = std::chrono::seconds(10);  // for every client to connect
};

// The bench's own header in every packet; --size must be at least this.
inline constexpr size_t kBenchHeaderLen = 24;

// Connects 2 x pairs clients to the server, runs the bench on `loop` and prints the report
// (progress and text on `human`, JSON on stdout). Returns the exit code: 0, or 1 if the clients
// could not connect or nothing was relayed.
int RunBench(uv_loop_t* loop, const BenchOptions& options, const ServerUrl& url,
             std::shared_ptr<const http::TlsContext> tls, const std::string& app_name,
             std::FILE* human);

}  // namespace meshvpn::tools
