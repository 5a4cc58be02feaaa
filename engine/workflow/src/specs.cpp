#include "tramite/workflow/specs.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <variant>

namespace tramite::workflow {

namespace {

const std::string* attr(const scxml::XmlElement& e, const char* name) {
  return e.attribute(name);
}
std::string text(const scxml::XmlElement& e, const char* name, const std::string& fallback = {}) {
  const std::string* v = attr(e, name);
  return v ? *v : fallback;
}
std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string w; ss >> w;) out.push_back(w);
  return out;
}
bool isWorkflow(const scxml::XmlElement& e, const char* name) {
  return e.ns == kNamespace && e.name == name;
}

Candidates candidatesOf(const scxml::XmlElement& e) {
  return Candidates{words(text(e, "roles")), words(text(e, "units")), words(text(e, "users"))};
}

DeadlineSpec deadlineOf(const scxml::XmlElement& e) {
  DeadlineSpec d;
  if (const std::string* v = attr(e, "business-days")) {
    d.amount = std::stoi(*v);
  } else if (const std::string* c = attr(e, "calendar-days")) {
    d.unit = DeadlineSpec::Unit::kCalendarDays;
    d.amount = std::stoi(*c);
  } else if (const std::string* h = attr(e, "hours")) {
    d.unit = DeadlineSpec::Unit::kHours;
    d.amount = std::stoi(*h);
  }
  for (const scxml::XmlElement& b : e.children) {
    if (isWorkflow(b, "on-breach")) {
      d.breach.push_back(
          Breach{text(b, "raise"), text(b, "escalate-to"), words(text(b, "notify"))});
    }
  }
  return d;
}

FieldSpec fieldOf(const scxml::XmlElement& e) {
  FieldSpec f{text(e, "name"),        text(e, "type"), text(e, "label"), false, {},
              words(text(e, "roles"))};
  const std::string req = text(e, "required", "false");
  f.required = req == "true" || req == "1";
  for (const scxml::XmlElement& o : e.children) {
    if (isWorkflow(o, "option")) f.options.push_back(text(o, "value"));
  }
  return f;
}

TaskSpec specOf(const scxml::XmlElement& e) {
  TaskSpec t;
  t.kind = e.name;
  t.name = text(e, "name");
  t.title = text(e, "title");
  if (e.name == "task") {
    t.candidates = candidatesOf(e);
    t.priority = std::stoi(text(e, "priority", "5"));
    const std::string skippable = text(e, "skippable", "false");
    t.skippable = skippable == "true" || skippable == "1";
    t.assignee = text(e, "assignee");
    t.event = text(e, "event");
  } else {
    t.rule = text(e, "rule");
    t.n = std::stoi(text(e, "n", "0"));
    t.approved_event = text(e, "approved-event");
    t.rejected_event = text(e, "rejected-event");
    t.outcomes = {"approve", "reject"};
  }
  for (const scxml::XmlElement& c : e.children) {
    if (isWorkflow(c, "field")) {
      t.fields.push_back(fieldOf(c));
    } else if (isWorkflow(c, "outcome")) {
      t.outcomes.push_back(text(c, "name"));
    } else if (isWorkflow(c, "deadline")) {
      t.deadline = deadlineOf(c);
    } else if (isWorkflow(c, "approver")) {
      t.approvers.push_back(candidatesOf(c));
    } else if (isWorkflow(c, "exclude")) {
      t.excludes.push_back(Exclusion{text(c, "who"), text(c, "task")});
    }
  }
  return t;
}

json::Value candidatesJson(const Candidates& c) {
  return json::Value(json::Object{{"roles", stringsJson(c.roles)},
                                  {"units", stringsJson(c.units)},
                                  {"users", stringsJson(c.users)}});
}

Candidates candidatesFrom(const json::Value* v) {
  if (!v) return {};
  return Candidates{stringsFrom(v->find("roles")), stringsFrom(v->find("units")),
                    stringsFrom(v->find("users"))};
}

const char* unitName(DeadlineSpec::Unit u) {
  switch (u) {
    case DeadlineSpec::Unit::kBusinessDays: return "business_days";
    case DeadlineSpec::Unit::kCalendarDays: return "calendar_days";
    case DeadlineSpec::Unit::kHours: return "hours";
  }
  return "business_days";
}

std::int64_t integer(const json::Value& v, const char* key, std::int64_t fallback) {
  const json::Value* m = v.find(key);
  return m && m->isInt() ? m->asInt() : fallback;
}

}  // namespace

std::string stringMember(const json::Value& v, const char* key) {
  const json::Value* m = v.find(key);
  return m && m->isString() ? m->asString() : std::string();
}

json::Value stringsJson(const std::vector<std::string>& v) {
  json::Array a;
  for (const std::string& s : v) a.emplace_back(s);
  return json::Value(std::move(a));
}

std::vector<std::string> stringsFrom(const json::Value* v) {
  std::vector<std::string> out;
  if (v && v->isArray()) {
    for (const json::Value& s : v->asArray()) {
      if (s.isString()) out.push_back(s.asString());
    }
  }
  return out;
}

json::Value DeadlineSpec::toJson() const {
  json::Array breach_json;
  for (const Breach& b : breach) {
    breach_json.emplace_back(json::Object{
        {"raise", b.raise}, {"escalate_to", b.escalate_to}, {"notify", stringsJson(b.notify)}});
  }
  return json::Value(json::Object{{"unit", unitName(unit)},
                                  {"amount", static_cast<std::int64_t>(amount)},
                                  {"term", describe()},
                                  {"breach", json::Value(std::move(breach_json))}});
}

DeadlineSpec DeadlineSpec::fromJson(const json::Value& v) {
  DeadlineSpec d;
  const std::string u = stringMember(v, "unit");
  d.unit = u == "hours"           ? Unit::kHours
           : u == "calendar_days" ? Unit::kCalendarDays
                                  : Unit::kBusinessDays;
  d.amount = static_cast<int>(integer(v, "amount", 1));
  if (const json::Value* bs = v.find("breach"); bs && bs->isArray()) {
    for (const json::Value& b : bs->asArray()) {
      d.breach.push_back(Breach{stringMember(b, "raise"), stringMember(b, "escalate_to"),
                                stringsFrom(b.find("notify"))});
    }
  }
  return d;
}

std::vector<std::string> Candidates::principals() const {
  std::vector<std::string> out;
  for (const std::string& r : roles) out.push_back("role:" + r);
  for (const std::string& u : units) out.push_back("unit:" + u);
  for (const std::string& u : users) out.push_back("user:" + u);
  return out;
}

std::string DeadlineSpec::describe() const {
  const char* unit_text = unit == Unit::kBusinessDays   ? " business day"
                          : unit == Unit::kCalendarDays ? " calendar day"
                                                        : " hour";
  return std::to_string(amount) + unit_text + (amount == 1 ? "" : "s");
}

int TaskSpec::needed() const {
  if (rule == "any") return 1;
  if (rule == "n-of-m") return n;
  return static_cast<int>(approvers.size());
}

json::Value TaskSpec::toJson() const {
  json::Array fields_json;
  for (const FieldSpec& f : fields) {
    fields_json.emplace_back(json::Object{{"name", f.name},
                                          {"type", f.type},
                                          {"label", f.label},
                                          {"required", f.required},
                                          {"options", stringsJson(f.options)}});
    if (!f.roles.empty()) fields_json.back().set("roles", stringsJson(f.roles));
  }
  json::Value v(json::Object{{"kind", kind},
                             {"name", name},
                             {"title", title},
                             {"candidates", candidatesJson(candidates)},
                             {"priority", static_cast<std::int64_t>(priority)},
                             {"skippable", skippable},
                             {"fields", json::Value(std::move(fields_json))},
                             {"outcomes", stringsJson(outcomes)}});
  if (deadline) v.set("deadline", deadline->toJson());
  if (!assignee.empty()) v.set("assignee", assignee);
  if (!event.empty()) v.set("event", event);
  if (kind == "approval") {
    json::Array approvers_json;
    for (const Candidates& c : approvers) approvers_json.push_back(candidatesJson(c));
    json::Array excludes_json;
    for (const Exclusion& x : excludes) {
      excludes_json.emplace_back(json::Object{{"who", x.who}, {"task", x.task}});
    }
    v.set("rule", rule);
    v.set("n", static_cast<std::int64_t>(n));
    v.set("approvers", json::Value(std::move(approvers_json)));
    v.set("excludes", json::Value(std::move(excludes_json)));
    if (!approved_event.empty()) v.set("approved_event", approved_event);
    if (!rejected_event.empty()) v.set("rejected_event", rejected_event);
  }
  return v;
}

Result<TaskSpec> TaskSpec::fromJson(const json::Value& v) {
  if (!v.isObject() || stringMember(v, "name").empty()) {
    return Status(ErrorCode::kInternal, "a stored task spec is malformed");
  }
  TaskSpec t;
  t.kind = stringMember(v, "kind");
  t.name = stringMember(v, "name");
  t.title = stringMember(v, "title");
  t.candidates = candidatesFrom(v.find("candidates"));
  t.priority = static_cast<int>(integer(v, "priority", 5));
  const json::Value* skippable = v.find("skippable");
  t.skippable = skippable && skippable->isBool() && skippable->asBool();
  if (const json::Value* fs = v.find("fields"); fs && fs->isArray()) {
    for (const json::Value& f : fs->asArray()) {
      const json::Value* req = f.find("required");
      t.fields.push_back(FieldSpec{stringMember(f, "name"), stringMember(f, "type"),
                                   stringMember(f, "label"), req && req->isBool() && req->asBool(),
                                   stringsFrom(f.find("options")), stringsFrom(f.find("roles"))});
    }
  }
  t.outcomes = stringsFrom(v.find("outcomes"));
  if (const json::Value* d = v.find("deadline"); d && d->isObject()) {
    t.deadline = DeadlineSpec::fromJson(*d);
  }
  t.assignee = stringMember(v, "assignee");
  t.event = stringMember(v, "event");
  t.rule = stringMember(v, "rule");
  t.n = static_cast<int>(integer(v, "n", 0));
  if (const json::Value* as = v.find("approvers"); as && as->isArray()) {
    for (const json::Value& a : as->asArray()) t.approvers.push_back(candidatesFrom(&a));
  }
  if (const json::Value* xs = v.find("excludes"); xs && xs->isArray()) {
    for (const json::Value& x : xs->asArray()) {
      t.excludes.push_back(Exclusion{stringMember(x, "who"), stringMember(x, "task")});
    }
  }
  t.approved_event = stringMember(v, "approved_event");
  t.rejected_event = stringMember(v, "rejected_event");
  return t;
}

namespace {

RequirementSpec requirementOf(const scxml::XmlElement& e) {
  RequirementSpec r;
  if (const std::string* d = e.attribute("document")) r.document = *d;
  for (const scxml::XmlElement& c : e.children) {
    if (c.name != "signed-by") continue;
    SignedBySpec s;
    if (const std::string* roles = c.attribute("roles")) s.roles = words(*roles);
    if (const std::string* count = c.attribute("count"))
      s.count = std::max(1, std::atoi(count->c_str()));
    if (const std::string* rule = c.attribute("rule")) s.all = *rule == "all";
    r.signed_by.push_back(std::move(s));
  }
  return r;
}

}  // namespace

std::vector<RequirementSpec> transitionRequirements(const scxml::Transition& t) {
  std::vector<RequirementSpec> out;
  for (const scxml::Executable& ex : t.actions) {
    const auto* foreign = std::get_if<scxml::ForeignNode>(&ex.node);
    if (foreign && foreign->element.ns == kNamespace && foreign->element.name == "requires") {
      out.push_back(requirementOf(foreign->element));
    }
  }
  return out;
}

StateWork stateWork(const scxml::State& state) {
  StateWork w;
  for (const scxml::XmlElement& e : state.extensions) {
    if (e.ns != kNamespace) continue;
    if (e.name == "task" || e.name == "approval") {
      w.tasks.push_back(specOf(e));
    } else if (e.name == "deadline") {
      w.deadline = deadlineOf(e);
    } else if (e.name == "requires") {
      w.requirements.push_back(requirementOf(e));
    }
  }
  return w;
}

std::vector<RequirementSpec> stateRequirements(const scxml::State& state) {
  std::vector<RequirementSpec> out;
  for (const scxml::XmlElement& e : state.extensions) {
    if (isWorkflow(e, "requires")) out.push_back(requirementOf(e));
  }
  return out;
}

bool declaresTasks(const scxml::State& state) {
  return std::any_of(state.extensions.begin(), state.extensions.end(), [](const auto& e) {
    return isWorkflow(e, "task") || isWorkflow(e, "approval");
  });
}

bool declaresDeadline(const scxml::State& state) {
  return std::any_of(state.extensions.begin(), state.extensions.end(),
                     [](const auto& e) { return isWorkflow(e, "deadline"); });
}

std::vector<FieldSpec> startInputs(const scxml::Chart& chart) {
  std::vector<FieldSpec> out;
  for (const scxml::XmlElement& e : chart.states()[0].extensions) {
    if (isWorkflow(e, "input")) out.push_back(fieldOf(e));
  }
  return out;
}

bool chartHasWork(const scxml::Chart& chart) {
  for (const scxml::State& s : chart.states()) {
    for (const scxml::XmlElement& e : s.extensions) {
      if (e.ns == kNamespace) return true;
    }
  }
  return false;
}

Result<Due> dueOf(const DeadlineSpec& d, const calendar::BusinessCalendar& cal, TimePoint now) {
  if (d.unit == DeadlineSpec::Unit::kHours) {
    const TimePoint at = now + static_cast<TimePoint>(d.amount) * 3'600'000;
    return Due{at, cal.dateOf(at)};
  }
  auto date =
      cal.due(cal.dateOf(now), d.amount,
              d.unit == DeadlineSpec::Unit::kBusinessDays ? calendar::TermUnit::kBusinessDays
                                                          : calendar::TermUnit::kCalendarDays);
  if (!date) return date.status();
  return Due{cal.endOfDayMs(*date), *date};
}

}  // namespace tramite::workflow
