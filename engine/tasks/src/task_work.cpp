// Tasks inside a step: the tasks and approvals a state declares are created when it is
// entered (reserved to the assignee the process chose, offered to the candidates otherwise)
// and exited when it is left or the instance ends; deadlines, of a task or of a state, are
// timers set and cancelled with them (their breach is Step::breach, when the timer fires).
#include "tramite/tasks/task_work.h"

#include "tramite/workflow/specs.h"

namespace tramite::tasks {
namespace {

using lifecycle::applyTaskOp;
using lifecycle::TaskOp;
using lifecycle::TaskState;
using lifecycle::taskStateName;
using storage::TaskRecord;
using workflow::Candidates;
using workflow::DeadlineSpec;
using workflow::Due;
using workflow::StateWork;
using workflow::stringMember;
using workflow::stringsJson;
using workflow::TaskSpec;

class TaskWork final : public step::Extension {
 public:
  Status stateEntered(step::Context& step, const scxml::State& state) const override {
    const StateWork declared = workflow::stateWork(state);
    for (const TaskSpec& spec : declared.tasks) {
      if (Status st = createTasks(step, state, spec); !st) return st;
    }
    if (!declared.deadline) return Status::ok();
    return setStateDeadline(step, state, *declared.deadline);
  }

  Status stateExited(step::Context& step, const scxml::State& state) const override {
    const bool deadline = workflow::declaresDeadline(state);
    if (!deadline && !workflow::declaresTasks(state)) return Status::ok();
    if (Status st = closeTasks(step, &state.id); !st) return st;
    if (!deadline) return Status::ok();
    auto r = step.tx().cancelTimers(step.instance().id, deadlineSendId("state." + state.id));
    return r ? Status::ok() : r.status();
  }

  Status instanceEnded(step::Context& step) const override {
    if (!workflow::chartHasWork(step.chart())) return Status::ok();
    return closeTasks(step, nullptr);
  }

 private:
  static Status addDeadlineTimer(step::Context& step, const std::string& sendid,
                                 const DeadlineSpec& d, const Due& due, json::Value what) {
    json::Value deadline = d.toJson();
    for (auto& [k, v] : what.asObject()) deadline.set(k, std::move(v));
    deadline.set("due_at", due.at);
    deadline.set("due_date", due.date.toString());
    // Fires at the first instant after the due day.
    auto id = step.tx().addTimer(storage::TimerRecord{
        0, step.instance().id, sendid, due.at + 1,
        json::dump(json::Value(json::Object{{"deadline", std::move(deadline)}}))});
    return id ? Status::ok() : id.status();
  }

  static Status setStateDeadline(step::Context& step, const scxml::State& state,
                                 const DeadlineSpec& d) {
    auto due = workflow::dueOf(d, step.calendar(), step.now());
    if (!due) return due.status();
    step.record("deadline", json::Value(json::Object{{"op", "set"},
                                                     {"state", state.id},
                                                     {"term", d.describe()},
                                                     {"due_date", due->date.toString()}}));
    return addDeadlineTimer(step, deadlineSendId("state." + state.id), d, *due,
                            json::Value(json::Object{{"state", state.id}}));
  }

  // When the macrostep was triggered by a task's outcome with a decision (a review that
  // returns a draft): who decided what, with their comment, for the tasks it creates.
  static json::Value priorDecision(const step::Context& step) {
    const scxml::Event* event = step.event();
    if (!event || event->name.rfind("task.", 0) != 0) return json::Value();
    const std::string decision = stringMember(event->data, "decision");
    if (decision.empty()) return json::Value();
    return json::Value(json::Object{{"task", stringMember(event->data, "name")},
                                    {"decision", decision},
                                    {"actor", stringMember(event->data, "actor")},
                                    {"comment", stringMember(event->data, "comment")},
                                    {"at", step.now()}});
  }

  static Status createTasks(step::Context& step, const scxml::State& state, const TaskSpec& spec) {
    const TimePoint now = step.now();
    const storage::InstanceRecord& inst = step.instance();
    const json::Value snapshot = step.data();
    const std::string data = json::dump(businessData(snapshot));
    std::optional<Due> due;
    if (spec.deadline) {
      auto d = workflow::dueOf(*spec.deadline, step.calendar(), now);
      if (!d) return d.status();
      due = *d;
    }
    const json::Value prior = priorDecision(step);
    const bool approval = spec.kind == "approval";
    const std::vector<Candidates> slots = approval ? spec.approvers : std::vector{spec.candidates};
    std::string group;
    json::Array ids;
    for (std::size_t slot = 0; slot < slots.size(); ++slot) {
      TaskRecord t;
      t.id = step.newId();
      if (slot == 0) group = t.id;
      t.instance_id = inst.id;
      t.business_key = inst.business_key;
      t.definition = step.definitionName();
      t.state = state.id;
      t.name = spec.name;
      t.kind = spec.kind;
      t.title = spec.title;
      t.priority = spec.priority;
      t.due_at = due ? due->at : 0;
      t.data = data;
      t.result = "{}";
      t.created_at = t.updated_at = now;
      TaskSpec mine = spec;
      mine.candidates = slots[slot];
      json::Value spec_json = mine.toJson();
      spec_json.set("potential", stringsJson(slots[slot].principals()));
      if (!prior.isNull()) spec_json.set("prior_decision", prior);
      if (approval) {
        spec_json.set("group", group);
        spec_json.set("slot", static_cast<std::int64_t>(slot));
        spec_json.set("slots", static_cast<std::int64_t>(slots.size()));
      }
      auto ready = applyTaskOp(TaskState::kCreated, TaskOp::kActivate);
      if (!ready) return ready.status();
      TaskState status = *ready;
      json::Value extra(json::Object{{"title", spec.title},
                                     {"candidates", stringsJson(slots[slot].principals())}});
      if (!spec.assignee.empty()) {
        // Reserved to the user the process chose (e.g. the lawyer assigned to the case).
        const json::Value* who = snapshot.find(spec.assignee);
        auto user =
            who && who->isString()
                ? step.activeUser(who->asString())
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
      step.record("task", taskRowDetail(t, "create", std::move(extra)));
      step.putTask(std::move(t), 0);
    }
    if (!due) return Status::ok();
    return addDeadlineTimer(
        step, deadlineSendId("task." + group), *spec.deadline, *due,
        json::Value(json::Object{
            {"state", state.id}, {"title", spec.title}, {"tasks", json::Value(std::move(ids))}}));
  }

  // Exits the open tasks of the instance (those of state, or all of them when state is null)
  // and cancels their deadlines.
  static Status closeTasks(step::Context& step, const std::string* state) {
    const std::string& instance = step.instance().id;
    auto all = step.tasksOf(instance);
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
      t.updated_at = step.now();
      step.record("task", taskRowDetail(t, "exit", json::Value(json::Object{{"from", from}})));
      auto cancelled = step.tx().cancelTimers(instance, deadlineSendId(timerKey(t, spec)));
      if (!cancelled) return cancelled.status();
      step.putTask(std::move(t), stored);
    }
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<step::Extension> taskWork() {
  return std::make_unique<TaskWork>();
}

}  // namespace tramite::tasks
