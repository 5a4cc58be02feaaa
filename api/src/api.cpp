// The API: the route table, request checks, authentication and authorization; the handlers,
// each a thin translation between JSON and the engine, are in handlers/, one file per
// resource.
#include "tramite/api/api.h"

#include "api_impl.h"

namespace tramite::api {

const std::string& HttpRequest::header(const std::string& name) const {
  static const std::string kNone;
  auto it = headers.find(name);
  return it == headers.end() ? kNone : it->second;
}

const std::string* HttpRequest::param(const std::string& name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

int httpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kResourceExhausted: return 413;
    case ErrorCode::kUnsupportedMedia: return 415;
    case ErrorCode::kInvalidDocument: return 422;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

HttpResponse errorResponse(const Status& status) {
  json::Array details;
  if (status.code() == ErrorCode::kInvalidDocument ||
      status.code() == ErrorCode::kInvalidArgument) {
    std::size_t start = 0;
    const std::string& m = status.message();
    while (start < m.size()) {
      std::size_t end = m.find('\n', start);
      if (end == std::string::npos) end = m.size();
      if (end > start) details.emplace_back(m.substr(start, end - start));
      start = end + 1;
    }
  }
  HttpResponse r;
  r.status = httpStatus(status.code());
  r.body = json::dump(json::Value(json::Object{
      {"error", json::Value(json::Object{{"code", std::string(errorCodeName(status.code()))},
                                         {"message", status.message()},
                                         {"details", json::Value(std::move(details))}})}}));
  return r;
}

// The route table: every route of the API, gathered from the resources' declarations and
// tagged with their resource. Paths are matched segment by segment, in this order; {name}
// matches one segment. The OpenAPI document is generated from these declarations.
const std::vector<Api::Impl::Route>& Api::Impl::table() {
  static const std::vector<Route> routes = [] {
    using Declare = std::vector<Route> (*)();
    const std::pair<const char*, Declare> resources[] = {
        {"service", &serviceRoutes},
        {"auth", &authRoutes},
        {"directory", &directoryRoutes},
        {"definitions", &definitionRoutes},
        {"instances", &instanceRoutes},
        {"tasks", &taskRoutes},
        {"documents", &documentRoutes},
        {"audit", &auditRoutes},
        {"notifications", &notificationRoutes},
    };
    std::vector<Route> all;
    for (const auto& [tag, declare] : resources) {
      for (Route& r : declare()) {
        r.doc.tag = tag;
        all.push_back(std::move(r));
      }
    }
    return all;
  }();
  return routes;
}

const std::string& Api::openApiDocument() {
  static const std::string document = [] {
    std::vector<DocumentedRoute> routes;
    for (const Impl::Route& r : Impl::table()) {
      const bool is_public = r.access == Access::kPublic;
      routes.push_back(
          {r.method, r.path, is_public, !is_public && r.access != Access::kUser, &r.doc});
    }
    return generateOpenApi(routes);
  }();
  return document;
}

// ---- Api ------------------------------------------------------------------------------------

Api::Api(std::shared_ptr<runtime::Engine> engine, std::shared_ptr<storage::Store> store,
         const Clock& clock, ApiOptions options)
    : impl_(
          std::make_unique<Impl>(std::move(engine), std::move(store), clock, std::move(options))) {}

Api::~Api() = default;

HttpResponse Api::handle(const HttpRequest& request, RequestInfo* info) {
  try {
    return impl_->handle(request, info);
  } catch (const std::exception& e) {
    // A bug: answered, logged by the server, never a crash.
    return errorResponse(Status(ErrorCode::kInternal, std::string("internal error: ") + e.what()));
  }
}

std::vector<RouteInfo> Api::routes() {
  std::vector<RouteInfo> out;
  for (const Impl::Route& r : Impl::table()) {
    out.push_back(RouteInfo{r.method, r.path, accessName(r.access)});
  }
  return out;
}

Status Api::setPassword(const std::string& user, const std::string& password) {
  return impl_->auth_.setPassword(user, password);
}

Result<json::Value> Api::createApiToken(const std::string& user, const std::string& name,
                                        std::int64_t lifetime_ms) {
  return impl_->auth_.createApiToken(user, name, lifetime_ms);
}

void Api::countRequest(const std::string& route, int status, double seconds) {
  impl_->metrics_.record(route, status, seconds);
}

}  // namespace tramite::api
