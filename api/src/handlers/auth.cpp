// The API's handlers: authentication.
#include "api_impl.h"

namespace tramite::api {

Result<HttpResponse> Api::Impl::login(Context& c) {
  auto body = jsonBody(c);
  if (!body) return body.status();
  Fields f(*body, {"username", "password"});
  const std::string user = f.text("username", true);
  const std::string password = f.text("password", true);
  if (!f.status()) return f.status();
  std::int64_t retry_ms = 0;
  auto session = auth_.login(user, password, &retry_ms);
  if (!session) {
    HttpResponse r = errorResponse(session.status());
    if (retry_ms > 0)
      r.headers.emplace_back("Retry-After", std::to_string((retry_ms + 999) / 1000));
    return r;
  }
  return jsonResponse(200, *session);
}

Result<HttpResponse> Api::Impl::me(Context& c) {
  return jsonResponse(200, json::Value(json::Object{{"user", c.who.user},
                                                    {"name", c.who.name},
                                                    {"unit", c.who.unit},
                                                    {"roles", strings(c.who.roles)},
                                                    {"read_only", c.who.readOnly()},
                                                    {"monitor", c.who.monitor()}}));
}

Result<HttpResponse> Api::Impl::createToken(Context& c) {
  auto body = jsonBody(c);
  if (!body) return body.status();
  Fields f(*body, {"user", "name", "expires_in_days"});
  const std::string user = f.text("user", true);
  const std::string name = f.text("name", true);
  const std::int64_t days = f.integer("expires_in_days");
  if (!f.status()) return f.status();
  if (days < 0 || days > 3660) {
    return Status(ErrorCode::kInvalidArgument, "expires_in_days is 0 (never) to 3660");
  }
  auto token = auth_.createApiToken(user, name, days * 86'400'000);
  if (!token) return token.status();
  if (Status st = adminHistory(
          "tokens", c.actor(), "token.create",
          json::Value(json::Object{{"id", *token->find("id")}, {"user", user}, {"name", name}}));
      !st) {
    return st;
  }
  return jsonResponse(201, *token);
}

Result<HttpResponse> Api::Impl::listTokens(Context& c) {
  const std::string* user = c.req.param("user");
  auto tokens = auth_.apiTokens(user ? *user : std::string());
  if (!tokens) return tokens.status();
  json::Array out;
  for (const storage::ApiTokenRecord& t : *tokens) {
    out.emplace_back(json::Object{{"id", t.id},
                                  {"user", t.user},
                                  {"name", t.name},
                                  {"created_at", t.created_at},
                                  {"expires_at", t.expires_at},
                                  {"revoked_at", t.revoked_at}});
  }
  return jsonResponse(200, json::objectOf("tokens", std::move(out)));
}

Result<HttpResponse> Api::Impl::revokeToken(Context& c) {
  const std::string& id = c.path.at("id");
  if (Status st = auth_.revokeApiToken(id); !st) return st;
  if (Status st =
          adminHistory("tokens", c.actor(), "token.revoke", json::Value(json::Object{{"id", id}}));
      !st) {
    return st;
  }
  return jsonResponse(200, json::Value(json::Object{{"id", id}, {"revoked", true}}));
}

Result<HttpResponse> Api::Impl::setPassword(Context& c) {
  const std::string& user = c.path.at("id");
  if (user != c.actor() && !c.who.admin()) {
    return Status(ErrorCode::kPermissionDenied,
                  c.actor() + " may not set the password of " + user + " (admin only)");
  }
  auto body = jsonBody(c);
  if (!body) return body.status();
  Fields f(*body, {"password", "current_password"});
  const std::string password = f.text("password", true);
  // Changing one's own password takes the current one; an admin resetting someone else's
  // does not. Either way the user's earlier sessions end.
  const bool own = user == c.actor();
  const std::string current = f.text("current_password", own);
  if (!f.status()) return f.status();
  if (Status st = auth_.setPassword(user, password, own ? &current : nullptr); !st) return st;
  if (Status st = adminHistory("users", c.actor(), "password.set",
                               json::Value(json::Object{{"user", user}}));
      !st) {
    return st;
  }
  return jsonResponse(200, json::Value(json::Object{{"user", user}, {"password_set", true}}));
}

// An admin action in the history of "admin:<subject>".
Status Api::Impl::adminHistory(const std::string& subject, const std::string& actor,
                               const std::string& kind, const json::Value& detail) {
  auto done = inTransaction<bool>(
      *store_, storage::TxMode::kWrite, [&](storage::Transaction& tx) -> Result<bool> {
        Status st = tx.appendHistory({storage::HistoryRecord{0, "admin:" + subject, clock_.nowMs(),
                                                             actor, kind, json::dump(detail)}});
        if (!st) return st;
        return true;
      });
  return done ? Status::ok() : done.status();
}

// The routes of this resource (see Route in api_impl.h).
std::vector<Api::Impl::Route> Api::Impl::authRoutes() {
  using I = Impl;
  return {
      Route("login", "POST", "/api/v1/login", Access::kPublic, &I::login)
          .summary("Log in with username and password",
                   "Repeated failures lock the account for a doubling time (429 with Retry-After).")
          .takes("Login")
          .returns(200, "Session", "a session token")
          .fails({401, 429}),
      Route("me", "GET", "/api/v1/me", Access::kUser, &I::me)
          .summary("The caller")
          .returns(200, "Me", "the authenticated user"),
      Route("createToken", "POST", "/api/v1/tokens", Access::kAdmin, &I::createToken)
          .summary("Create an API token for a (service) user")
          .takes("NewApiToken")
          .returns(201, "ApiToken", "the token; its secret is shown only here")
          .fails({404}),
      Route("listTokens", "GET", "/api/v1/tokens", Access::kAdmin, &I::listTokens)
          .summary("List API tokens")
          .query("user", "only this user's")
          .returns(200, "ApiTokenList", "tokens without secrets"),
      Route("revokeToken", "DELETE", "/api/v1/tokens/{id}", Access::kAdmin, &I::revokeToken)
          .summary("Revoke an API token")
          .returns(200, "Revoked", "revoked"),
  };
}

}  // namespace tramite::api
