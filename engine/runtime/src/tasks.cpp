// Human tasks: created and closed by the states of a running instance (Step), operated on
// by people (Engine::actOnTask through TaskOperation), listed in queues (Engine::queue).
#include <algorithm>
#include <tuple>

#include "engine_internal.h"
#include "form_check.h"
#include "tramite/runtime/directory.h"
#include "tramite/text.h"

namespace tramite::runtime {

using namespace internal;
using storage::TaskRecord;

namespace {

constexpr const char* kAdminRole = "admin";

std::string deadlineSendId(const std::string& key) {
  return "tramite.deadline." + key;
}

// What queues show and filter on: the instance's top-level scalar variables.
json::Value businessData(const json::Value& snapshot) {
  json::Object out;
  if (snapshot.isObject()) {
    for (const auto& [k, v] : snapshot.asObject()) {
      if (k.empty() || k[0] == '_') continue;
      if (v.isNumber() || v.isBool() || (v.isString() && v.asString().size() <= 256)) {
        out.emplace_back(k, v);
      }
    }
  }
  return json::Value(std::move(out));
}

json::Value parsedOr(const std::string& text) {
  auto v = json::parse(text);
  return v ? *v : json::Value(json::Object{});
}

TaskState taskStateOf(const TaskRecord& t) {
  auto s = parseTaskState(t.status);
  return s ? *s : TaskState::kError;
}

// The deadline timer of a task: one per task, or one per approval (its first slot's id).
std::string timerKey(const TaskRecord& t, const json::Value& spec) {
  const std::string group = stringMember(spec, "group");
  return "task." + (group.empty() ? t.id : group);
}

void addUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// Who sees the task now: potential owners while it is offered, the actual owner (and whoever
// delegated it) while it is taken, plus the roles a breached deadline escalated it to.
void refreshVisibility(TaskRecord& t, const json::Value& spec) {
  const TaskState s = taskStateOf(t);
  t.open = !isTaskFinal(s);
  t.principals.clear();
  if (!t.open) return;
  const bool offered =
      s == TaskState::kReady || s == TaskState::kSuspendedReady || s == TaskState::kCreated;
  if (offered) {
    t.principals = stringsFrom(spec.find("potential"));
  } else {
    t.principals.push_back("owner:" + t.owner);
    const std::string by = stringMember(spec, "delegated_by");
    if (!by.empty() && by != t.owner) addUnique(t.principals, "user:" + by);
  }
  for (const std::string& role : stringsFrom(spec.find("escalated_to"))) {
    addUnique(t.principals, "role:" + role);
  }
}

// The user id names, then the users they stand in for on day (substitutions in force);
// empty when the directory has no such user.
Result<std::vector<storage::UserRecord>> actingAs(storage::Transaction& tx, const std::string& id,
                                                  std::int64_t day) {
  std::vector<storage::UserRecord> people;
  auto me = tx.user(id);
  if (!me) return me.status();
  if (!me->has_value()) return people;
  people.push_back(**me);
  auto subs = tx.standingInFor(id, day);
  if (!subs) return subs.status();
  for (const storage::SubstitutionRecord& s : *subs) {
    auto absent = tx.user(s.user);
    if (!absent) return absent.status();
    if (absent->has_value()) people.push_back(**absent);
  }
  return people;
}

// The principals people (as actingAs gives them) answer to, sorted, without repeats:
// "owner:" and "user:" (their own tasks: personal), "unit:" and "role:" (their units' and
// roles' queues: group).
std::vector<std::string> principalsOfPeople(const std::vector<storage::UserRecord>& people,
                                            bool personal, bool group) {
  std::vector<std::string> out;
  for (const storage::UserRecord& u : people) {
    if (personal) {
      out.push_back("owner:" + u.id);
      out.push_back("user:" + u.id);
    }
    if (group) {
      out.push_back("unit:" + u.unit);
      for (const std::string& role : u.roles) out.push_back("role:" + role);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool validPrincipal(const std::string& p) {
  for (const char* prefix : {"user:", "role:", "unit:"}) {
    const std::string pre(prefix);
    if (p.rfind(pre, 0) == 0) return isWorkflowName(p.substr(pre.size()));
  }
  return false;
}

}  // namespace

// ---- views ----------------------------------------------------------------------------------

json::Value TaskView::toJson() const& {
  return TaskView(*this).toJson();
}

json::Value TaskView::toJson() && {
  // Built member by member: an initializer list would copy every value once more.
  json::Object o;
  o.reserve(23);
  o.emplace_back("id", std::move(id));
  o.emplace_back("instance_id", std::move(instance_id));
  o.emplace_back("business_key", std::move(business_key));
  o.emplace_back("definition", std::move(definition));
  o.emplace_back("state", std::move(state));
  o.emplace_back("name", std::move(name));
  o.emplace_back("kind", std::move(kind));
  o.emplace_back("title", std::move(title));
  o.emplace_back("status", std::move(status));
  o.emplace_back("owner", std::move(owner));
  o.emplace_back("priority", static_cast<std::int64_t>(priority));
  o.emplace_back("due_at", due_at);
  o.emplace_back("due_date", std::move(due_date));
  o.emplace_back("overdue", overdue);
  o.emplace_back("principals", stringsJson(principals));
  o.emplace_back("spec", std::move(spec));
  o.emplace_back("data", std::move(data));
  o.emplace_back("result", std::move(result));
  o.emplace_back("row_version", row_version);
  o.emplace_back("created_at", created_at);
  o.emplace_back("updated_at", updated_at);
  o.emplace_back("may_act", may_not_act.empty());
  if (!may_not_act.empty()) o.emplace_back("may_not_act", std::move(may_not_act));
  return json::Value(std::move(o));
}

Result<TaskView> TaskView::fromJson(const json::Value& v) {
  TaskView out;
  bool ok = v.isObject();
  auto text = [&](const char* key, std::string& into) {
    const json::Value* m = v.find(key);
    if (m && m->isString()) {
      into = m->asString();
    } else {
      ok = false;
    }
  };
  auto integer = [&](const char* key, std::int64_t& into) {
    const json::Value* m = v.find(key);
    if (m && m->isInt()) {
      into = m->asInt();
    } else {
      ok = false;
    }
  };
  auto any = [&](const char* key, json::Value& into) {
    if (const json::Value* m = v.find(key)) into = *m;
  };
  for (auto [key, field] : {std::pair{"id", &out.id},
                            {"instance_id", &out.instance_id},
                            {"business_key", &out.business_key},
                            {"definition", &out.definition},
                            {"state", &out.state},
                            {"name", &out.name},
                            {"kind", &out.kind},
                            {"title", &out.title},
                            {"status", &out.status},
                            {"owner", &out.owner},
                            {"due_date", &out.due_date}}) {
    text(key, *field);
  }
  std::int64_t priority = 0;
  integer("priority", priority);
  out.priority = static_cast<std::int32_t>(priority);
  integer("due_at", out.due_at);
  integer("row_version", out.row_version);
  integer("created_at", out.created_at);
  integer("updated_at", out.updated_at);
  const json::Value* overdue = v.find("overdue");
  out.overdue = overdue && overdue->isBool() && overdue->asBool();
  out.principals = stringsFrom(v.find("principals"));
  any("spec", out.spec);
  any("data", out.data);
  any("result", out.result);
  if (const json::Value* m = v.find("may_not_act"); m && m->isString()) {
    out.may_not_act = m->asString();
  }
  if (!ok) return Status(ErrorCode::kInternal, "a stored task view is malformed");
  return out;
}

TaskView Engine::taskView(const TaskRecord& r) const {
  TaskView v;
  v.id = r.id;
  v.instance_id = r.instance_id;
  v.business_key = r.business_key;
  v.definition = r.definition;
  v.state = r.state;
  v.name = r.name;
  v.kind = r.kind;
  v.title = r.title;
  v.status = r.status;
  v.owner = r.owner;
  v.priority = r.priority;
  v.due_at = r.due_at;
  if (r.due_at > 0) {
    v.due_date = calendar_->dateOf(r.due_at).toString();
    v.overdue = r.open && clock_.nowMs() > r.due_at;
  }
  v.principals = r.principals;
  v.spec = parsedOr(r.spec);
  v.data = parsedOr(r.data);
  v.result = parsedOr(r.result);
  v.row_version = r.row_version;
  v.created_at = r.created_at;
  v.updated_at = r.updated_at;
  return v;
}

// ---- tasks as states enter and exit (Step) --------------------------------------------------

void Engine::Step::putTask(TaskRecord record, std::int64_t expected_version) {
  for (storage::TaskWrite& w : tasks_) {
    if (w.record.id == record.id) {
      w.record = std::move(record);  // the first write's expectation still holds
      return;
    }
  }
  tasks_.push_back(storage::TaskWrite{std::move(record), expected_version});
}

Result<std::vector<TaskRecord>> Engine::Step::tasksOf(const std::string& instance_id) {
  auto stored = tx_.tasksOf(instance_id);
  if (!stored) return stored.status();
  std::vector<TaskRecord> out = std::move(stored).value();
  for (const storage::TaskWrite& w : tasks_) {
    if (w.record.instance_id != instance_id) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const TaskRecord& t) { return t.id == w.record.id; });
    if (it != out.end()) {
      *it = w.record;
    } else {
      out.push_back(w.record);
    }
  }
  return out;
}

void Engine::Step::taskRow(const Loaded& inst, const TaskRecord& t, std::string_view op,
                           json::Value extra, const std::string& actor) {
  json::Value row(json::Object{
      {"task", t.id}, {"name", t.name}, {"op", std::string(op)}, {"status", t.status}});
  if (extra.isObject()) {
    for (auto& [k, v] : extra.asObject()) row.set(k, std::move(v));
  }
  record(inst, "task", std::move(row), actor);
}

Status Engine::Step::settleWork(Loaded& inst) {
  for (std::size_t i = 0; i < guarded_transitions_.size();) {
    if (guarded_transitions_[i].inst != &inst) {
      ++i;
      continue;
    }
    const scxml::Transition& t = inst.chart->transition(guarded_transitions_[i].transition);
    guarded_transitions_.erase(guarded_transitions_.begin() + static_cast<std::ptrdiff_t>(i));
    const std::vector<RequirementSpec> reqs = transitionRequirements(t);
    if (reqs.empty()) continue;
    const std::string what = "take the transition from '" + inst.chart->state(t.source).id +
                             "' (line " + std::to_string(t.line) + ")";
    if (Status st = checkRequirements(inst, reqs, what); !st) return st;
  }
  for (std::size_t i = 0; i < work_.size();) {
    if (work_[i].inst != &inst) {
      ++i;
      continue;
    }
    const Work w = work_[i];
    work_.erase(work_.begin() + static_cast<std::ptrdiff_t>(i));
    const scxml::State& state = inst.chart->state(w.state);
    StateWork declared = stateWork(state);
    if (!w.entered && !declared.requirements.empty()) {
      Status st = checkRequirements(inst, declared.requirements, "leave state '" + state.id + "'");
      if (!st) return st;
    }
    if (declared.empty()) continue;
    if (w.entered) {
      for (const TaskSpec& spec : declared.tasks) {
        if (Status st = createTasks(inst, state, spec); !st) return st;
      }
      if (declared.deadline) {
        if (Status st = setStateDeadline(inst, state, *declared.deadline); !st) return st;
      }
    } else {
      if (Status st = closeTasks(inst, &state.id); !st) return st;
      if (declared.deadline) {
        auto r = tx_.cancelTimers(inst.rec.id, deadlineSendId("state." + state.id));
        if (!r) return r.status();
      }
    }
  }
  return Status::ok();
}

Status Engine::Step::addDeadlineTimer(Loaded& inst, const std::string& sendid,
                                      const DeadlineSpec& d, const Due& due, json::Value what) {
  json::Value deadline = d.toJson();
  for (auto& [k, v] : what.asObject()) deadline.set(k, std::move(v));
  deadline.set("due_at", due.at);
  deadline.set("due_date", due.date.toString());
  // Fires at the first instant after the due day.
  auto id = tx_.addTimer(storage::TimerRecord{
      0, inst.rec.id, sendid, due.at + 1,
      json::dump(json::Value(json::Object{{"deadline", std::move(deadline)}}))});
  return id ? Status::ok() : id.status();
}

Status Engine::Step::setStateDeadline(Loaded& inst, const scxml::State& state,
                                      const DeadlineSpec& d) {
  auto due = dueOf(d, businessCalendar(), now_);
  if (!due) return due.status();
  record(inst, "deadline",
         json::Value(json::Object{{"op", "set"},
                                  {"state", state.id},
                                  {"term", d.describe()},
                                  {"due_date", due->date.toString()}}),
         kSystemActor);
  return addDeadlineTimer(inst, deadlineSendId("state." + state.id), d, *due,
                          json::Value(json::Object{{"state", state.id}}));
}

const json::Value* Engine::Step::priorDecision() {
  if (!event_ || event_->name.rfind("task.", 0) != 0) return nullptr;
  const std::string decision = stringMember(event_->data, "decision");
  if (decision.empty()) return nullptr;
  prior_decision_ = json::Value(json::Object{{"task", stringMember(event_->data, "name")},
                                             {"decision", decision},
                                             {"actor", stringMember(event_->data, "actor")},
                                             {"comment", stringMember(event_->data, "comment")},
                                             {"at", now_}});
  return &prior_decision_;
}

Status Engine::Step::createTasks(Loaded& inst, const scxml::State& state, const TaskSpec& spec) {
  const json::Value snapshot = inst.dm->snapshot();
  const std::string data = json::dump(businessData(snapshot));
  std::optional<Due> due;
  if (spec.deadline) {
    auto d = dueOf(*spec.deadline, businessCalendar(), now_);
    if (!d) return d.status();
    due = *d;
  }
  const bool approval = spec.kind == "approval";
  const std::vector<Candidates> slots = approval ? spec.approvers : std::vector{spec.candidates};
  std::string group;
  json::Array ids;
  for (std::size_t slot = 0; slot < slots.size(); ++slot) {
    TaskRecord t;
    t.id = newId(now_);
    if (slot == 0) group = t.id;
    t.instance_id = inst.rec.id;
    t.business_key = inst.rec.business_key;
    t.definition = inst.def.name;
    t.state = state.id;
    t.name = spec.name;
    t.kind = spec.kind;
    t.title = spec.title;
    t.priority = spec.priority;
    t.due_at = due ? due->at : 0;
    t.data = data;
    t.result = "{}";
    t.created_at = t.updated_at = now_;
    TaskSpec mine = spec;
    mine.candidates = slots[slot];
    json::Value spec_json = mine.toJson();
    spec_json.set("potential", stringsJson(slots[slot].principals()));
    if (const json::Value* prior = priorDecision()) spec_json.set("prior_decision", *prior);
    if (approval) {
      spec_json.set("group", group);
      spec_json.set("slot", static_cast<std::int64_t>(slot));
      spec_json.set("slots", static_cast<std::int64_t>(slots.size()));
    }
    auto ready = applyTaskOp(TaskState::kCreated, TaskOp::kActivate);
    if (!ready) return ready.status();
    TaskState status = *ready;
    json::Value extra(
        json::Object{{"title", spec.title}, {"candidates", stringsJson(slots[slot].principals())}});
    if (!spec.assignee.empty()) {
      // Reserved to the user the process chose (e.g. the lawyer assigned to the case).
      const json::Value* who = snapshot.find(spec.assignee);
      auto user =
          who && who->isString()
              ? activeUser(tx_, who->asString())
              : Result<std::optional<storage::UserRecord>>(std::optional<storage::UserRecord>());
      if (!user) return user.status();
      if (user->has_value()) {
        auto reserved = applyTaskOp(status, TaskOp::kDelegate);
        if (!reserved) return reserved.status();
        status = *reserved;
        t.owner = (*user)->id;
        extra.set("owner", t.owner);
      } else {
        extra.set("note", "assignee '" + spec.assignee +
                              "' names no active user; the task is offered to its candidates");
      }
    }
    t.status = std::string(taskStateName(status));
    if (due) extra.set("due_date", due->date.toString());
    refreshVisibility(t, spec_json);
    t.spec = json::dump(spec_json);
    ids.emplace_back(t.id);
    taskRow(inst, t, "create", std::move(extra), kSystemActor);
    putTask(std::move(t), 0);
  }
  if (!due) return Status::ok();
  return addDeadlineTimer(
      inst, deadlineSendId("task." + group), *spec.deadline, *due,
      json::Value(json::Object{
          {"state", state.id}, {"title", spec.title}, {"tasks", json::Value(std::move(ids))}}));
}

Status Engine::Step::closeTasks(Loaded& inst, const std::string* state) {
  auto all = tasksOf(inst.rec.id);
  if (!all) return all.status();
  for (TaskRecord& t : *all) {
    if (!t.open || (state && t.state != *state)) continue;
    auto next = applyTaskOp(taskStateOf(t), TaskOp::kExit);
    if (!next) return next.status();
    const json::Value spec = parsedOr(t.spec);
    const std::string from = t.status;
    const std::int64_t stored = t.row_version;
    t.status = std::string(taskStateName(*next));
    refreshVisibility(t, spec);
    ++t.row_version;
    t.updated_at = now_;
    taskRow(inst, t, "exit", json::Value(json::Object{{"from", from}}), kSystemActor);
    auto cancelled = tx_.cancelTimers(inst.rec.id, deadlineSendId(timerKey(t, spec)));
    if (!cancelled) return cancelled.status();
    putTask(std::move(t), stored);
  }
  return Status::ok();
}

Status Engine::Step::breach(Loaded& inst, const json::Value& deadline) {
  if (isEnded(inst.lifecycle)) return Status::ok();
  const std::string state = stringMember(deadline, "state");
  const std::vector<std::string> ids = stringsFrom(deadline.find("tasks"));
  const std::string due_date = stringMember(deadline, "due_date");
  record(inst, "deadline",
         json::Value(json::Object{{"op", "breach"},
                                  {"state", state},
                                  {"tasks", stringsJson(ids)},
                                  {"term", stringMember(deadline, "term")},
                                  {"due_date", due_date}}),
         kSystemActor);
  auto all = tasksOf(inst.rec.id);
  if (!all) return all.status();
  // A task deadline concerns its tasks; a state deadline every open task of the state.
  std::vector<TaskRecord> targets;
  for (TaskRecord& t : *all) {
    const bool named = std::find(ids.begin(), ids.end(), t.id) != ids.end();
    if (t.open && (ids.empty() ? t.state == state : named)) targets.push_back(t);
  }
  const DeadlineSpec spec = DeadlineSpec::fromJson(deadline);
  const json::Value about(
      json::Object{{"state", state}, {"tasks", stringsJson(ids)}, {"due_date", due_date}});
  for (const Breach& b : spec.breach) {
    if (!b.escalate_to.empty()) {
      for (TaskRecord& t : targets) {
        json::Value task_spec = parsedOr(t.spec);
        std::vector<std::string> roles = stringsFrom(task_spec.find("escalated_to"));
        addUnique(roles, b.escalate_to);
        task_spec.set("escalated_to", stringsJson(roles));
        auto stored = std::find_if(all->begin(), all->end(),
                                   [&](const TaskRecord& r) { return r.id == t.id; });
        t.spec = json::dump(task_spec);
        refreshVisibility(t, task_spec);
        t.row_version = stored->row_version + 1;
        t.updated_at = now_;
        taskRow(inst, t, "escalate", json::Value(json::Object{{"to", b.escalate_to}}),
                kSystemActor);
        putTask(t, stored->row_version);
      }
    }
    if (!b.notify.empty()) {
      json::Value note(
          json::Object{{"to", stringsJson(b.notify)},
                       {"subject", "Plazo vencido: " + stringMember(deadline, "title")},
                       {"business_key", inst.rec.business_key},
                       {"about", about}});
      Status st = tx_.addOutbox(
          storage::OutboxRecord{0, inst.rec.id, "notification", json::dump(note), now_});
      if (!st) return st;
    }
    if (!b.raise.empty()) {
      if (Status st = deliverQueued(inst, scxml::Event::external(b.raise, about)); !st) return st;
    }
  }
  return Status::ok();
}

// ---- separation of duties -------------------------------------------------------------------

// Why user may not decide the approval slot t under its process's separation of duties, as
// words that follow the user's name ("requested the expediente"); "" when they may. tasks
// reads the instance's tasks (as the caller's transaction sees them).
template <typename Tasks>
Result<std::string> barredBySeparation(storage::Transaction& tx, const TaskSpec& spec,
                                       const TaskRecord& t, Tasks&& tasks,
                                       const std::string& user) {
  if (spec.kind != "approval") return std::string();
  const std::string group = stringMember(parsedOr(t.spec), "group");
  auto all = tasks();
  if (!all) return all.status();
  for (const TaskRecord& other : *all) {
    if (other.id == t.id || other.status != taskStateName(TaskState::kCompleted)) continue;
    const json::Value result = parsedOr(other.result);
    if (stringMember(result, "actor") != user && stringMember(result, "on_behalf_of") != user)
      continue;
    if (!group.empty() && stringMember(parsedOr(other.spec), "group") == group) {
      return std::string("has already decided another approver slot of this approval");
    }
    for (const Exclusion& x : spec.excludes) {
      if (x.who == "submitter" && other.name == x.task) {
        return "completed '" + other.title + "'";
      }
      if (x.who == "approvers" && other.kind == "approval" &&
          stringMember(result, "decision") == "approve") {
        return "approved an earlier step ('" + other.title + "')";
      }
    }
  }
  for (const Exclusion& x : spec.excludes) {
    if (x.who != "requester") continue;
    auto first = tx.history(t.instance_id, 0, 1);
    if (!first) return first.status();
    if (!first->empty() && first->front().kind == "start" && first->front().actor == user) {
      return std::string("requested the expediente");
    }
  }
  return std::string();
}

// ---- operations by people -------------------------------------------------------------------

// One operation on one task inside a transaction: who acts and whether they may, the
// lifecycle steps it takes (a potential owner completing an offered task claims and starts it
// first, each step a history row), and the event it raises into the instance.
class Engine::TaskOperation {
 public:
  TaskOperation(Engine& engine, storage::Transaction& tx, const TaskAction& action)
      : engine_(engine), tx_(tx), a_(action), step_(engine, tx, action.actor) {}

  // first_seen: the task version the first attempt read (0 before it); a retry that finds
  // another version reports a conflict instead of acting on a task someone else changed.
  // final_answer is cleared when a retry could change the answer.
  Result<TaskView> run(const std::string& task_id, std::int64_t& first_seen, bool& final_answer) {
    final_answer = true;
    auto found = tx_.task(task_id);
    if (!found) return storageError(found.status(), final_answer);
    if (!found->has_value()) return Status(ErrorCode::kNotFound, "no task '" + task_id + "'");
    t_ = **found;
    stored_version_ = t_.row_version;
    if (a_.expected_version != 0 && a_.expected_version != t_.row_version) {
      return Status(ErrorCode::kConflict, "task '" + t_.title + "' has changed since version " +
                                              std::to_string(a_.expected_version) + ": " +
                                              describe());
    }
    if (first_seen != 0 && first_seen != t_.row_version) {
      return Status(ErrorCode::kConflict,
                    "task '" + t_.title + "' was changed by someone else meanwhile: " + describe());
    }
    first_seen = t_.row_version;
    spec_json_ = parsedOr(t_.spec);
    auto spec = TaskSpec::fromJson(spec_json_);
    if (!spec) return spec.status();
    spec_ = std::move(spec).value();
    state_ = taskStateOf(t_);
    if (Status st = resolveActor(); !st) return storageError(st, final_answer);
    auto inst = engine_.load(tx_, t_.instance_id);
    if (!inst) return storageError(inst.status(), final_answer);
    inst_ = std::move(inst).value();
    if (inst_.lifecycle == Lifecycle::kSuspended) {
      return Status(ErrorCode::kFailedPrecondition,
                    "expediente " + inst_.rec.business_key +
                        " is suspended; its tasks wait until it is resumed");
    }
    if (Status st = perform(); !st) return storageError(st, final_answer);
    recordSteps();
    t_.row_version = stored_version_ + 1;
    t_.updated_at = step_.now();
    t_.spec = json::dump(spec_json_);
    refreshVisibility(t_, spec_json_);
    step_.putTask(t_, stored_version_);
    auto event = eventOf();
    if (!event) return storageError(event.status(), final_answer);
    final_answer = false;  // from here on, only storage errors
    if (!event->has_value()) {
      if (Status st = step_.flushWork(); !st) return st;
      return engine_.taskView(t_);
    }
    if (!acceptsEvents(inst_.lifecycle)) {
      final_answer = true;
      return Status(ErrorCode::kFailedPrecondition,
                    "expediente " + inst_.rec.business_key + " is " +
                        std::string(lifecycleName(inst_.lifecycle)));
    }
    if (Status st = step_.deliver(inst_, **event, a_.actor); !st) return st;
    if (Status st = step_.commit(inst_, false); !st) return st;
    return engine_.taskView(t_);
  }

 private:
  static Status storageError(const Status& st, bool& final_answer) {
    final_answer = !retryable(st);
    return st;
  }

  std::string describe() const {
    return "it is " + t_.status + (t_.owner.empty() ? "" : " (owner " + t_.owner + ")");
  }

  Status resolveActor() {
    if (a_.actor == kSystemActor) {
      admin_ = true;
      return Status::ok();
    }
    const std::int64_t today = engine_.calendar_->dateOf(step_.now()).serial();
    auto people = actingAs(tx_, a_.actor, today);
    if (!people) return people.status();
    if (people->empty() || !people->front().active) {
      return Status(ErrorCode::kPermissionDenied,
                    "'" + a_.actor + "' is not an active user of the directory");
    }
    const std::vector<std::string>& roles = people->front().roles;
    admin_ = std::find(roles.begin(), roles.end(), kAdminRole) != roles.end();
    for (const storage::UserRecord& u : *people) {
      if (u.id != a_.actor) stands_in_for_.push_back(u.id);
    }
    principals_ = principalsOfPeople(*people, true, true);
    return Status::ok();
  }

  // The actor holds the task, or stands in for whoever does.
  bool isOwner() {
    if (t_.owner.empty()) return false;
    if (t_.owner == a_.actor) return true;
    if (std::find(stands_in_for_.begin(), stands_in_for_.end(), t_.owner) == stands_in_for_.end()) {
      return false;
    }
    on_behalf_of_ = t_.owner;
    return true;
  }

  bool isCandidate() const {
    std::vector<std::string> potential = stringsFrom(spec_json_.find("potential"));
    for (const std::string& role : stringsFrom(spec_json_.find("escalated_to"))) {
      potential.push_back("role:" + role);
    }
    return std::any_of(potential.begin(), potential.end(), [&](const std::string& p) {
      return std::binary_search(principals_.begin(), principals_.end(), p);
    });
  }

  Status denied(const std::string& why) const {
    return Status(ErrorCode::kPermissionDenied,
                  a_.actor + " may not " + std::string(taskOpName(a_.op)) + " task '" + t_.title +
                      "' of " + t_.business_key + ": " + why);
  }

  // Someone else holds or has finished the task: the loser of a race.
  Status taken() const {
    return Status(ErrorCode::kConflict, "task '" + t_.title + "' is taken: " + describe());
  }

  Status requireOwner() {
    if (isOwner() || admin_) return Status::ok();
    if (!t_.owner.empty()) return taken();
    return denied("only its owner may (it is " + t_.status + ")");
  }

  // Claiming: a potential owner (or an administrator) whom separation of duties allows.
  Status take() {
    if (!isCandidate() && !admin_) return denied("not among its candidates");
    if (Status st = separation(a_.actor); !st) return st;
    if (Status st = lifecycle(TaskOp::kClaim); !st) return st;
    t_.owner = a_.actor;
    return Status::ok();
  }

  // Moves the task through one transition of its lifecycle; recordSteps() writes them.
  Status lifecycle(TaskOp op) {
    auto next = applyTaskOp(state_, op);
    if (!next) {
      if (!t_.owner.empty() && !isOwner()) return taken();
      return next.status();
    }
    if (steps_.empty()) steps_from_ = std::string(taskStateName(state_));
    steps_.emplace_back(taskOpName(op));
    state_ = *next;
    t_.status = std::string(taskStateName(state_));
    return Status::ok();
  }

  // One history row for the operation: the transition asked for, the state it started from
  // and, under "via", the transitions it took on the way (a completion of an offered task
  // claims and starts it first).
  void recordSteps() {
    if (steps_.empty()) return;
    json::Value extra(json::Object{{"from", steps_from_}});
    if (steps_.size() > 1) {
      extra.set("via", json::Value(json::Array(steps_.begin(), steps_.end() - 1)));
    }
    if (!on_behalf_of_.empty()) extra.set("on_behalf_of", on_behalf_of_);
    step_.taskRow(inst_, t_, steps_.back(), std::move(extra));
  }

  Status perform() {
    if (isTaskFinal(state_)) return taken();
    switch (a_.op) {
      case TaskOp::kClaim:
        if (!t_.owner.empty() && !isOwner()) return taken();
        return take();
      case TaskOp::kStart:
        if (state_ == TaskState::kReady) {
          if (Status st = take(); !st) return st;
        } else if (Status st = requireOwner(); !st) {
          return st;
        }
        return lifecycle(TaskOp::kStart);
      case TaskOp::kStop:
      case TaskOp::kSuspend:
      case TaskOp::kResume:
        if (Status st = requireOwner(); !st) return st;
        return lifecycle(a_.op);
      case TaskOp::kRelease:
        if (Status st = requireOwner(); !st) return st;
        if (Status st = lifecycle(TaskOp::kRelease); !st) return st;
        t_.owner.clear();
        return Status::ok();
      case TaskOp::kDelegate: return delegate();
      case TaskOp::kForward: return forward();
      case TaskOp::kComplete: return complete();
      case TaskOp::kFail:
        if (Status st = requireOwner(); !st) return st;
        if (state_ == TaskState::kReserved) {
          if (Status st = lifecycle(TaskOp::kStart); !st) return st;
        }
        return lifecycle(TaskOp::kFail);
      case TaskOp::kSkip:
        if (!spec_.skippable) {
          return Status(ErrorCode::kFailedPrecondition, "task '" + t_.title + "' is not skippable");
        }
        if (!isOwner() && !isCandidate() && !admin_) return denied("not its owner or candidate");
        return lifecycle(TaskOp::kSkip);
      case TaskOp::kActivate:
      case TaskOp::kExit:
      case TaskOp::kError: break;
    }
    return denied("the engine performs that operation itself");
  }

  // Who may hand a task on: its owner, a candidate while it is offered, an administrator.
  Status mayHandOn() {
    if (isOwner() || admin_) return Status::ok();
    if (state_ == TaskState::kReady && isCandidate()) return Status::ok();
    if (!t_.owner.empty()) return taken();
    return denied("not its owner or candidate");
  }

  Status delegate() {
    if (Status st = mayHandOn(); !st) return st;
    auto to = activeUser(tx_, a_.to_user);
    if (!to) return to.status();
    if (!to->has_value()) {
      return Status(ErrorCode::kInvalidArgument,
                    "delegate to '" + a_.to_user + "': not an active user of the directory");
    }
    if (Status st = mayOwn(**to); !st) return st;
    if (Status st = separation(a_.to_user); !st) return st;
    const std::string by = t_.owner.empty() ? a_.actor : t_.owner;
    if (Status st = lifecycle(TaskOp::kDelegate); !st) return st;
    // WS-HumanTask: the new owner joins the potential owners; the delegator is kept.
    std::vector<std::string> potential = stringsFrom(spec_json_.find("potential"));
    addUnique(potential, "user:" + a_.to_user);
    spec_json_.set("potential", stringsJson(potential));
    spec_json_.set("delegated_by", by);
    t_.owner = a_.to_user;
    return Status::ok();
  }

  Status forward() {
    if (Status st = mayHandOn(); !st) return st;
    if (a_.to.empty()) {
      return Status(ErrorCode::kInvalidArgument, "forward needs new potential owners");
    }
    for (const std::string& p : a_.to) {
      if (!validPrincipal(p)) {
        return Status(ErrorCode::kInvalidArgument,
                      "forward to '" + p + "': expected user:ID, role:ID or unit:ID");
      }
      if (p.rfind("user:", 0) == 0) {
        const std::string user = p.substr(5);
        auto to = activeUser(tx_, user);
        if (!to) return to.status();
        if (!to->has_value()) {
          return Status(ErrorCode::kInvalidArgument,
                        "forward to '" + user + "': not an active user of the directory");
        }
        if (Status st = mayOwn(**to); !st) return st;
        if (Status st = separation(user); !st) return st;
        continue;
      }
      const std::vector<std::string> declared = declaredOwners();
      if (std::find(declared.begin(), declared.end(), p) == declared.end()) {
        return denied("it may be forwarded only among its potential owners (" +
                      join(declared, ", ") + "), not to " + p);
      }
    }
    if (Status st = lifecycle(TaskOp::kForward); !st) return st;
    spec_json_.set("potential", stringsJson(a_.to));
    t_.owner.clear();
    return Status::ok();
  }

  // The potential owners the process gave the task: its candidates, and the roles a
  // deadline escalated it to. Delegation and forwarding stay among them.
  std::vector<std::string> declaredOwners() const {
    std::vector<std::string> out = spec_.candidates.principals();
    for (const std::string& role : stringsFrom(spec_json_.find("escalated_to"))) {
      out.push_back("role:" + role);
    }
    return out;
  }

  // user may own the task: they answer to one of its declared potential owners.
  Status mayOwn(const storage::UserRecord& user) const {
    const std::vector<std::string> theirs = principalsOfPeople({user}, true, true);
    const std::vector<std::string> declared = declaredOwners();
    for (const std::string& p : declared) {
      if (std::binary_search(theirs.begin(), theirs.end(), p)) return Status::ok();
    }
    return denied(user.id + " is not among its potential owners (" + join(declared, ", ") + ")");
  }

  Status complete() {
    if (state_ == TaskState::kReady) {
      if (Status st = take(); !st) return st;
    } else if (Status st = requireOwner(); !st) {
      return st;
    }
    if (Status st = separation(a_.actor); !st) return st;
    if (!on_behalf_of_.empty()) {
      if (Status st = separation(on_behalf_of_); !st) return st;
    }
    if (Status st = validateCompletion(); !st) return st;
    if (Status st = claimVote(); !st) return st;
    if (state_ == TaskState::kReserved) {
      if (Status st = lifecycle(TaskOp::kStart); !st) return st;
    }
    return lifecycle(TaskOp::kComplete);
  }

  // One person, one slot: a decision on an approval slot takes the key (approval, person)
  // for its actor and whoever they act for, in the same transaction as the decision. The
  // key's primary key makes a second decision by the same person fail at commit even when
  // both were computed at once (each against a snapshot without the other); the retry then
  // meets the separation check.
  Status claimVote() {
    if (spec_.kind != "approval") return Status::ok();
    const std::string scope =
        "approval-decision:" + inst_.rec.id + ":" + stringMember(spec_json_, "group");
    for (const std::string& who : {a_.actor, on_behalf_of_}) {
      if (who.empty()) continue;
      Status st = tx_.saveIdempotentResult(scope, who, json::dump(json::Value(t_.id)), step_.now());
      if (!st) return st;
    }
    return Status::ok();
  }

  // Separation of duties (approvals): the requester, the submitter of a named task, and
  // whoever approved an earlier step may be excluded; nobody decides two slots of one
  // approval.
  Status separation(const std::string& user) {
    if (spec_.kind != "approval") return Status::ok();
    auto why = barredBySeparation(
        tx_, spec_, t_, [&] { return step_.tasksOf(inst_.rec.id); }, user);
    if (!why) return why.status();
    if (why->empty()) return Status::ok();
    return Status(ErrorCode::kPermissionDenied, "separation of duties: " + user + " " + *why +
                                                    ", so may not act on '" + t_.title + "' of " +
                                                    t_.business_key);
  }

  // The decision is one of the outcomes; the form has every required field, no unknown
  // ones, and values of the declared types. Every problem is reported at once.
  Status validateCompletion() {
    std::vector<std::string> problems;
    if (!spec_.outcomes.empty()) {
      if (std::find(spec_.outcomes.begin(), spec_.outcomes.end(), a_.decision) ==
          spec_.outcomes.end()) {
        problems.push_back("decision must be one of: " + join(spec_.outcomes, ", "));
      }
    } else if (!a_.decision.empty()) {
      problems.push_back("this task has no outcomes to decide");
    }
    auto fields = checkFields(tx_, spec_.fields, a_.form);
    if (!fields) return fields.status();
    problems.insert(problems.end(), fields->begin(), fields->end());
    if (problems.empty()) return Status::ok();
    return Status(ErrorCode::kInvalidArgument, "task '" + t_.title + "': " + join(problems, "; "));
  }

  // After the task is written: the event its end raises, if any. An approval slot raises
  // the approval's event only once the rule is decided.
  Result<std::optional<scxml::Event>> eventOf() {
    const bool ended =
        a_.op == TaskOp::kComplete || a_.op == TaskOp::kFail || a_.op == TaskOp::kSkip;
    if (!ended) return std::optional<scxml::Event>();
    json::Value result(json::Object{{"actor", a_.actor}, {"at", step_.now()}});
    if (!on_behalf_of_.empty()) result.set("on_behalf_of", on_behalf_of_);
    if (a_.op == TaskOp::kComplete) {
      result.set("decision", a_.decision);
      result.set("comment", a_.comment);
      result.set("form", a_.form.isObject() ? a_.form : json::Value(json::Object{}));
    } else {
      result.set("reason", a_.reason);
    }
    t_.result = json::dump(result);
    step_.putTask(t_, stored_version_);
    if (spec_.kind == "approval") return tallyApproval();
    auto cancelled = tx_.cancelTimers(inst_.rec.id, deadlineSendId(timerKey(t_, spec_json_)));
    if (!cancelled) return cancelled.status();
    json::Value data = result;
    data.set("task", t_.id);
    data.set("name", t_.name);
    const std::string name = a_.op == TaskOp::kComplete ? spec_.doneEvent()
                             : a_.op == TaskOp::kFail   ? "task." + t_.name + ".failed"
                                                        : "task." + t_.name + ".skipped";
    return std::optional<scxml::Event>(scxml::Event::external(name, std::move(data)));
  }

  Result<std::optional<scxml::Event>> tallyApproval() {
    const std::string group = stringMember(spec_json_, "group");
    auto all = step_.tasksOf(inst_.rec.id);
    if (!all) return all.status();
    int approvals = 0;
    int open = 0;
    json::Array decisions;
    std::vector<TaskRecord> pending;
    for (const TaskRecord& slot : *all) {
      if (stringMember(parsedOr(slot.spec), "group") != group) continue;
      if (slot.open) {
        ++open;
        pending.push_back(slot);
        continue;
      }
      const json::Value result = parsedOr(slot.result);
      if (slot.status == taskStateName(TaskState::kCompleted)) {
        if (stringMember(result, "decision") == "approve") ++approvals;
        decisions.emplace_back(json::Object{{"actor", stringMember(result, "actor")},
                                            {"decision", stringMember(result, "decision")},
                                            {"comment", stringMember(result, "comment")}});
      }
    }
    const int needed = spec_.needed();
    const bool approved = approvals >= needed;
    if (!approved && approvals + open >= needed) return std::optional<scxml::Event>();
    // Decided: the slots still open are no longer needed.
    for (TaskRecord& slot : pending) {
      auto next = applyTaskOp(taskStateOf(slot), TaskOp::kSkip);
      if (!next) return next.status();
      const std::int64_t expected = slot.row_version;
      slot.status = std::string(taskStateName(*next));
      refreshVisibility(slot, parsedOr(slot.spec));
      ++slot.row_version;
      slot.updated_at = step_.now();
      step_.taskRow(inst_, slot, "obsolete",
                    json::Value(json::Object{{"reason", "the approval is decided"}}), kSystemActor);
      step_.putTask(std::move(slot), expected);
    }
    auto cancelled = tx_.cancelTimers(inst_.rec.id, deadlineSendId("task." + group));
    if (!cancelled) return cancelled.status();
    json::Value data(json::Object{{"task", t_.id},
                                  {"name", t_.name},
                                  {"decision", approved ? "approve" : "reject"},
                                  {"decisions", json::Value(std::move(decisions))},
                                  {"actor", a_.actor},
                                  {"comment", a_.comment}});
    return std::optional<scxml::Event>(scxml::Event::external(
        approved ? spec_.approvedEvent() : spec_.rejectedEvent(), std::move(data)));
  }

  Engine& engine_;
  storage::Transaction& tx_;
  const TaskAction& a_;
  Step step_;
  Loaded inst_;
  TaskRecord t_;
  std::int64_t stored_version_ = 0;
  json::Value spec_json_;
  TaskSpec spec_;
  TaskState state_ = TaskState::kCreated;
  bool admin_ = false;
  std::vector<std::string> principals_;  // of the actor and whoever they stand in for, sorted
  std::vector<std::string> stands_in_for_;
  std::string on_behalf_of_;
  std::vector<std::string> steps_;  // lifecycle transitions taken, in order
  std::string steps_from_;          // the state before the first of them
};

// ---- engine API -----------------------------------------------------------------------------

Result<TaskView> Engine::actOnTask(const std::string& task_id, const TaskAction& action) {
  std::int64_t first_seen = 0;
  auto body = idempotently<TaskView>(
      "task:" + task_id + ":" + std::string(taskOpName(action.op)) + ":" + action.actor,
      action.idempotency_key, clock_,
      [&](storage::Transaction& tx, bool& final_answer) -> Result<TaskView> {
        TaskOperation op(*this, tx, action);
        return op.run(task_id, first_seen, final_answer);
      });
  if (!options_.group_commit) return transact<TaskView>(body);
  // Group commit: the operation is computed against a snapshot and shares a commit with
  // concurrent ones; a task or instance changed meanwhile makes it retry.
  std::optional<TaskView> out;
  auto r = submit(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<InstanceView> {
        auto t = body(tx, final_answer);
        if (!t) return t.status();
        out = std::move(t).value();
        return InstanceView{};
      },
      /*instance_id=*/{});
  if (!r) return r.status();
  return std::move(*out);
}

Result<TaskView> Engine::task(const std::string& task_id) {
  return transact<TaskView>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<TaskView> {
        auto t = tx.task(task_id);
        if (!t) return t.status();
        final_answer = true;
        if (!t->has_value()) return Status(ErrorCode::kNotFound, "no task '" + task_id + "'");
        return taskView(**t);
      },
      storage::TxMode::kRead);
}

Result<std::vector<TaskView>> Engine::tasksOf(const std::string& instance_id) {
  return transact<std::vector<TaskView>>(
      [&](storage::Transaction& tx, bool&) -> Result<std::vector<TaskView>> {
        auto all = tx.tasksOf(instance_id);
        if (!all) return all.status();
        std::vector<TaskView> out;
        for (const TaskRecord& t : *all) out.push_back(taskView(t));
        return out;
      },
      storage::TxMode::kRead);
}

namespace {

// Cursor: "DUE.PRIORITY.ID" of the last task of a page.
std::string cursorOf(const TaskRecord& t) {
  return std::to_string(t.due_at) + "." + std::to_string(t.priority) + "." + t.id;
}

Status readCursor(const std::string& cursor, storage::TaskQuery& q) {
  if (cursor.empty()) return Status::ok();
  const auto a = cursor.find('.');
  const auto b = a == std::string::npos ? a : cursor.find('.', a + 1);
  try {
    if (b == std::string::npos || b + 1 >= cursor.size()) throw std::invalid_argument("shape");
    std::size_t used = 0;
    q.after_due = std::stoll(cursor.substr(0, a), &used);
    if (used != a) throw std::invalid_argument("due");
    q.after_priority = std::stoi(cursor.substr(a + 1, b - a - 1), &used);
    if (used != b - a - 1) throw std::invalid_argument("priority");
    q.after_id = cursor.substr(b + 1);
  } catch (const std::exception&) {
    return Status(ErrorCode::kInvalidArgument, "malformed queue cursor '" + cursor + "'");
  }
  return Status::ok();
}

}  // namespace

Result<QueuePage> Engine::queue(const QueueRequest& r) {
  const TimePoint now = clock_.nowMs();
  const calendar::Date today = calendar_->dateOf(now);
  storage::TaskQuery q;
  if (Status st = readCursor(r.cursor, q); !st) return st;
  if (r.due_within_days < 0 || r.due_within_days > 3660) {
    return Status(ErrorCode::kInvalidArgument, "due_within_days must be 0 to 3660");
  }
  if (r.overdue) q.due_before = now;
  if (r.due_within_days > 0) {
    auto due = calendar_->due(today, r.due_within_days);
    if (!due) return due.status();
    q.due_from = now;
    q.due_before = calendar_->endOfDayMs(*due) + 1;
  }
  q.definition = r.definition;
  q.filters = r.filters;
  q.sort = r.sort;
  q.limit = std::clamp(r.limit, 1, 500);
  return transact<QueuePage>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<QueuePage> {
        storage::TaskQuery query = q;
        if (r.view != QueueView::kAll) {
          auto people = actingAs(tx, r.user, today.serial());
          if (!people) return people.status();
          if (people->empty()) {
            final_answer = true;
            return Status(ErrorCode::kNotFound, "no user '" + r.user + "'");
          }
          const bool personal = r.view == QueueView::kPersonal;
          query.principals = principalsOfPeople(*people, personal, !personal);
        }
        auto rows = tx.queryTasks(query);
        if (!rows) {
          final_answer = rows.status().code() == ErrorCode::kInvalidArgument;
          return rows.status();
        }
        QueuePage page;
        for (const TaskRecord& t : *rows) {
          page.tasks.push_back(taskView(t));
          if (r.view == QueueView::kAll || t.kind != "approval") continue;
          // Offered, but not to this user: separation of duties bars them (marked, with why).
          auto spec = TaskSpec::fromJson(parsedOr(t.spec));
          if (!spec) return spec.status();
          auto why = barredBySeparation(
              tx, *spec, t, [&] { return tx.tasksOf(t.instance_id); }, r.user);
          if (!why) return why.status();
          if (!why->empty()) page.tasks.back().may_not_act = r.user + " " + *why;
        }
        if (static_cast<int>(rows->size()) == query.limit)
          page.next_cursor = cursorOf(rows->back());
        return page;
      },
      storage::TxMode::kRead);
}

Result<std::vector<std::string>> Engine::principalsOf(const std::string& user) {
  const std::int64_t today = calendar_->dateOf(clock_.nowMs()).serial();
  return transact<std::vector<std::string>>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<std::vector<std::string>> {
        auto people = actingAs(tx, user, today);
        if (!people) return people.status();
        final_answer = true;
        if (people->empty()) return Status(ErrorCode::kNotFound, "no user '" + user + "'");
        return principalsOfPeople(*people, true, true);
      },
      storage::TxMode::kRead);
}

Result<InstancePage> Engine::searchInstances(const InstanceSearch& search) {
  storage::InstanceQuery query = search.query;
  query.participants.clear();
  query.principals.clear();
  if (!search.cursor.empty()) {
    const std::size_t dot = search.cursor.find('.');
    const std::string at = search.cursor.substr(0, dot);
    if (dot == std::string::npos || at.empty() || at.size() > 18 ||
        !std::all_of(at.begin(), at.end(), ::isdigit) || dot + 1 >= search.cursor.size()) {
      return Status(ErrorCode::kInvalidArgument, "cursor is not one this search gave");
    }
    query.after_created = std::stoll(at);
    query.after_id = search.cursor.substr(dot + 1);
  }
  for (const auto& [text, bound, to] : {std::tuple{&search.from, &query.created_from, false},
                                        std::tuple{&search.to, &query.created_before, true}}) {
    if (text->empty()) continue;
    auto day = calendar::Date::parse(*text);
    if (!day) {
      return Status(ErrorCode::kInvalidArgument,
                    std::string(to ? "to" : "from") + " is a date, YYYY-MM-DD: " + *text);
    }
    // The day's first instant is the end of the day before, plus one.
    *bound = calendar_->endOfDayMs(to ? *day : day->plusDays(-1)) + 1;
  }
  const std::int64_t today = calendar_->dateOf(clock_.nowMs()).serial();
  return transact<InstancePage>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<InstancePage> {
        storage::InstanceQuery q = query;
        auto people = actingAs(tx, search.user, today);
        if (!people) return people.status();
        final_answer = true;
        if (people->empty() || !people->front().active) {
          return Status(ErrorCode::kPermissionDenied,
                        "'" + search.user + "' is not an active user of the directory");
        }
        const std::vector<std::string>& roles = people->front().roles;
        const bool every_case = std::any_of(roles.begin(), roles.end(), [](const std::string& r) {
          return r == kAdminRole || r == "auditor" || r == "oficial_cumplimiento";
        });
        if (!every_case) {
          // The cases they (or whoever they stand in for) acted in or have an open task in.
          for (const storage::UserRecord& u : *people) q.participants.push_back(u.id);
          q.principals = principalsOfPeople(*people, true, true);
        } else if (!search.participant.empty()) {
          q.participants = {search.participant};
          auto them = actingAs(tx, search.participant, today);
          if (!them) return them.status();
          if (!them->empty()) q.principals = principalsOfPeople({them->front()}, true, true);
        }
        auto rows = tx.searchInstances(q);
        if (!rows) {
          final_answer = !retryable(rows.status());
          return rows.status();
        }
        InstancePage page;
        page.instances = std::move(rows).value();
        if (static_cast<int>(page.instances.size()) == q.limit) {
          const storage::InstanceSummary& last = page.instances.back();
          page.next_cursor = std::to_string(last.created_at) + "." + last.id;
        }
        return page;
      },
      storage::TxMode::kRead);
}

bool reaches(const std::vector<std::string>& principals, const TaskView& task) {
  auto holds = [&](const std::string& p) {
    return std::binary_search(principals.begin(), principals.end(), p);
  };
  return (!task.owner.empty() && holds("owner:" + task.owner)) ||
         std::any_of(task.principals.begin(), task.principals.end(), holds);
}

Status Engine::putUser(const storage::UserRecord& user, const std::string& actor) {
  auto r = transact<bool>([&](storage::Transaction& tx, bool& final_answer) -> Result<bool> {
    auto dir = tx.directory();
    if (!dir) return dir.status();
    bool added = true;
    for (storage::UserRecord& u : dir->users) {
      if (u.id != user.id) continue;
      u = user;
      added = false;
    }
    if (added) dir->users.push_back(user);
    // Checked the way a whole directory is: the same rules, the same messages.
    auto checked = parseDirectory(json::dump(directoryToJson(*dir)));
    if (!checked) {
      final_answer = true;
      return checked.status();
    }
    if (Status st = tx.replaceDirectory(*checked); !st) return st;
    const json::Value change(
        json::Object{{"op", added ? "user.add" : "user.change"}, {"user", userJson(user)}});
    Status st = tx.appendHistory({storage::HistoryRecord{0, "admin:directory", clock_.nowMs(),
                                                         actor, "directory", json::dump(change)}});
    if (!st) return st;
    return true;
  });
  forgetSenders();
  return r ? Status::ok() : r.status();
}

Status Engine::importDirectory(const storage::DirectoryRecords& directory,
                               const std::string& actor) {
  auto r = transact<bool>([&](storage::Transaction& tx, bool&) -> Result<bool> {
    if (Status st = tx.replaceDirectory(directory); !st) return st;
    const json::Value counts(
        json::Object{{"units", static_cast<std::int64_t>(directory.units.size())},
                     {"roles", static_cast<std::int64_t>(directory.roles.size())},
                     {"users", static_cast<std::int64_t>(directory.users.size())},
                     {"substitutions", static_cast<std::int64_t>(directory.substitutions.size())}});
    if (Status st = tx.appendHistory({storage::HistoryRecord{
            0, "admin:directory", clock_.nowMs(), actor, "directory", json::dump(counts)}});
        !st) {
      return st;
    }
    return true;
  });
  forgetSenders();
  return r ? Status::ok() : r.status();
}

Result<storage::DirectoryRecords> Engine::directory() {
  return transact<storage::DirectoryRecords>(
      [&](storage::Transaction& tx, bool&) { return tx.directory(); }, storage::TxMode::kRead);
}

}  // namespace tramite::runtime
