// Helpers the task code shares across its files (tasks.cpp: views and the states' tasks;
// task_operation.cpp: operations by people; queue.cpp: queues and searches). Internal.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "engine_internal.h"
#include "event_policy.h"

namespace tramite::runtime::internal {

using storage::TaskRecord;

// The sendid of a task's (or approval's) deadline timer, from its timerKey.
std::string deadlineSendId(const std::string& key);

// What queues show and filter on: the instance's top-level scalar variables.
json::Value businessData(const json::Value& snapshot);

// A stored JSON text, or an empty object when it does not parse.
json::Value parsedOr(const std::string& text);

// The task's lifecycle state; kError for a status the lifecycle does not know.
TaskState taskStateOf(const TaskRecord& t);

// The deadline timer of a task: one per task, or one per approval (its first slot's id).
std::string timerKey(const TaskRecord& t, const json::Value& spec);

// Appends s to v unless v holds it already.
void addUnique(std::vector<std::string>& v, const std::string& s);

// Who sees the task now: potential owners while it is offered, the actual owner (and whoever
// delegated it) while it is taken, plus the roles a breached deadline escalated it to.
void refreshVisibility(TaskRecord& t, const json::Value& spec);

// The user id names, then the users they stand in for on day (substitutions in force);
// empty when the directory has no such user.
Result<std::vector<storage::UserRecord>> actingAs(storage::Transaction& tx, const std::string& id,
                                                  std::int64_t day);

// The principals people (as actingAs gives them) answer to, sorted, without repeats:
// "owner:" and "user:" (their own tasks: personal), "unit:" and "role:" (their units' and
// roles' queues: group).
std::vector<std::string> principalsOfPeople(const std::vector<storage::UserRecord>& people,
                                            bool personal, bool group);

// Whether p is "user:", "role:" or "unit:" followed by a workflow name.
bool validPrincipal(const std::string& p);

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

}  // namespace tramite::runtime::internal
