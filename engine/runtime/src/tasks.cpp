// Human tasks: their views, their writes within a step and the breach of their deadlines;
// their creation and closing as states enter and exit is the step extension in task_work.cpp,
// operations by people are in task_operation.cpp, queues in queue.cpp.
#include <algorithm>
#include <tuple>

#include "engine_internal.h"
#include "form_check.h"
#include "step.h"
#include "task_support.h"
#include "tramite/runtime/directory.h"
#include "tramite/text.h"

namespace tramite::runtime {

using namespace internal;
using storage::TaskRecord;

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
  record(inst, "task", taskRowDetail(t, op, std::move(extra)), actor);
}

Status Engine::Step::breach(Loaded& inst, const json::Value& deadline) {
  if (isEnded(inst.lifecycle)) return Status::ok();
  const std::string state = stringMember(deadline, "state");
  const std::vector<std::string> ids = stringsFrom(deadline.find("tasks"));
  const std::string due_date = stringMember(deadline, "due_date");
  const DeadlineSpec spec = DeadlineSpec::fromJson(deadline);
  // Whom the breach notifies (roles): the notification consumer reads it from this row.
  std::vector<std::string> notify;
  for (const Breach& b : spec.breach) {
    for (const std::string& role : b.notify) addUnique(notify, role);
  }
  json::Value row(json::Object{{"op", "breach"},
                               {"state", state},
                               {"tasks", stringsJson(ids)},
                               {"term", stringMember(deadline, "term")},
                               {"due_date", due_date}});
  if (!notify.empty()) {
    row.set("notify", stringsJson(notify));
    row.set("title", stringMember(deadline, "title"));
  }
  record(inst, "deadline", row, kSystemActor);
  auto all = tasksOf(inst.rec.id);
  if (!all) return all.status();
  // A task deadline concerns its tasks; a state deadline every open task of the state.
  std::vector<TaskRecord> targets;
  for (TaskRecord& t : *all) {
    const bool named = std::find(ids.begin(), ids.end(), t.id) != ids.end();
    if (t.open && (ids.empty() ? t.state == state : named)) targets.push_back(t);
  }
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
    if (!b.raise.empty()) {
      if (Status st = deliverQueued(inst, scxml::Event::external(b.raise, about)); !st) return st;
    }
  }
  return Status::ok();
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
