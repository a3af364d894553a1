// Router: exact and longest-prefix routes by method, with 404, 405 and HEAD-as-GET.
#include "meshvpn/http/router.h"

#include <algorithm>

#include "absl/strings/str_join.h"

namespace meshvpn::http {

Router& Router::Exact(std::string method, std::string path, Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(path), false, std::move(handler)});
  return *this;
}

Router& Router::Prefix(std::string method, std::string prefix, Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(prefix), true, std::move(handler)});
  return *this;
}

Router& Router::Fallback(Handler handler) {
  fallback_ = std::move(handler);
  return *this;
}

const Router::Route* Router::Match(std::string_view method, std::string_view path,
                                   std::vector<std::string>* allowed) const {
  // The best path first: an exact route, else the longest prefix. Then the method among the
  // routes with that path.
  const Route* best_path = nullptr;
  for (const Route& r : routes_) {
    const bool matches = r.prefix ? path.starts_with(r.path) : path == r.path;
    if (!matches) continue;
    if (best_path == nullptr || (!r.prefix && best_path->prefix) ||
        (r.prefix == best_path->prefix && r.path.size() > best_path->path.size())) {
      best_path = &r;
    }
  }
  if (best_path == nullptr) return nullptr;
  const Route* found = nullptr;
  const Route* get_route = nullptr;
  for (const Route& r : routes_) {
    if (r.prefix != best_path->prefix || r.path != best_path->path) continue;
    if (allowed != nullptr) allowed->push_back(r.method);
    if (r.method == method && found == nullptr) found = &r;
    if (r.method == "GET" && get_route == nullptr) get_route = &r;
  }
  if (found == nullptr && method == "HEAD") found = get_route;
  if (allowed != nullptr) {
    if (get_route != nullptr) allowed->push_back("HEAD");
    std::sort(allowed->begin(), allowed->end());
    allowed->erase(std::unique(allowed->begin(), allowed->end()), allowed->end());
  }
  return found;
}

const Router::Handler* Router::Find(std::string_view method, std::string_view path) const {
  const Route* r = Match(method, path, nullptr);
  return r != nullptr ? &r->handler : nullptr;
}

void Router::OnRequest(Request& request, ResponseWriter writer) {
  std::vector<std::string> allowed;
  if (const Route* r = Match(request.method, request.path, &allowed); r != nullptr) {
    r->handler(request, std::move(writer));
    return;
  }
  if (allowed.empty() && fallback_) {
    fallback_(request, std::move(writer));
    return;
  }
  if (allowed.empty()) {
    writer.Send(Response::Error(kStatusNotFound));
    return;
  }
  Response response = Response::Error(kStatusMethodNotAllowed);
  response.headers.Add("Allow", absl::StrJoin(allowed, ", "));
  writer.Send(std::move(response));
}

}  // namespace meshvpn::http
