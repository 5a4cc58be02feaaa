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

}  // namespace tramite::api
