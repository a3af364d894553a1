// Router: exact over prefix, the longest prefix, 404, 405 with a sorted Allow, HEAD served by GET.
#include "meshvpn/http/router.h"

#include <catch2/catch.hpp>
#include <string>

#include "meshvpn/http/server_connection.h"

namespace meshvpn::http {
namespace {

// Answers with the route's name, through a real ServerConnection.
std::string Ask(Router& router, std::string_view request) {
  FakeClock clock;
  ServerConnection conn(&clock, &router);
  conn.Receive(AsBytes(request));
  return std::string(conn.PendingOutput());
}

Router::Handler Named(std::string name) {
  return [name](Request&, ResponseWriter writer) { writer.Send(Response::Text(kStatusOk, name)); };
}

Router MakeRouter() {
  Router r;
  r.Exact("GET", "/metrics", Named("metrics"))
      .Prefix("GET", "/api/", Named("api"))
      .Prefix("GET", "/api/v1/", Named("api-v1"))
      .Exact("GET", "/api/v1/exact", Named("exact"))
      .Exact("POST", "/api/v1/nodes", Named("post-nodes"))
      .Exact("DELETE", "/api/v1/nodes", Named("delete-nodes"));
  return r;
}

TEST_CASE("routes: exact beats prefix, the longest prefix wins, the query is ignored") {
  Router r = MakeRouter();
  CHECK(Ask(r, "GET /metrics?x=1 HTTP/1.1\r\nHost: h\r\n\r\n").ends_with("metrics"));
  CHECK(Ask(r, "GET /api/other HTTP/1.1\r\nHost: h\r\n\r\n").ends_with("\r\n\r\napi"));
  CHECK(Ask(r, "GET /api/v1/other HTTP/1.1\r\nHost: h\r\n\r\n").ends_with("api-v1"));
  CHECK(Ask(r, "GET /api/v1/exact HTTP/1.1\r\nHost: h\r\n\r\n").ends_with("exact"));
  CHECK(Ask(r, "POST /api/v1/nodes HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
            .ends_with("post-nodes"));
  CHECK(r.Find("GET", "/api/x") != nullptr);
  CHECK(r.Find("GET", "/nowhere") == nullptr);
}

TEST_CASE("routes: 404 for unknown paths, 405 with Allow for a known path and another method") {
  Router r = MakeRouter();
  CHECK(Ask(r, "GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n").starts_with("HTTP/1.1 404 Not Found"));
  const std::string out =
      Ask(r, "PUT /api/v1/nodes HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  CHECK(out.starts_with("HTTP/1.1 405 Method Not Allowed"));
  CHECK(out.find("Allow: DELETE, POST\r\n") != std::string::npos);
  const std::string metrics =
      Ask(r, "POST /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  CHECK(metrics.find("Allow: GET, HEAD\r\n") != std::string::npos);
}

TEST_CASE("routes: HEAD is served by the GET route without a body; a fallback replaces 404") {
  Router r = MakeRouter();
  const std::string head = Ask(r, "HEAD /metrics HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(head.starts_with("HTTP/1.1 200 OK"));
  CHECK(head.find("Content-Length: 7\r\n") != std::string::npos);
  CHECK(head.ends_with("\r\n\r\n"));
  r.Fallback(Named("fallback"));
  CHECK(Ask(r, "GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n").ends_with("fallback"));
  // A known path with the wrong method is still 405, not the fallback.
  CHECK(Ask(r, "PUT /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
            .starts_with("HTTP/1.1 405"));
}

}  // namespace
}  // namespace meshvpn::http
