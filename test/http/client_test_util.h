// Helpers for the ClientConnection tests: a handler that records its calls, and byte feeding.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "meshvpn/http/client_connection.h"

namespace meshvpn::http::test {

// Records every call a response handler gets, in order.
class Recorder : public ResponseHandler {
 public:
  void OnResponseHead(const ResponseHead& h) override {
    events.push_back("head");
    head = h;
    if (on_head) on_head();
  }
  void OnResponseBody(std::string_view data) override {
    events.push_back("body");
    body.append(data);
    if (on_body) on_body();
  }
  void OnResponseComplete() override {
    events.push_back("complete");
    ++endings;
    if (on_complete) on_complete();
  }
  void OnResponseError(const absl::Status& e) override {
    events.push_back("error");
    ++endings;
    error = e;
  }

  std::vector<std::string> events;
  ResponseHead head;
  std::string body;
  absl::Status error;
  int endings = 0;
  std::function<void()> on_head, on_body, on_complete;
};

inline void Feed(ClientConnection& c, std::string_view bytes) { c.Receive(AsBytes(bytes)); }

// a + b (built with append: GCC 12's -Warray-bounds misfires on operator+ with a literal).
inline std::string Cat(std::string_view a, std::string_view b) {
  std::string out(a);
  out.append(b);
  return out;
}

inline void FeedByteByByte(ClientConnection& c, std::string_view bytes) {
  for (char ch : bytes) c.Receive(AsBytes(std::string_view(&ch, 1)));
}

// Takes everything the connection wants to send.
inline std::string Drain(ClientConnection& c) {
  std::string out(c.PendingOutput());
  c.ConsumeOutput(out.size());
  return out;
}

inline Request Get(std::string target = "/") {
  Request r;
  r.target = std::move(target);
  return r;
}

}  // namespace meshvpn::http::test
