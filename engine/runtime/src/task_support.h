// Helpers the engine's task code shares across its files (tasks.cpp: views and deadlines'
// breach; task_operation.cpp: operations by people; queue.cpp: queues and searches). Internal.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "engine_internal.h"
#include "event_policy.h"
#include "tramite/tasks/task_work.h"

namespace tramite::runtime::internal {

using storage::TaskRecord;

// What a task row holds (engine/tasks), as the engine's task code uses it.
using tasks::addUnique;
using tasks::businessData;
using tasks::deadlineSendId;
using tasks::parsedOr;
using tasks::refreshVisibility;
using tasks::taskRowDetail;
using tasks::taskStateOf;
using tasks::timerKey;

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
