// The API's handlers: tasks.
#include "api_impl.h"

namespace tramite::api {

Result<std::int64_t> Api::Impl::intParam(const Context& c, const char* name, std::int64_t lo,
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
Result<storage::TaskFilter> Api::Impl::parseFilter(const std::string& text) {
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

Result<HttpResponse> Api::Impl::queue(Context& c) {
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
      return Status(ErrorCode::kPermissionDenied, c.actor() +
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
  return jsonResponse(200,
                      json::objectOf("tasks", std::move(tasks), "next_cursor", page->next_cursor));
}

Result<HttpResponse> Api::Impl::getTask(Context& c) {
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

Result<HttpResponse> Api::Impl::taskOp(Context& c) {
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

// The routes of this resource (see Route in api_impl.h).
std::vector<Api::Impl::Route> Api::Impl::taskRoutes() {
  using I = Impl;
  // The WS-HumanTask operations: one route each, all with the same body and answer.
  auto operation = [](const char* id, const char* path, const char* op, const char* summary) {
    return Route(id, "POST", path, Access::kWriter, &I::taskOp, op)
        .summary(summary)
        .idempotent()
        .mayTake("TaskAction")
        .returns(200, "Task", "the task after the operation")
        .fails({409});
  };
  return {
      Route("listTasks", "GET", "/api/v1/tasks", Access::kUser, &I::queue)
          .summary("A page of a work queue")
          .query(
              "view",
              "personal: reserved or offered to the user; group: the user's roles and unit; all: "
              "every open task (monitors)",
              R"({"type": "string", "enum": ["personal", "group", "all"], "default": "personal"})")
          .query("user", "another user's queue (monitors)")
          .query("overdue", "only tasks past their due date", R"({"type": "boolean"})")
          .query("due_within_days", "only tasks due within that many business days",
                 R"({"type": "integer", "minimum": 0, "maximum": 365})")
          .query("definition", "only tasks of this definition")
          .query("filter", "FIELD OP VALUE on business data, e.g. monto>=500000 or metodo=\"LP\"",
                 R"({"type": "array", "items": {"type": "string"}})")
          .query("sort", "order",
                 R"({"type": "string", "enum": ["due", "priority"], "default": "due"})")
          .query("limit", "page size",
                 R"({"type": "integer", "minimum": 1, "maximum": 500, "default": 50})")
          .query("cursor", "next_cursor of the previous page")
          .returns(200, "QueuePage", "tasks and the cursor of the next page")
          .fails({400, 403, 404}),
      Route("getTask", "GET", "/api/v1/tasks/{id}", Access::kUser, &I::getTask)
          .summary("A task")
          .returns(200, "Task", "the task")
          .fails({403}),
      operation("claimTask", "/api/v1/tasks/{id}/claim", "claim", "Claim a task (WS-HumanTask)"),
      operation("releaseTask", "/api/v1/tasks/{id}/release", "release",
                "Release a task (WS-HumanTask)"),
      operation("startTask", "/api/v1/tasks/{id}/start", "start", "Start a task (WS-HumanTask)"),
      operation("stopTask", "/api/v1/tasks/{id}/stop", "stop", "Stop a task (WS-HumanTask)"),
      operation("delegateTask", "/api/v1/tasks/{id}/delegate", "delegate",
                "Delegate a task (WS-HumanTask)"),
      operation("forwardTask", "/api/v1/tasks/{id}/forward", "forward",
                "Forward a task (WS-HumanTask)"),
      operation("suspendTask", "/api/v1/tasks/{id}/suspend", "suspend",
                "Suspend a task (WS-HumanTask)"),
      operation("resumeTask", "/api/v1/tasks/{id}/resume", "resume",
                "Resume a task (WS-HumanTask)"),
      operation("completeTask", "/api/v1/tasks/{id}/complete", "complete",
                "Complete a task (WS-HumanTask)"),
      operation("failTask", "/api/v1/tasks/{id}/fail", "fail", "Fail a task (WS-HumanTask)"),
      operation("skipTask", "/api/v1/tasks/{id}/skip", "skip", "Skip a task (WS-HumanTask)"),
  };
}

}  // namespace tramite::api
