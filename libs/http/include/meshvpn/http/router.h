// Router: a RequestHandler that maps method + path (exact, or longest prefix) to handlers, with
// 404 and 405 (and its Allow field) answered automatically.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "meshvpn/http/response_writer.h"

namespace meshvpn::http {

class Router final : public RequestHandler {
 public:
  using Handler = std::function<void(Request& request, ResponseWriter writer)>;

  // `path` must equal the request's path (not percent-decoded, query excluded).
  Router& Exact(std::string method, std::string path, Handler handler);
  // The request's path starts with `prefix` ("/api/" matches "/api/v1/nodes"). The longest
  // matching prefix wins; exact routes win over prefixes.
  Router& Prefix(std::string method, std::string prefix, Handler handler);
  // Answers requests no route matches (instead of 404).
  Router& Fallback(Handler handler);

  // A path matched by no route: 404. A path matched only for other methods: 405 with
  // "Allow: GET, POST" (sorted). HEAD uses the GET route when there is no HEAD route; the
  // connection drops the body.
  void OnRequest(Request& request, ResponseWriter writer) override;

  // The route that would answer (for tests): nullptr on 404 or 405.
  const Handler* Find(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string path;
    bool prefix;
    Handler handler;
  };
  // The best path match among routes, by the rules above; `allowed` gets the methods of the
  // routes with that path.
  const Route* Match(std::string_view method, std::string_view path,
                     std::vector<std::string>* allowed) const;

  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace meshvpn::http
