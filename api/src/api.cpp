// The API: the route table, request checks, authentication and authorization, and the
// handlers, each a thin translation between JSON and the engine.
#include "tramite/api/api.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <sstream>

#include "auth.h"
#include "metrics.h"
#include "tramite/api/basichttp.h"
#include "tramite/audit/json_forms.h"
#include "tramite/ledger/bundle.h"
#include "tramite/ledger/ledger.h"
#include "tramite/runtime/directory.h"
#include "tramite/text.h"

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

namespace {

enum class Access {
  kPublic,   // no token
  kUser,     // any authenticated user
  kWriter,   // an authenticated user who may change things (not a pure auditor)
  kMonitor,  // admin, auditors, the compliance office
  kAdmin,
};

const char* accessName(Access a) {
  switch (a) {
    case Access::kPublic: return "public";
    case Access::kUser: return "user";
    case Access::kWriter: return "writer";
    case Access::kMonitor: return "monitor";
    case Access::kAdmin: return "admin";
  }
  return "admin";
}

HttpResponse jsonResponse(int status, const json::Value& body) {
  HttpResponse r;
  r.status = status;
  r.body = json::dump(body);
  return r;
}

json::Value strings(const std::vector<std::string>& v) {
  return json::Value(json::Array(v.begin(), v.end()));
}

// Reads the members of a JSON object body, refusing unknown members and wrong types.
class Fields {
 public:
  Fields(const json::Value& object, std::initializer_list<const char*> allowed) : v_(object) {
    for (const auto& [key, value] : v_.asObject()) {
      if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
        fail("unknown field '" + key + "' (this call takes: " + join(allowed, ", ") + ")");
      }
    }
  }

  std::string text(const char* key, bool required = false) {
    const json::Value* m = v_.find(key);
    if (!m || m->isNull()) {
      if (required) fail("field '" + std::string(key) + "' is required");
      return {};
    }
    if (!m->isString()) fail("field '" + std::string(key) + "' must be a string");
    return m->isString() ? m->asString() : std::string();
  }
  std::int64_t integer(const char* key, bool required = false) {
    const json::Value* m = v_.find(key);
    if (!m || m->isNull()) {
      if (required) fail("field '" + std::string(key) + "' is required");
      return 0;
    }
    if (!m->isInt()) fail("field '" + std::string(key) + "' must be an integer (64-bit)");
    return m->isInt() ? m->asInt() : 0;
  }
  json::Value object(const char* key) {
    const json::Value* m = v_.find(key);
    if (!m || m->isNull()) return {};
    if (!m->isObject()) fail("field '" + std::string(key) + "' must be an object");
    return m->isObject() ? *m : json::Value();
  }
  std::vector<std::string> texts(const char* key) {
    std::vector<std::string> out;
    const json::Value* m = v_.find(key);
    if (!m || m->isNull()) return out;
    bool ok = m->isArray();
    if (ok) {
      for (const json::Value& e : m->asArray()) {
        ok = ok && e.isString();
        if (e.isString()) out.push_back(e.asString());
      }
    }
    if (!ok) fail("field '" + std::string(key) + "' must be an array of strings");
    return out;
  }
  const Status& status() const { return status_; }

 private:
  void fail(std::string message) {
    if (status_) status_ = Status(ErrorCode::kInvalidArgument, std::move(message));
  }
  const json::Value& v_;
  Status status_;
};

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool printableAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

// ---- the implementation ---------------------------------------------------------------------

class Api::Impl {
 public:
  Impl(std::shared_ptr<runtime::Engine> engine, std::shared_ptr<storage::Store> store,
       const Clock& clock, ApiOptions options)
      : engine_(std::move(engine)),
        store_(std::move(store)),
        clock_(clock),
        options_(std::move(options)),
        auth_(store_, clock_, options_) {}

  struct Context {
    const HttpRequest& req;
    std::map<std::string, std::string> path;  // path parameters by name
    Principal who;                            // empty for public routes
    std::string op;                           // the route's operation (task ops, lifecycle)
    const std::string& actor() const { return who.user; }
    const std::string& idempotencyKey() const { return req.header("idempotency-key"); }
  };
  using Handler = Result<HttpResponse> (Impl::*)(Context&);
  struct Route {
    const char* method;
    const char* path;
    Access access;
    Handler handler;
    const char* op = "";
    bool upload = false;  // a raw body up to max_upload_bytes (documents, signatures)
  };

  static const std::vector<Route>& table();

  HttpResponse handle(const HttpRequest& req, RequestInfo* info) {
    const auto started = std::chrono::steady_clock::now();
    std::string route_name = "unmatched";
    std::string actor;
    HttpResponse resp = dispatch(req, route_name, actor);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_.record(route_name, resp.status, seconds);
    if (info) {
      info->route = route_name;
      info->actor = actor;
    }
    return resp;
  }

  HttpResponse dispatch(const HttpRequest& req, std::string& route_name, std::string& actor) {
    auto too_large = [](std::size_t limit) {
      return errorResponse(Status(ErrorCode::kResourceExhausted,
                                  "the body exceeds " + std::to_string(limit) + " bytes"));
    };
    // Before routing, the largest body any route takes; after, the route's own limit.
    const std::size_t most = std::max(options_.max_body_bytes, options_.max_upload_bytes);
    if (req.body.size() > most) return too_large(most);
    const std::vector<std::string> segments = splitPath(req.path);
    // The route patterns, split once.
    static const std::vector<std::vector<std::string>> patterns = [] {
      std::vector<std::vector<std::string>> out;
      for (const Route& r : table()) out.push_back(splitPath(r.path));
      return out;
    }();
    const Route* found = nullptr;
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;
    for (std::size_t i = 0; i < table().size(); ++i) {
      const Route& r = table()[i];
      std::map<std::string, std::string> p;
      if (!matches(patterns[i], segments, p)) continue;
      if (req.method != r.method) {
        allowed.emplace_back(r.method);
        continue;
      }
      found = &r;
      params = std::move(p);
      break;
    }
    if (!found) {
      std::string message = "no route " + req.method + " " + req.path;
      if (!allowed.empty()) {
        message += " (this path takes: " + join(allowed, ", ") + ")";
      }
      return errorResponse(Status(ErrorCode::kNotFound, message));
    }
    route_name = std::string(found->method) + " " + found->path;
    const std::size_t limit = found->upload ? options_.max_upload_bytes : options_.max_body_bytes;
    if (req.body.size() > limit) return too_large(limit);
    Context ctx{req, std::move(params), {}, found->op};
    if (found->access != Access::kPublic) {
      auto who = auth_.authenticate(req.header("authorization"));
      if (!who) return errorResponse(who.status());
      ctx.who = std::move(who).value();
      actor = ctx.who.user;
      if (Status st = permitted(found->access, ctx.who); !st) return errorResponse(st);
    }
    const std::string& key = ctx.idempotencyKey();
    if (!key.empty() && (key.size() > 200 || !printableAscii(key))) {
      return errorResponse(Status(ErrorCode::kInvalidArgument,
                                  "Idempotency-Key is 1 to 200 printable ASCII characters"));
    }
    Result<HttpResponse> out = (this->*(found->handler))(ctx);
    if (!out) return errorResponse(out.status());
    return std::move(out).value();
  }

  static bool matches(const std::vector<std::string>& want,
                      const std::vector<std::string>& segments,
                      std::map<std::string, std::string>& params) {
    if (want.size() != segments.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const std::string& w = want[i];
      if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
        if (segments[i].empty()) return false;
        params[w.substr(1, w.size() - 2)] = segments[i];
      } else if (w != segments[i]) {
        return false;
      }
    }
    return true;
  }

  static Status permitted(Access access, const Principal& who) {
    auto refuse = [&](const std::string& what) {
      return Status(ErrorCode::kPermissionDenied, who.user + " may not " + what);
    };
    switch (access) {
      case Access::kPublic:
      case Access::kUser: return Status::ok();
      case Access::kWriter:
        return who.readOnly() ? refuse("change anything (auditors read only)") : Status::ok();
      case Access::kMonitor:
        return who.monitor() ? Status::ok()
                             : refuse("read this (admin, auditor or oficial_cumplimiento only)");
      case Access::kAdmin: return who.admin() ? Status::ok() : refuse("do this (admin only)");
    }
    return refuse("do this");
  }

  // ---- body helpers ----

  Result<json::Value> jsonBody(const Context& c, bool required = true) const {
    if (c.req.body.empty() && !required) return json::Value(json::Object{});
    const std::string& type = c.req.header("content-type");
    if (type.rfind("application/json", 0) != 0) {
      return Status(ErrorCode::kUnsupportedMedia,
                    "this call takes a JSON body (Content-Type: application/json)");
    }
    json::ParseLimits limits;
    limits.max_depth = 64;
    limits.max_bytes = options_.max_body_bytes;
    limits.reject_duplicates = true;
    auto v = json::parse(c.req.body, limits);
    if (!v)
      return Status(ErrorCode::kInvalidArgument, "malformed JSON body: " + v.status().message());
    if (!v->isObject())
      return Status(ErrorCode::kInvalidArgument, "the body must be a JSON object");
    return v;
  }

  Result<std::string> xmlBody(const Context& c) const {
    const std::string& type = c.req.header("content-type");
    const bool xml = type.rfind("application/xml", 0) == 0 || type.rfind("text/xml", 0) == 0 ||
                     type.rfind("application/scxml+xml", 0) == 0;
    if (!xml) {
      return Status(ErrorCode::kUnsupportedMedia,
                    "this call takes an SCXML document (Content-Type: application/scxml+xml)");
    }
    if (c.req.body.empty()) return Status(ErrorCode::kInvalidArgument, "the document is empty");
    return c.req.body;
  }

  // ---- access to objects ----

  // Whom who answers for today (see Engine::principalsOf); none for a user no longer in the
  // directory.
  Result<std::vector<std::string>> principalsOf(const Principal& who) {
    auto mine = engine_->principalsOf(who.user);
    if (!mine && mine.status().code() == ErrorCode::kNotFound) return std::vector<std::string>{};
    return mine;
  }

  // Monitors read every expediente; others those they took part in (an action of theirs in
  // its history) or that have a task for them or for someone they stand in for today.
  Status mayReadInstance(const Principal& who, const std::string& instance_id) {
    if (who.monitor()) return Status::ok();
    auto mine = principalsOf(who);
    if (!mine) return mine.status();
    return mayReadInstanceAs(who, *mine, instance_id);
  }

  // mayReadInstance for someone not a monitor whose principals are known.
  Status mayReadInstanceAs(const Principal& who, const std::vector<std::string>& mine,
                           const std::string& instance_id) {
    auto tasks = engine_->tasksOf(instance_id);
    if (!tasks) return tasks.status();
    for (const runtime::TaskView& t : *tasks) {
      if (runtime::reaches(mine, t)) return Status::ok();
    }
    auto history = engine_->history(instance_id);
    if (!history) return history.status();
    if (history->empty()) return Status(ErrorCode::kNotFound, "no instance '" + instance_id + "'");
    for (const storage::HistoryRecord& h : *history) {
      if (h.actor == who.user) return Status::ok();
    }
    return Status(ErrorCode::kPermissionDenied,
                  who.user + " takes no part in instance '" + instance_id + "'");
  }

  // ---- handlers: service ----

  Result<HttpResponse> healthz(Context&) {
    return jsonResponse(200, json::Value(json::Object{{"status", "ok"}}));
  }

  Result<HttpResponse> readyz(Context&) {
    auto tx = store_->begin(storage::TxMode::kRead);
    if (!tx)
      return Status(ErrorCode::kUnavailable,
                    "the store is not reachable: " + tx.status().message());
    return jsonResponse(200, json::Value(json::Object{{"status", "ready"},
                                                      {"store", store_->dialectName()},
                                                      {"schema", store_->schemaVersion()}}));
  }

  Result<HttpResponse> metrics(Context&) {
    std::string out;
    metrics_.appendTo(out);
    const TimePoint now = clock_.nowMs();
    auto stats = inTransaction<storage::StoreStatistics>(
        *store_, storage::TxMode::kRead,
        [&](storage::Transaction& tx) { return tx.statistics(now); });
    if (!stats) return stats.status();
    out += "# HELP tramite_instances Instances stored, by lifecycle state.\n";
    out += "# TYPE tramite_instances gauge\n";
    for (const auto& [lifecycle, n] : stats->instances_by_lifecycle) {
      out +=
          "tramite_instances{state=\"" + promLabel(lifecycle) + "\"} " + std::to_string(n) + "\n";
    }
    out += "# HELP tramite_tasks_open Open human tasks.\n# TYPE tramite_tasks_open gauge\n";
    out += "tramite_tasks_open " + std::to_string(stats->open_tasks) + "\n";
    out += "# HELP tramite_tasks_overdue Open human tasks past their due date.\n";
    out += "# TYPE tramite_tasks_overdue gauge\n";
    out += "tramite_tasks_overdue " + std::to_string(stats->overdue_tasks) + "\n";
    const double lag = stats->oldest_due_timer > 0
                           ? static_cast<double>(now - stats->oldest_due_timer) / 1000.0
                           : 0;
    char number[32];
    std::snprintf(number, sizeof number, "%.3f", lag);
    out += "# HELP tramite_timer_lag_seconds How late the oldest due, unfired timer is.\n";
    out += "# TYPE tramite_timer_lag_seconds gauge\n";
    out += "tramite_timer_lag_seconds " + std::string(number) + "\n";
    out += "# HELP tramite_parked_rows Timer and inbox rows parked after failing for good.\n";
    out += "# TYPE tramite_parked_rows gauge\n";
    out += "tramite_parked_rows " + std::to_string(stats->parked) + "\n";
    const runtime::GroupCommitStats commits = engine_->groupCommitStats();
    out += "# HELP tramite_group_commit_batches_total Write transactions of group commit.\n";
    out += "# TYPE tramite_group_commit_batches_total counter\n";
    out += "tramite_group_commit_batches_total " + std::to_string(commits.batches) + "\n";
    out += "# HELP tramite_group_commit_requests_total Requests written by group commit.\n";
    out += "# TYPE tramite_group_commit_requests_total counter\n";
    out += "tramite_group_commit_requests_total " + std::to_string(commits.requests) + "\n";
    out += "# HELP tramite_group_commit_failures_total Group commits whose transaction failed.\n";
    out += "# TYPE tramite_group_commit_failures_total counter\n";
    out += "tramite_group_commit_failures_total " + std::to_string(commits.failed) + "\n";
    out += "# HELP tramite_group_commit_seconds_total Committers' time by phase.\n";
    out += "# TYPE tramite_group_commit_seconds_total counter\n";
    for (const auto& [phase, total] : {std::pair{"taking_writer", commits.taking_writer},
                                       {"gathering", commits.gathering},
                                       {"writing", commits.writing},
                                       {"committing", commits.committing}}) {
      std::snprintf(number, sizeof number, "%.6f", std::chrono::duration<double>(total).count());
      out += "tramite_group_commit_seconds_total{phase=\"" + std::string(phase) + "\"} " + number +
             "\n";
    }
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = std::move(out);
    return r;
  }

  Result<HttpResponse> openapi(Context&) {
    HttpResponse r;
    r.body = Api::openApiDocument();
    return r;
  }

  // ---- handlers: authentication ----

  Result<HttpResponse> login(Context& c) {
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

  Result<HttpResponse> me(Context& c) {
    return jsonResponse(200, json::Value(json::Object{{"user", c.who.user},
                                                      {"name", c.who.name},
                                                      {"unit", c.who.unit},
                                                      {"roles", strings(c.who.roles)},
                                                      {"read_only", c.who.readOnly()},
                                                      {"monitor", c.who.monitor()}}));
  }

  Result<HttpResponse> createToken(Context& c) {
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

  Result<HttpResponse> listTokens(Context& c) {
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

  Result<HttpResponse> revokeToken(Context& c) {
    const std::string& id = c.path.at("id");
    if (Status st = auth_.revokeApiToken(id); !st) return st;
    if (Status st = adminHistory("tokens", c.actor(), "token.revoke",
                                 json::Value(json::Object{{"id", id}}));
        !st) {
      return st;
    }
    return jsonResponse(200, json::Value(json::Object{{"id", id}, {"revoked", true}}));
  }

  Result<HttpResponse> setPassword(Context& c) {
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
  Status adminHistory(const std::string& subject, const std::string& actor, const std::string& kind,
                      const json::Value& detail) {
    auto done = inTransaction<bool>(
        *store_, storage::TxMode::kWrite, [&](storage::Transaction& tx) -> Result<bool> {
          Status st = tx.appendHistory({storage::HistoryRecord{
              0, "admin:" + subject, clock_.nowMs(), actor, kind, json::dump(detail)}});
          if (!st) return st;
          return true;
        });
    return done ? Status::ok() : done.status();
  }

  // ---- handlers: directory ----

  Result<HttpResponse> users(Context&) {
    auto dir = engine_->directory();
    if (!dir) return dir.status();
    json::Array users;
    for (const storage::UserRecord& u : dir->users) users.push_back(runtime::userJson(u));
    return jsonResponse(200, json::objectOf("users", std::move(users)));
  }

  Result<HttpResponse> roles(Context&) {
    auto dir = engine_->directory();
    if (!dir) return dir.status();
    json::Array roles;
    for (const storage::RoleRecord& r : dir->roles) {
      roles.emplace_back(json::Object{{"id", r.id}, {"name", r.name}});
    }
    json::Array units;
    for (const storage::UnitRecord& u : dir->units) {
      units.emplace_back(json::Object{{"id", u.id}, {"name", u.name}, {"area", u.area}});
    }
    return jsonResponse(200, json::objectOf("roles", std::move(roles), "units", std::move(units)));
  }

  Result<HttpResponse> putDirectory(Context& c) {
    auto body = jsonBody(c);
    if (!body) return body.status();
    auto dir = runtime::parseDirectory(c.req.body);
    if (!dir) return dir.status();
    if (Status st = engine_->importDirectory(*dir, c.actor()); !st) return st;
    auth_.forgetPrincipals();
    return jsonResponse(
        200, json::Value(json::Object{
                 {"units", static_cast<std::int64_t>(dir->units.size())},
                 {"roles", static_cast<std::int64_t>(dir->roles.size())},
                 {"users", static_cast<std::int64_t>(dir->users.size())},
                 {"substitutions", static_cast<std::int64_t>(dir->substitutions.size())}}));
  }

  Result<HttpResponse> getDirectory(Context&) {
    auto dir = engine_->directory();
    if (!dir) return dir.status();
    return jsonResponse(200, runtime::directoryToJson(*dir));
  }

  // Adds or changes one user (deactivate with "active": false).
  Result<HttpResponse> putUser(Context& c) {
    auto body = jsonBody(c);
    if (!body) return body.status();
    Fields f(*body, {"name", "unit", "roles", "active"});
    storage::UserRecord u;
    u.id = c.path.at("id");
    u.name = f.text("name", true);
    u.unit = f.text("unit", true);
    u.roles = f.texts("roles");
    const json::Value* active = body->find("active");
    if (active && !active->isBool()) {
      return Status(ErrorCode::kInvalidArgument, "field 'active' must be true or false");
    }
    u.active = !active || active->asBool();
    if (!f.status()) return f.status();
    if (Status st = engine_->putUser(u, c.actor()); !st) return st;
    auth_.forgetPrincipals();
    return jsonResponse(200, runtime::userJson(u));
  }

  // An invitation for a user to set their first password (the secret is shown once).
  Result<HttpResponse> invite(Context& c) {
    auto body = jsonBody(c, /*required=*/false);
    if (!body) return body.status();
    Fields f(*body, {"expires_in_days"});
    const std::int64_t days = f.integer("expires_in_days");
    if (!f.status()) return f.status();
    if (days < 0 || days > 30) {
      return Status(ErrorCode::kInvalidArgument, "expires_in_days is 1 to 30 (0: 7)");
    }
    const std::string& user = c.path.at("id");
    auto made = auth_.invite(user, (days == 0 ? 7 : days) * 86'400'000);
    if (!made) return made.status();
    if (Status st = adminHistory("users", c.actor(), "invitation.create",
                                 json::Value(json::Object{{"user", user}}));
        !st) {
      return st;
    }
    return jsonResponse(201, *made);
  }

  Result<HttpResponse> acceptInvitation(Context& c) {
    auto body = jsonBody(c);
    if (!body) return body.status();
    Fields f(*body, {"invitation", "password"});
    const std::string secret = f.text("invitation", true);
    const std::string password = f.text("password", true);
    if (!f.status()) return f.status();
    auto user = auth_.acceptInvitation(secret, password);
    if (!user) return user.status();
    if (Status st = adminHistory("users", *user, "password.set",
                                 json::Value(json::Object{{"user", *user}, {"by", "invitation"}}));
        !st) {
      return st;
    }
    return jsonResponse(200, json::Value(json::Object{{"user", *user}, {"password_set", true}}));
  }

  // ---- handlers: definitions ----

  static json::Value definitionJson(const storage::DefinitionRecord& d) {
    return json::Value(json::Object{{"id", d.id},
                                    {"name", d.name},
                                    {"version", static_cast<std::int64_t>(d.version)},
                                    {"sha256", d.sha256},
                                    {"created_at", d.created_at}});
  }

  Result<HttpResponse> deploy(Context& c) {
    auto xml = xmlBody(c);
    if (!xml) return xml.status();
    const std::string& name = c.path.at("name");
    if (!runtime::isWorkflowName(name)) {
      return Status(ErrorCode::kInvalidArgument,
                    "a definition name is [a-z][a-z0-9_-]*, not '" + name + "'");
    }
    auto d = engine_->deploy(name, *xml, c.actor());
    if (!d) return d.status();
    return jsonResponse(201, definitionJson(*d));
  }

  Result<HttpResponse> validate(Context& c) {
    auto xml = xmlBody(c);
    if (!xml) return xml.status();
    const std::string* name = c.req.param("name");
    if (Status st = engine_->validate(name ? *name : "document", *xml); !st) return st;
    return jsonResponse(200, json::Value(json::Object{{"valid", true}}));
  }

  Result<HttpResponse> versions(Context& c) {
    auto all = engine_->versions(c.path.at("name"));
    if (!all) return all.status();
    if (all->empty())
      return Status(ErrorCode::kNotFound, "no definition '" + c.path.at("name") + "'");
    json::Array out;
    for (const storage::DefinitionRecord& d : *all) out.push_back(definitionJson(d));
    return jsonResponse(200, json::objectOf("versions", std::move(out)));
  }

  Result<HttpResponse> definitionXml(Context& c) {
    const std::string& name = c.path.at("name");
    std::int32_t version = 0;
    const std::string& v = c.path.at("version");
    if (v != "latest") {
      if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), ::isdigit)) {
        return Status(ErrorCode::kInvalidArgument, "a version is a number or 'latest'");
      }
      version = std::stoi(v);
    }
    auto d = inTransaction<std::optional<storage::DefinitionRecord>>(
        *store_, storage::TxMode::kRead,
        [&](storage::Transaction& tx) -> Result<std::optional<storage::DefinitionRecord>> {
          auto found = tx.definition(name, version);
          if (!found || !found->has_value()) return found;
          return tx.definitionById((*found)->id);  // with its XML
        });
    if (!d) return d.status();
    if (!d->has_value() || version < 0) {
      return Status(ErrorCode::kNotFound, "no definition '" + name + "' version " + v);
    }
    HttpResponse r;
    r.content_type = "application/scxml+xml";
    r.body = (*d)->xml;
    r.headers.emplace_back("X-Definition-Version", std::to_string((*d)->version));
    r.headers.emplace_back("X-Definition-Sha256", (*d)->sha256);
    return r;
  }

  // ---- handlers: instances ----

  Result<HttpResponse> startInstance(Context& c) {
    auto body = jsonBody(c);
    if (!body) return body.status();
    Fields f(*body, {"definition", "version", "business_key", "data", "id"});
    runtime::StartRequest r;
    r.definition = f.text("definition", true);
    r.version = static_cast<std::int32_t>(f.integer("version"));
    r.business_key = f.text("business_key", true);
    r.data = f.object("data");
    r.instance_id = f.text("id");
    if (!f.status()) return f.status();
    r.actor = c.actor();
    r.idempotency_key = c.idempotencyKey();
    auto v = engine_->start(r);
    if (!v) return v.status();
    return jsonResponse(201, v->toJson());
  }

  // Expedientes by business key (prefix), process, lifecycle, state, unit, creation dates
  // and participant, newest first, a page at a time; who sees which is the engine's rule.
  Result<HttpResponse> searchInstances(Context& c) {
    runtime::InstanceSearch s;
    s.user = c.actor();
    for (const auto& [name, into] :
         {std::pair<const char*, std::string*>{"definition", &s.query.definition},
          {"business_key", &s.query.business_key},
          {"lifecycle", &s.query.lifecycle},
          {"state", &s.query.state},
          {"unit", &s.query.unit},
          {"from", &s.from},
          {"to", &s.to},
          {"participant", &s.participant},
          {"cursor", &s.cursor}}) {
      if (const std::string* v = c.req.param(name)) *into = *v;
    }
    if (const std::string* limit = c.req.param("limit")) {
      if (limit->empty() || limit->size() > 3 ||
          !std::all_of(limit->begin(), limit->end(), ::isdigit)) {
        return Status(ErrorCode::kInvalidArgument, "limit is a number from 1 to 500");
      }
      s.query.limit = std::stoi(*limit);
    }
    auto page = engine_->searchInstances(s);
    if (!page) return page.status();
    json::Array out;
    for (const storage::InstanceSummary& i : page->instances) {
      json::Array states;
      std::istringstream words(i.states);
      for (std::string w; words >> w;) states.emplace_back(w);
      out.emplace_back(json::Object{{"id", i.id},
                                    {"definition", i.definition},
                                    {"version", static_cast<std::int64_t>(i.version)},
                                    {"business_key", i.business_key},
                                    {"lifecycle", i.lifecycle},
                                    {"configuration", json::Value(std::move(states))},
                                    {"unit", i.unit},
                                    {"created_at", i.created_at},
                                    {"updated_at", i.updated_at}});
    }
    return jsonResponse(
        200, json::objectOf("instances", std::move(out), "next_cursor", page->next_cursor));
  }

  Result<HttpResponse> getInstance(Context& c) {
    const std::string& id = c.path.at("id");
    auto v = engine_->get(id);
    if (!v) return v.status();
    if (Status st = mayReadInstance(c.who, id); !st) return st;
    return jsonResponse(200, v->toJson());
  }

  Result<HttpResponse> sendEvent(Context& c) {
    auto body = jsonBody(c);
    if (!body) return body.status();
    Fields f(*body, {"name", "data", "reason"});
    const std::string name = f.text("name", true);
    json::Value data = f.object("data");
    const std::string reason = f.text("reason");
    if (!f.status()) return f.status();
    return deliver(c, scxml::Event::external(name, std::move(data)), reason);
  }

  // SCXML's BasicHTTP Event I/O Processor: a POST (form fields, _scxmleventname) becomes an
  // external event of the instance.
  Result<HttpResponse> basicHttp(Context& c) { return deliver(c, decodeBasicHttp(c.req), {}); }

  // Delivers an event from a caller who may read the instance (admins: any); whether the
  // caller may send that event is the engine's decision (Engine::send).
  Result<HttpResponse> deliver(Context& c, scxml::Event event, const std::string& reason) {
    const std::string& id = c.path.at("id");
    const std::string& name = event.name;
    if (name.empty() || name.size() > 200) {
      return Status(ErrorCode::kInvalidArgument, "an event name has 1 to 200 characters");
    }
    if (reason.size() > 2000) {
      return Status(ErrorCode::kInvalidArgument, "a reason has at most 2000 characters");
    }
    if (!c.who.admin()) {
      if (Status st = mayReadInstance(c.who, id); !st) return st;
    }
    auto v = engine_->send(id, event, c.actor(), c.idempotencyKey(), reason);
    if (!v) return v.status();
    return jsonResponse(200, v->toJson());
  }

  Result<HttpResponse> lifecycle(Context& c) {
    const std::string& id = c.path.at("id");
    const std::string op = c.op;
    const std::string& key = c.idempotencyKey();
    Result<runtime::InstanceView> v = op == "suspend"  ? engine_->suspend(id, c.actor(), key)
                                      : op == "resume" ? engine_->resume(id, c.actor(), key)
                                                       : engine_->terminate(id, c.actor(), key);
    if (!v) return v.status();
    return jsonResponse(200, v->toJson());
  }

  Result<HttpResponse> migrate(Context& c) {
    auto body = jsonBody(c);
    if (!body) return body.status();
    Fields f(*body, {"to_version", "mapping"});
    const std::int64_t to = f.integer("to_version", true);
    json::Value mapping = f.object("mapping");
    if (!f.status()) return f.status();
    std::map<std::string, std::string> states;
    if (mapping.isObject()) {
      for (const auto& [from, target] : mapping.asObject()) {
        if (!target.isString()) {
          return Status(ErrorCode::kInvalidArgument, "mapping values are state ids (strings)");
        }
        states[from] = target.asString();
      }
    }
    if (to < 1 || to > 1'000'000) return Status(ErrorCode::kInvalidArgument, "to_version is >= 1");
    auto v = engine_->migrate(c.path.at("id"), static_cast<std::int32_t>(to), states, c.actor(),
                              c.idempotencyKey());
    if (!v) return v.status();
    return jsonResponse(200, v->toJson());
  }

  Result<HttpResponse> history(Context& c) {
    const std::string& id = c.path.at("id");
    if (Status st = mayReadInstance(c.who, id); !st) return st;
    auto rows = engine_->history(id);
    if (!rows) return rows.status();
    json::Array out;
    for (const storage::HistoryRecord& h : *rows) out.push_back(runtime::historyRowJson(h));
    return jsonResponse(200, json::objectOf("instance_id", id, "history", std::move(out)));
  }

  Result<HttpResponse> instanceTasks(Context& c) {
    const std::string& id = c.path.at("id");
    if (Status st = mayReadInstance(c.who, id); !st) return st;
    auto tasks = engine_->tasksOf(id);
    if (!tasks) return tasks.status();
    json::Array out;
    for (runtime::TaskView& t : *tasks) out.push_back(std::move(t).toJson());
    return jsonResponse(200, json::objectOf("tasks", std::move(out)));
  }

  // ---- handlers: documents, signatures, bundles ----

  // The document, after checking the caller may read its instance.
  Result<runtime::DocumentView> readableDocument(const Context& c) {
    auto doc = engine_->document(c.path.at("id"));
    if (!doc) return doc.status();
    if (Status st = mayReadInstance(c.who, doc->document.instance_id); !st) return st;
    return doc;
  }

  static HttpResponse bytesResponse(std::string bytes, std::string type,
                                    const std::string& filename, const std::string& etag) {
    HttpResponse r;
    r.content_type = std::move(type);
    r.body = std::move(bytes);
    std::string quoted;  // printable ASCII without quotes or backslashes: a safe header value
    for (char ch : filename)
      quoted += (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') ? ch : '_';
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + quoted + "\"");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Content-Security-Policy", "sandbox");
    if (!etag.empty()) r.headers.emplace_back("ETag", "\"" + etag + "\"");
    return r;
  }

  Result<HttpResponse> listDocuments(Context& c) {
    const std::string& id = c.path.at("id");
    if (Status st = mayReadInstance(c.who, id); !st) return st;
    auto docs = engine_->documents(id);
    if (!docs) return docs.status();
    json::Array out;
    for (const runtime::DocumentView& d : *docs) out.push_back(d.toJson());
    return jsonResponse(200, json::objectOf("documents", std::move(out)));
  }

  Result<HttpResponse> uploadDocument(Context& c) {
    const std::string& id = c.path.at("id");
    if (Status st = mayReadInstance(c.who, id); !st) return st;
    runtime::DocumentUpload upload;
    upload.instance_id = id;
    upload.name = c.path.at("name");
    upload.content_type = c.req.header("content-type");
    if (const std::string* task = c.req.param("task")) upload.task_id = *task;
    if (const std::string* filename = c.req.param("filename")) upload.filename = *filename;
    upload.bytes = c.req.body;
    upload.actor = c.actor();
    auto doc = engine_->attachDocument(upload);
    if (!doc) return doc.status();
    HttpResponse r = jsonResponse(201, doc->toJson());
    r.headers.emplace_back("Location", "/api/v1/documents/" + doc->document.id);
    return r;
  }

  Result<HttpResponse> getDocument(Context& c) {
    auto doc = readableDocument(c);
    if (!doc) return doc.status();
    return jsonResponse(200, doc->toJson());
  }

  Result<HttpResponse> documentContent(Context& c) {
    auto doc = readableDocument(c);
    if (!doc) return doc.status();
    auto bytes = engine_->blob(doc->document.sha256);
    if (!bytes) return bytes.status();
    const storage::DocumentRecord& d = doc->document;
    return bytesResponse(std::move(bytes).value(), d.content_type,
                         d.filename.empty() ? d.name : d.filename, d.sha256);
  }

  // A signer need not take part in the expediente (a lawyer handed the acta signs it where
  // she is): the engine records a signature only from the user its certificate names.
  Result<HttpResponse> addSignature(Context& c) {
    const std::string type = c.req.header("content-type");
    if (type.rfind("application/pkcs7-signature", 0) != 0 &&
        type.rfind("application/octet-stream", 0) != 0) {
      return Status(ErrorCode::kUnsupportedMedia,
                    "this call takes a detached CMS signature in DER "
                    "(Content-Type: application/pkcs7-signature)");
    }
    auto sig = engine_->addSignature(c.path.at("id"), c.req.body, c.actor());
    if (!sig) return sig.status();
    return jsonResponse(201, runtime::signatureJson(*sig));
  }

  Result<HttpResponse> signatureContent(Context& c) {
    auto doc = readableDocument(c);
    if (!doc) return doc.status();
    for (const storage::SignatureRecord& s : doc->signatures) {
      if (s.id != c.path.at("signature")) continue;
      auto bytes = engine_->blob(s.p7s_sha256);
      if (!bytes) return bytes.status();
      return bytesResponse(std::move(bytes).value(), "application/pkcs7-signature",
                           doc->document.name + "-" + s.signer + ".p7s", s.p7s_sha256);
    }
    return Status(ErrorCode::kNotFound, "document '" + doc->document.id + "' has no signature '" +
                                            c.path.at("signature") + "'");
  }

  // The key checkpoints are signed with, for auditors to verify and witness them with; the
  // fingerprint is what they compare out of band.
  Result<HttpResponse> ledgerKey(Context&) {
    const audit::Signer* signer = options_.ledger_signer.get();
    if (!signer) return Status(ErrorCode::kNotFound, "this server signs no checkpoints");
    return jsonResponse(200, json::Value(json::Object{{"algorithm", "Ed25519"},
                                                      {"key_id", signer->keyId()},
                                                      {"fingerprint_sha256", signer->fingerprint()},
                                                      {"public_key_pem", signer->publicKeyPem()}}));
  }

  Result<HttpResponse> bundle(Context& c) {
    const std::string& id = c.path.at("id");
    if (Status st = mayReadInstance(c.who, id); !st) return st;
    const audit::Signer* signer = options_.ledger_signer.get();
    auto zip = audit::exportBundle(*engine_, *store_, id, signer,
                                   signer ? signer->publicKeyPem() : std::string(), clock_.nowMs(),
                                   options_.checkpoint_stamp);
    if (!zip) return zip.status();
    return bytesResponse(std::move(zip).value(), "application/zip", "expediente-" + id + ".zip",
                         "");
  }

  // ---- handlers: the audit ledger ----

  Result<HttpResponse> latestCheckpoint(Context&) {
    auto cp = inTransaction<std::optional<audit::Checkpoint>>(
        *store_, storage::TxMode::kRead,
        [](storage::Transaction& tx) { return tx.latestCheckpoint(); });
    if (!cp) return cp.status();
    if (!cp->has_value()) return Status(ErrorCode::kNotFound, "no checkpoint has been signed yet");
    const audit::Checkpoint& k = **cp;
    json::Value out = audit::checkpointJson(k);
    out.set("signed_text", audit::signedText(k));
    return jsonResponse(200, out);
  }

  Result<HttpResponse> inclusionProof(Context& c) {
    auto index = intParam(c, "index", 0, 999'999'999, -1);
    if (!index) return index.status();
    if (*index < 0) return Status(ErrorCode::kInvalidArgument, "give the entry's index");
    auto size = intParam(c, "size", 0, 999'999'999, 0);
    if (!size) return size.status();
    auto proof = inTransaction<audit::InclusionProof>(
        *store_, storage::TxMode::kRead, [&](storage::Transaction& tx) {
          return audit::proveInclusion(tx, static_cast<std::uint64_t>(*index),
                                       static_cast<std::uint64_t>(*size));
        });
    if (!proof) return proof.status();
    return jsonResponse(200,
                        json::Value(json::Object{{"index", static_cast<std::int64_t>(proof->index)},
                                                 {"size", static_cast<std::int64_t>(proof->size)},
                                                 {"leaf_hash", audit::toHex(proof->leaf)},
                                                 {"root", audit::toHex(proof->root)},
                                                 {"path", audit::hashesJson(proof->path)}}));
  }

  Result<HttpResponse> consistencyProof(Context& c) {
    auto first = intParam(c, "first", 1, 999'999'999, 0);
    if (!first) return first.status();
    auto second = intParam(c, "second", 1, 999'999'999, 0);
    if (!second) return second.status();
    auto proof = inTransaction<std::vector<audit::Hash>>(
        *store_, storage::TxMode::kRead, [&](storage::Transaction& tx) {
          return audit::proveConsistency(tx, static_cast<std::uint64_t>(*first),
                                         static_cast<std::uint64_t>(*second));
        });
    if (!proof) return proof.status();
    return jsonResponse(
        200, json::Value(json::Object{
                 {"first", *first}, {"second", *second}, {"path", audit::hashesJson(*proof)}}));
  }

  // ---- handlers: tasks ----

  static Result<std::int64_t> intParam(const Context& c, const char* name, std::int64_t lo,
                                       std::int64_t hi, std::int64_t fallback) {
    const std::string* v = c.req.param(name);
    if (!v) return fallback;
    std::int64_t n = 0;
    bool ok = !v->empty() && v->size() <= 9 && std::all_of(v->begin(), v->end(), ::isdigit);
    if (ok) n = std::stoll(*v);
    if (!ok || n < lo || n > hi) {
      return Status(ErrorCode::kInvalidArgument, std::string("query parameter '") + name +
                                                     "' is a number from " + std::to_string(lo) +
                                                     " to " + std::to_string(hi));
    }
    return n;
  }

  // filter=FIELD OP VALUE, e.g. monto>=500000 or metodo="LP" (a value that is not JSON is a
  // string).
  static Result<storage::TaskFilter> parseFilter(const std::string& text) {
    static const char* const kOps[] = {">=", "<=", "!=", "=", "<", ">"};
    for (std::size_t i = 0; i < text.size(); ++i) {
      for (const char* op : kOps) {
        const std::size_t n = std::char_traits<char>::length(op);
        if (text.compare(i, n, op) != 0) continue;
        storage::TaskFilter f;
        f.field = text.substr(0, i);
        f.op = op;
        std::string value = text.substr(i + n);
        f.value = json::parse(value) ? value : json::dump(json::Value(value));
        return f;
      }
    }
    return Status(ErrorCode::kInvalidArgument,
                  "a filter is FIELD OP VALUE with OP one of = != < <= > >=, not '" + text + "'");
  }

  Result<HttpResponse> queue(Context& c) {
    runtime::QueueRequest r;
    r.user = c.actor();
    if (const std::string* user = c.req.param("user"); user && *user != c.actor()) {
      if (!c.who.monitor()) {
        return Status(ErrorCode::kPermissionDenied,
                      c.actor() + " may not read the queue of " + *user);
      }
      r.user = *user;
    }
    const std::string* view = c.req.param("view");
    const std::string v = view ? *view : "personal";
    if (v == "personal") {
      r.view = runtime::QueueView::kPersonal;
    } else if (v == "group") {
      r.view = runtime::QueueView::kGroup;
    } else if (v == "all") {
      if (!c.who.monitor()) {
        return Status(ErrorCode::kPermissionDenied,
                      c.actor() +
                          " may not read every task (admin, auditor or "
                          "oficial_cumplimiento only)");
      }
      r.view = runtime::QueueView::kAll;
    } else {
      return Status(ErrorCode::kInvalidArgument, "view is personal, group or all");
    }
    const std::string* overdue = c.req.param("overdue");
    r.overdue = overdue && (*overdue == "true" || *overdue == "1");
    auto within = intParam(c, "due_within_days", 0, 365, 0);
    auto limit = intParam(c, "limit", 1, 500, 50);
    if (!within) return within.status();
    if (!limit) return limit.status();
    r.due_within_days = static_cast<int>(*within);
    r.limit = static_cast<int>(*limit);
    if (const std::string* d = c.req.param("definition")) r.definition = *d;
    if (const std::string* s = c.req.param("sort")) {
      if (*s == "priority") {
        r.sort = storage::TaskSort::kPriority;
      } else if (*s != "due") {
        return Status(ErrorCode::kInvalidArgument, "sort is due or priority");
      }
    }
    if (const std::string* cursor = c.req.param("cursor")) r.cursor = *cursor;
    for (const auto& [k, value] : c.req.query) {
      if (k == "filter") {
        auto f = parseFilter(value);
        if (!f) return f.status();
        r.filters.push_back(std::move(f).value());
      } else if (k != "user" && k != "view" && k != "overdue" && k != "due_within_days" &&
                 k != "limit" && k != "definition" && k != "sort" && k != "cursor") {
        return Status(ErrorCode::kInvalidArgument, "unknown query parameter '" + k + "'");
      }
    }
    auto page = engine_->queue(r);
    if (!page) return page.status();
    json::Array tasks;
    for (runtime::TaskView& t : page->tasks) tasks.push_back(std::move(t).toJson());
    return jsonResponse(
        200, json::objectOf("tasks", std::move(tasks), "next_cursor", page->next_cursor));
  }

  Result<HttpResponse> getTask(Context& c) {
    auto t = engine_->task(c.path.at("id"));
    if (!t) return t.status();
    if (!c.who.monitor()) {
      auto mine = principalsOf(c.who);
      if (!mine) return mine.status();
      if (!runtime::reaches(*mine, *t)) {
        if (Status st = mayReadInstanceAs(c.who, *mine, t->instance_id); !st) return st;
      }
    }
    return jsonResponse(200, std::move(*t).toJson());
  }

  Result<HttpResponse> taskOp(Context& c) {
    auto op = runtime::parseTaskOp(c.op);
    if (!op) return op.status();
    auto body = jsonBody(c, false);
    if (!body) return body.status();
    Fields f(*body, {"expected_version", "to_user", "to", "decision", "comment", "form", "reason"});
    runtime::TaskAction a;
    a.op = *op;
    a.actor = c.actor();
    a.expected_version = f.integer("expected_version");
    a.to_user = f.text("to_user");
    a.to = f.texts("to");
    a.decision = f.text("decision");
    a.comment = f.text("comment");
    a.form = f.object("form");
    a.reason = f.text("reason");
    if (!f.status()) return f.status();
    a.idempotency_key = c.idempotencyKey();
    auto t = engine_->actOnTask(c.path.at("id"), a);
    if (!t) return t.status();
    return jsonResponse(200, std::move(*t).toJson());
  }

  std::shared_ptr<runtime::Engine> engine_;
  std::shared_ptr<storage::Store> store_;
  const Clock& clock_;
  ApiOptions options_;
  Auth auth_;
  Metrics metrics_;
};

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
