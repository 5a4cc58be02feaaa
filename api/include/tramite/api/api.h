// The JSON REST API under /api/v1, as a function from request to response: routing (one
// route table), authentication (session tokens and API tokens), authorization by role per
// route, one error shape and one mapping from error code to HTTP status, request metrics.
// No sockets here; the server (server.h) feeds it.
//
// Thread safety: handle() may be called from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tramite/api/http.h"
#include "tramite/audit/checkpoint.h"
#include "tramite/clock.h"
#include "tramite/json.h"
#include "tramite/runtime/engine.h"
#include "tramite/status.h"
#include "tramite/storage/store.h"

namespace tramite::api {

struct ApiOptions {
  // HMAC-SHA256 key of session tokens; at least 32 bytes (the server generates one per data
  // directory when none is configured).
  std::string token_secret;
  std::int64_t session_lifetime_ms = 15 * 60 * 1000;
  // How long a token's principal is answered from memory instead of the directory (0: read
  // on every request). Changes made through this Api take effect at once; those made by
  // another process within this time.
  std::int64_t principal_cache_ms = 1000;
  std::size_t max_body_bytes = 1 << 20;
  // Bodies of document and signature uploads (the engine's DocumentPolicy also limits
  // documents).
  std::size_t max_upload_bytes = 25 << 20;
  // The ledger's signing key: an expediente bundle is exported with a fresh checkpoint.
  // Without one bundles prove entries up to the latest checkpoint only.
  std::shared_ptr<const audit::Signer> ledger_signer;
  // Timestamps that checkpoint through a TSA (see timestampStamp in tsa.h), when one is
  // configured.
  std::function<Result<std::string>(const std::string& signed_text)> checkpoint_stamp;
  // Failed logins: after lockout_after consecutive failures each further attempt waits
  // lockout_base_ms, doubling per failure up to lockout_max_ms (answered 429).
  int lockout_after = 5;
  std::int64_t lockout_base_ms = 1000;
  std::int64_t lockout_max_ms = 15 * 60 * 1000;
  // Argon2id cost of new password hashes (OWASP's minimum: 19 MiB, 2 passes).
  std::uint32_t argon2_memory_kib = 19 * 1024;
  std::uint32_t argon2_passes = 2;
};

// What a request turned out to be, for the server's log line.
struct RequestInfo {
  std::string route;  // the route pattern, e.g. "POST /api/v1/tasks/{id}/claim"
  std::string actor;  // the authenticated user, or ""
};

// A route of the table, as the OpenAPI check sees it.
struct RouteInfo {
  std::string method;
  std::string path;    // OpenAPI style: /api/v1/tasks/{id}
  std::string access;  // public | user | writer | monitor | admin
};

class Api {
 public:
  // engine and store are shared with the server's timer loop; clock is the business clock
  // (deadlines, token expiry); it must outlive the Api.
  Api(std::shared_ptr<runtime::Engine> engine, std::shared_ptr<storage::Store> store,
      const Clock& clock, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Answers one request; never throws. info, when given, receives the route and actor.
  HttpResponse handle(const HttpRequest& request, RequestInfo* info = nullptr);

  static std::vector<RouteInfo> routes();
  // The OpenAPI 3 document served at /api/v1/openapi.json.
  static const std::string& openApiDocument();

  // Sets a user's password (the user must be in the directory). Errors: kNotFound,
  // kInvalidArgument (a password shorter than 8 characters).
  Status setPassword(const std::string& user, const std::string& password);
  // Creates an API token for a (service) user; returns the secret, shown only here.
  Result<json::Value> createApiToken(const std::string& user, const std::string& name,
                                     std::int64_t lifetime_ms);

  // Counts a request the server answered itself (bad HTTP, body too large) in /metrics.
  void countRequest(const std::string& route, int status, double seconds);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The one mapping from error code to HTTP status.
int httpStatus(ErrorCode code);
// {"error": {"code", "message", "details"}}; details lists the lines of a validation report.
HttpResponse errorResponse(const Status& status);

}  // namespace tramite::api
