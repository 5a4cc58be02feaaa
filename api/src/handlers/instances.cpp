// The API's handlers: instances.
#include "api_impl.h"

namespace tramite::api {

Result<HttpResponse> Api::Impl::startInstance(Context& c) {
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
Result<HttpResponse> Api::Impl::searchInstances(Context& c) {
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

Result<HttpResponse> Api::Impl::getInstance(Context& c) {
  const std::string& id = c.path.at("id");
  auto v = engine_->get(id);
  if (!v) return v.status();
  if (Status st = mayReadInstance(c.who, id); !st) return st;
  return jsonResponse(200, v->toJson());
}

Result<HttpResponse> Api::Impl::sendEvent(Context& c) {
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
Result<HttpResponse> Api::Impl::basicHttp(Context& c) {
  return deliver(c, decodeBasicHttp(c.req), {});
}

// Delivers an event from a caller who may read the instance (admins: any); whether the
// caller may send that event is the engine's decision (Engine::send).
Result<HttpResponse> Api::Impl::deliver(Context& c, const scxml::Event& event,
                                        const std::string& reason) {
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

Result<HttpResponse> Api::Impl::lifecycle(Context& c) {
  const std::string& id = c.path.at("id");
  const std::string op = c.op;
  const std::string& key = c.idempotencyKey();
  Result<runtime::InstanceView> v = op == "suspend"  ? engine_->suspend(id, c.actor(), key)
                                    : op == "resume" ? engine_->resume(id, c.actor(), key)
                                                     : engine_->terminate(id, c.actor(), key);
  if (!v) return v.status();
  return jsonResponse(200, v->toJson());
}

Result<HttpResponse> Api::Impl::migrate(Context& c) {
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

Result<HttpResponse> Api::Impl::history(Context& c) {
  const std::string& id = c.path.at("id");
  if (Status st = mayReadInstance(c.who, id); !st) return st;
  auto rows = engine_->history(id);
  if (!rows) return rows.status();
  json::Array out;
  for (const storage::HistoryRecord& h : *rows) out.push_back(runtime::historyRowJson(h));
  return jsonResponse(200, json::objectOf("instance_id", id, "history", std::move(out)));
}

Result<HttpResponse> Api::Impl::instanceTasks(Context& c) {
  const std::string& id = c.path.at("id");
  if (Status st = mayReadInstance(c.who, id); !st) return st;
  auto tasks = engine_->tasksOf(id);
  if (!tasks) return tasks.status();
  json::Array out;
  for (runtime::TaskView& t : *tasks) out.push_back(std::move(t).toJson());
  return jsonResponse(200, json::objectOf("tasks", std::move(out)));
}

// The routes of this resource (see Route in api_impl.h).
std::vector<Api::Impl::Route> Api::Impl::instanceRoutes() {
  using I = Impl;
  return {
      Route("startInstance", "POST", "/api/v1/instances", Access::kWriter, &I::startInstance)
          .summary("Start an instance (an expediente)")
          .idempotent()
          .takes("Start")
          .returns(201, "Instance", "the started instance")
          .fails({404, 409}),
      Route("searchInstances", "GET", "/api/v1/instances", Access::kUser, &I::searchInstances)
          .summary("Search expedientes",
                   "Newest first, a page at a time. Administrators, auditors and the compliance "
                   "office search every case; everyone else the cases they (or whoever they stand "
                   "in for today) acted in or have an open task in.")
          .query("definition", "a process (definition name)")
          .query("business_key", "a prefix of the business key (expediente number)")
          .query("lifecycle", "running, suspended, completed, terminated or failed")
          .query("state", "an active state")
          .query("unit", "the requesting unit (a unit id)")
          .query("from", "created on or after this day (YYYY-MM-DD)",
                 R"({"type": "string", "format": "date"})")
          .query("to", "created on or before this day (YYYY-MM-DD)",
                 R"({"type": "string", "format": "date"})")
          .query("participant",
                 "only cases this user takes part in (for those who search every case)")
          .query("limit", "page size",
                 R"({"type": "integer", "minimum": 1, "maximum": 500, "default": 50})")
          .query("cursor", "next_cursor of the previous page")
          .returns(200, "InstanceSearchPage",
                   "the matching expedientes and the cursor of the next page")
          .fails({400, 403}),
      Route("getInstance", "GET", "/api/v1/instances/{id}", Access::kUser, &I::getInstance)
          .summary("An instance's state, configuration and data")
          .returns(200, "Instance", "the instance")
          .fails({403}),
      Route("sendEvent", "POST", "/api/v1/instances/{id}/events", Access::kWriter, &I::sendEvent)
          .summary("Send an event to an instance")
          .idempotent()
          .takes("Event")
          .returns(200, "Instance", "the instance after the macrostep")
          .fails({409}),
      Route("postBasicHttp", "POST", "/api/v1/basichttp/{id}", Access::kWriter, &I::basicHttp)
          .summary("Deliver an event to an instance through SCXML's BasicHTTP Event I/O Processor",
                   "Instances see this URL as _ioprocessors.basichttp.location. The form field (or "
                   "header) _scxmleventname names the event (else HTTP.POST); the other form "
                   "fields are _event.data and the request is _event.raw. Admins may post to any "
                   "instance, others to instances they take part in.")
          .idempotent()
          .mayTake("BasicHttpForm", "application/x-www-form-urlencoded")
          .returns(200, "Instance", "the instance after the macrostep")
          .fails({400, 409}),
      Route("suspendInstance", "POST", "/api/v1/instances/{id}/suspend", Access::kAdmin,
            &I::lifecycle, "suspend")
          .summary("Suspend an instance")
          .returns(200, "Instance", "the instance")
          .fails({409}),
      Route("resumeInstance", "POST", "/api/v1/instances/{id}/resume", Access::kAdmin,
            &I::lifecycle, "resume")
          .summary("Resume an instance")
          .returns(200, "Instance", "the instance")
          .fails({409}),
      Route("terminateInstance", "POST", "/api/v1/instances/{id}/terminate", Access::kAdmin,
            &I::lifecycle, "terminate")
          .summary("Terminate an instance")
          .returns(200, "Instance", "the instance")
          .fails({409}),
      Route("migrateInstance", "POST", "/api/v1/instances/{id}/migrate", Access::kAdmin,
            &I::migrate)
          .summary("Move an instance to another version of its definition")
          .takes("Migration")
          .returns(200, "Instance", "the migrated instance")
          .fails({409}),
      Route("instanceHistory", "GET", "/api/v1/instances/{id}/history", Access::kUser, &I::history)
          .summary("An instance's history, in order")
          .returns(200, "History", "history rows")
          .fails({403}),
      Route("listInstanceTasks", "GET", "/api/v1/instances/{id}/tasks", Access::kUser,
            &I::instanceTasks)
          .summary("An instance's tasks")
          .returns(200, "TaskList", "tasks, oldest first")
          .fails({403}),
  };
}

}  // namespace tramite::api
