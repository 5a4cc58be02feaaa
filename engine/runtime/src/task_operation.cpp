// Operations by people on tasks: Engine::actOnTask through TaskOperation (claim, start,
// complete, decide, release, delegate, forward, ...).
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

}  // namespace tramite::runtime
