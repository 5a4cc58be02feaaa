// The API's implementation, shared by api.cpp (the route table, requests, authentication and
// authorization) and handlers/*.cpp (one file per resource). Internal to this module.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <sstream>

#include "auth.h"
#include "metrics.h"
#include "openapi.h"
#include "tramite/api/api.h"
#include "tramite/api/basichttp.h"
#include "tramite/audit/json_forms.h"
#include "tramite/ledger/bundle.h"
#include "tramite/ledger/ledger.h"
#include "tramite/runtime/directory.h"
#include "tramite/text.h"
#include "tramite/workers/notifications.h"

namespace tramite::api {

enum class Access {
  kPublic,   // no token
  kUser,     // any authenticated user
  kWriter,   // an authenticated user who may change things (not a pure auditor)
  kMonitor,  // admin, auditors, the compliance office
  kAdmin,
};

inline const char* accessName(Access a) {
  switch (a) {
    case Access::kPublic: return "public";
    case Access::kUser: return "user";
    case Access::kWriter: return "writer";
    case Access::kMonitor: return "monitor";
    case Access::kAdmin: return "admin";
  }
  return "admin";
}

// Schemas of bodies that are not JSON, for route declarations.
inline constexpr const char* kText = R"({"type": "string"})";
inline constexpr const char* kBinary = R"({"type": "string", "format": "binary"})";

inline HttpResponse jsonResponse(int status, const json::Value& body) {
  HttpResponse r;
  r.status = status;
  r.body = json::dump(body);
  return r;
}

inline json::Value strings(const std::vector<std::string>& v) {
  return json::Value(json::Array(v.begin(), v.end()));
}

// Reads the members of a JSON object body, refusing unknown members and wrong types.
class Fields {
 public:
  Fields(const json::Value& object, std::initializer_list<const char*> allowed) : v_(object) {
    for (const auto& member : v_.asObject()) {
      const std::string& key = member.first;
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

inline std::vector<std::string> splitPath(const std::string& path) {
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

inline bool printableAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// ---- the implementation ---------------------------------------------------------------------

class Api::Impl {
 public:
  Impl(std::shared_ptr<runtime::Engine> engine, std::shared_ptr<storage::Store> store,
       const Clock& clock, ApiOptions options)
      : engine_(std::move(engine)),
        store_(std::move(store)),
        clock_(clock),
        options_(std::move(options)),
        auth_(store_, clock_, options_),
        inbox_(*store_, clock_) {}

  struct Context {
    const HttpRequest& req;
    std::map<std::string, std::string> path;  // path parameters by name
    Principal who;                            // empty for public routes
    std::string op;                           // the route's operation (task ops, lifecycle)
    const std::string& actor() const { return who.user; }
    const std::string& idempotencyKey() const { return req.header("idempotency-key"); }
  };
  using Handler = Result<HttpResponse> (Impl::*)(Context&);

  // A route, declared once (in the handler file of its resource): what the dispatcher needs,
  // and what the OpenAPI document says of it (openapi.h). Declarations chain:
  //   Route("getTask", "GET", "/api/v1/tasks/{id}", Access::kUser, &I::getTask)
  //       .summary("A task").returns(200, "Task", "the task").fails({403})
  struct Route {
    Route(const char* operation_id, const char* http_method, const char* path_pattern,
          Access required, Handler handle, const char* operation = "")
        : method(http_method),
          path(path_pattern),
          access(required),
          handler(handle),
          op(operation) {
      doc.operation_id = operation_id;
    }
    Route& summary(std::string text, std::string description = "") {
      doc.summary = std::move(text);
      doc.description = std::move(description);
      return *this;
    }
    // A raw body up to max_upload_bytes (documents, signatures), not a JSON one.
    Route& upload() {
      is_upload = true;
      return *this;
    }
    Route& idempotent() {
      doc.idempotent = true;
      return *this;
    }
    Route& pathParam(std::string name, std::string schema, std::string description) {
      doc.path.push_back({std::move(name), std::move(schema), std::move(description), true});
      return *this;
    }
    Route& query(std::string name, std::string description, std::string schema = "",
                 bool required = false) {
      doc.query.push_back({std::move(name), std::move(schema), std::move(description), required});
      return *this;
    }
    // The body: a schema, and its media type when not JSON; takes() requires it.
    Route& takes(std::string schema, std::string content_type = "") {
      doc.request.push_back({std::move(schema), std::move(content_type), true});
      return *this;
    }
    Route& mayTake(std::string schema, std::string content_type = "") {
      doc.request.push_back({std::move(schema), std::move(content_type), false});
      return *this;
    }
    Route& returns(int status, std::string schema, std::string description,
                   std::string content_type = "") {
      doc.replies.push_back(
          {status, std::move(schema), std::move(description), std::move(content_type)});
      return *this;
    }
    // Error statuses beyond those the access (401, 403), the path parameters (404) and the
    // body (400, 413, 415) imply.
    Route& fails(std::initializer_list<int> statuses) {
      doc.errors.insert(doc.errors.end(), statuses.begin(), statuses.end());
      return *this;
    }

    const char* method;
    const char* path;
    Access access;
    Handler handler;
    const char* op;  // the handler's operation (task ops, lifecycle)
    bool is_upload = false;
    RouteDoc doc;
  };

  // The routes of each resource, in handlers/<resource>.cpp.
  static std::vector<Route> serviceRoutes();
  static std::vector<Route> authRoutes();
  static std::vector<Route> directoryRoutes();
  static std::vector<Route> definitionRoutes();
  static std::vector<Route> instanceRoutes();
  static std::vector<Route> taskRoutes();
  static std::vector<Route> documentRoutes();
  static std::vector<Route> auditRoutes();
  static std::vector<Route> notificationRoutes();

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
    const std::size_t limit =
        found->is_upload ? options_.max_upload_bytes : options_.max_body_bytes;
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

  Result<HttpResponse> healthz(Context&);
  Result<HttpResponse> readyz(Context&);
  Result<HttpResponse> metrics(Context&);
  Result<HttpResponse> openapi(Context&);

  // ---- handlers: authentication ----

  Result<HttpResponse> login(Context& c);
  Result<HttpResponse> me(Context& c);
  Result<HttpResponse> createToken(Context& c);
  Result<HttpResponse> listTokens(Context& c);
  Result<HttpResponse> revokeToken(Context& c);
  Result<HttpResponse> setPassword(Context& c);

  // An admin action in the history of "admin:<subject>".
  Status adminHistory(const std::string& subject, const std::string& actor, const std::string& kind,
                      const json::Value& detail);

  // ---- handlers: directory ----

  Result<HttpResponse> users(Context&);
  Result<HttpResponse> roles(Context&);
  Result<HttpResponse> putDirectory(Context& c);
  Result<HttpResponse> getDirectory(Context&);

  // Adds or changes one user (deactivate with "active": false).
  Result<HttpResponse> putUser(Context& c);

  // An invitation for a user to set their first password (the secret is shown once).
  Result<HttpResponse> invite(Context& c);
  Result<HttpResponse> acceptInvitation(Context& c);

  // ---- handlers: definitions ----

  static json::Value definitionJson(const storage::DefinitionRecord& d);
  Result<HttpResponse> deploy(Context& c);
  Result<HttpResponse> validate(Context& c);
  Result<HttpResponse> versions(Context& c);
  Result<HttpResponse> definitionXml(Context& c);

  // ---- handlers: instances ----

  Result<HttpResponse> startInstance(Context& c);

  // Expedientes by business key (prefix), process, lifecycle, state, unit, creation dates
  // and participant, newest first, a page at a time; who sees which is the engine's rule.
  Result<HttpResponse> searchInstances(Context& c);
  Result<HttpResponse> getInstance(Context& c);
  Result<HttpResponse> sendEvent(Context& c);

  // SCXML's BasicHTTP Event I/O Processor: a POST (form fields, _scxmleventname) becomes an
  // external event of the instance.
  Result<HttpResponse> basicHttp(Context& c);

  // Delivers an event from a caller who may read the instance (admins: any); whether the
  // caller may send that event is the engine's decision (Engine::send).
  Result<HttpResponse> deliver(Context& c, const scxml::Event& event, const std::string& reason);
  Result<HttpResponse> lifecycle(Context& c);
  Result<HttpResponse> migrate(Context& c);
  Result<HttpResponse> history(Context& c);
  Result<HttpResponse> instanceTasks(Context& c);

  // ---- handlers: documents, signatures, bundles ----

  // The document, after checking the caller may read its instance.
  Result<runtime::DocumentView> readableDocument(const Context& c);
  static HttpResponse bytesResponse(std::string bytes, std::string type,
                                    const std::string& filename, const std::string& etag);
  Result<HttpResponse> listDocuments(Context& c);
  Result<HttpResponse> uploadDocument(Context& c);
  Result<HttpResponse> getDocument(Context& c);
  Result<HttpResponse> documentContent(Context& c);

  // A signer need not take part in the expediente (a lawyer handed the acta signs it where
  // she is): the engine records a signature only from the user its certificate names.
  Result<HttpResponse> addSignature(Context& c);
  Result<HttpResponse> signatureContent(Context& c);

  // ---- handlers: the audit ledger and bundles ----

  // The key checkpoints are signed with, for auditors to verify and witness them with; the
  // fingerprint is what they compare out of band.
  Result<HttpResponse> ledgerKey(Context&);
  Result<HttpResponse> bundle(Context& c);

  Result<HttpResponse> latestCheckpoint(Context&);
  Result<HttpResponse> inclusionProof(Context& c);
  Result<HttpResponse> consistencyProof(Context& c);

  // ---- handlers: tasks ----

  static Result<std::int64_t> intParam(const Context& c, const char* name, std::int64_t lo,
                                       std::int64_t hi, std::int64_t fallback);

  // filter=FIELD OP VALUE, e.g. monto>=500000 or metodo="LP" (a value that is not JSON is a
  // string).
  static Result<storage::TaskFilter> parseFilter(const std::string& text);
  Result<HttpResponse> queue(Context& c);
  Result<HttpResponse> getTask(Context& c);
  Result<HttpResponse> taskOp(Context& c);

  // ---- handlers: notifications (the caller's own) ----

  Result<HttpResponse> notifications(Context& c);
  Result<HttpResponse> readNotification(Context& c);

  std::shared_ptr<runtime::Engine> engine_;
  std::shared_ptr<storage::Store> store_;
  const Clock& clock_;
  ApiOptions options_;
  Auth auth_;
  workers::NotificationInbox inbox_;
  Metrics metrics_;
};

}  // namespace tramite::api
