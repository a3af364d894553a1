// detail::Exchange: the state one request's ResponseWriter shares with its ServerConnection
// (private to the library; the writer outlives neither meaning nor memory of a closed connection).
#pragma once

#include "meshvpn/http/response_writer.h"

namespace meshvpn::http {
class ServerConnection;

namespace detail {

struct Exchange {
  enum class Phase {
    kFresh,      // nothing sent yet
    kStreaming,  // head sent, body chunks going out
    kDone,       // complete, upgraded or abandoned
  };

  ServerConnection* connection = nullptr;  // null once the connection is gone
  Phase phase = Phase::kFresh;
  bool head_request = false;  // HEAD: heads only, bodies are dropped
  bool http10 = false;        // the peer spoke HTTP/1.0
  bool keep_alive = true;     // the request allows another on this connection
  bool upgrade = false;       // the request asked to switch protocols
  bool until_close = false;   // a streamed body delimited by closing (HTTP/1.0 peers)
  StreamObserver* observer = nullptr;
};

}  // namespace detail
}  // namespace meshvpn::http
