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

// The route table: every route of the API, in one place. Paths are matched segment by
// segment; {name} matches one segment. The OpenAPI document lists exactly these.
const std::vector<Api::Impl::Route>& Api::Impl::table() {
  using I = Impl;
  static const std::vector<Route> routes = {
      {"GET", "/healthz", Access::kPublic, &I::healthz},
      {"GET", "/readyz", Access::kPublic, &I::readyz},
      {"GET", "/metrics", Access::kMonitor, &I::metrics},
      {"GET", "/api/v1/openapi.json", Access::kPublic, &I::openapi},
      {"POST", "/api/v1/login", Access::kPublic, &I::login},
      {"GET", "/api/v1/me", Access::kUser, &I::me},
      {"POST", "/api/v1/tokens", Access::kAdmin, &I::createToken},
      {"GET", "/api/v1/tokens", Access::kAdmin, &I::listTokens},
      {"DELETE", "/api/v1/tokens/{id}", Access::kAdmin, &I::revokeToken},
      {"GET", "/api/v1/users", Access::kMonitor, &I::users},
      {"PUT", "/api/v1/users/{id}/password", Access::kUser, &I::setPassword},
      {"GET", "/api/v1/roles", Access::kUser, &I::roles},
      {"PUT", "/api/v1/directory", Access::kAdmin, &I::putDirectory},
      {"GET", "/api/v1/directory", Access::kAdmin, &I::getDirectory},
      {"PUT", "/api/v1/users/{id}", Access::kAdmin, &I::putUser},
      {"POST", "/api/v1/users/{id}/invitation", Access::kAdmin, &I::invite},
      {"POST", "/api/v1/invitations/accept", Access::kPublic, &I::acceptInvitation},
      {"POST", "/api/v1/definitions/validate", Access::kUser, &I::validate},
      {"POST", "/api/v1/definitions/{name}", Access::kAdmin, &I::deploy},
      {"GET", "/api/v1/definitions/{name}/versions", Access::kUser, &I::versions},
      {"GET", "/api/v1/definitions/{name}/versions/{version}", Access::kUser, &I::definitionXml},
      {"POST", "/api/v1/instances", Access::kWriter, &I::startInstance},
      {"GET", "/api/v1/instances", Access::kUser, &I::searchInstances},
      {"GET", "/api/v1/instances/{id}", Access::kUser, &I::getInstance},
      {"POST", "/api/v1/instances/{id}/events", Access::kWriter, &I::sendEvent},
      {"POST", "/api/v1/basichttp/{id}", Access::kWriter, &I::basicHttp},
      {"POST", "/api/v1/instances/{id}/suspend", Access::kAdmin, &I::lifecycle, "suspend"},
      {"POST", "/api/v1/instances/{id}/resume", Access::kAdmin, &I::lifecycle, "resume"},
      {"POST", "/api/v1/instances/{id}/terminate", Access::kAdmin, &I::lifecycle, "terminate"},
      {"POST", "/api/v1/instances/{id}/migrate", Access::kAdmin, &I::migrate},
      {"GET", "/api/v1/instances/{id}/history", Access::kUser, &I::history},
      {"GET", "/api/v1/instances/{id}/tasks", Access::kUser, &I::instanceTasks},
      {"GET", "/api/v1/tasks", Access::kUser, &I::queue},
      {"GET", "/api/v1/tasks/{id}", Access::kUser, &I::getTask},
      {"POST", "/api/v1/tasks/{id}/claim", Access::kWriter, &I::taskOp, "claim"},
      {"POST", "/api/v1/tasks/{id}/release", Access::kWriter, &I::taskOp, "release"},
      {"POST", "/api/v1/tasks/{id}/start", Access::kWriter, &I::taskOp, "start"},
      {"POST", "/api/v1/tasks/{id}/stop", Access::kWriter, &I::taskOp, "stop"},
      {"POST", "/api/v1/tasks/{id}/delegate", Access::kWriter, &I::taskOp, "delegate"},
      {"POST", "/api/v1/tasks/{id}/forward", Access::kWriter, &I::taskOp, "forward"},
      {"POST", "/api/v1/tasks/{id}/suspend", Access::kWriter, &I::taskOp, "suspend"},
      {"POST", "/api/v1/tasks/{id}/resume", Access::kWriter, &I::taskOp, "resume"},
      {"POST", "/api/v1/tasks/{id}/complete", Access::kWriter, &I::taskOp, "complete"},
      {"POST", "/api/v1/tasks/{id}/fail", Access::kWriter, &I::taskOp, "fail"},
      {"POST", "/api/v1/tasks/{id}/skip", Access::kWriter, &I::taskOp, "skip"},
      {"GET", "/api/v1/instances/{id}/documents", Access::kUser, &I::listDocuments},
      {"POST", "/api/v1/instances/{id}/documents/{name}", Access::kWriter, &I::uploadDocument, "",
       true},
      {"GET", "/api/v1/instances/{id}/bundle", Access::kUser, &I::bundle},
      {"GET", "/api/v1/documents/{id}", Access::kUser, &I::getDocument},
      {"GET", "/api/v1/documents/{id}/content", Access::kUser, &I::documentContent},
      {"POST", "/api/v1/documents/{id}/signatures", Access::kWriter, &I::addSignature, "", true},
      {"GET", "/api/v1/documents/{id}/signatures/{signature}/p7s", Access::kUser,
       &I::signatureContent},
      {"GET", "/api/v1/notifications", Access::kUser, &I::notifications},
      {"POST", "/api/v1/notifications/{id}/read", Access::kUser, &I::readNotification},
      {"GET", "/api/v1/audit/key", Access::kPublic, &I::ledgerKey},
      {"GET", "/api/v1/audit/checkpoint", Access::kMonitor, &I::latestCheckpoint},
      {"GET", "/api/v1/audit/proofs/inclusion", Access::kMonitor, &I::inclusionProof},
      {"GET", "/api/v1/audit/proofs/consistency", Access::kMonitor, &I::consistencyProof},
  };
  return routes;
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
