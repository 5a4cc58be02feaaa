// Human tasks as a step extension (tramite/step/extension.h), and what a task row holds that
// the engine's task operations and queues share with it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tramite/json.h"
#include "tramite/lifecycle/task_lifecycle.h"
#include "tramite/step/extension.h"
#include "tramite/storage/records.h"

namespace tramite::tasks {

// <w:task>, <w:approval> and <w:deadline>: the tasks a state declares are created when it is
// entered (reserved to the assignee the process chose, offered to the candidates otherwise)
// and exited when it is left or the instance ends; deadline timers, of a task or of a state,
// are set and cancelled with them. Stateless; shared by every step.
std::unique_ptr<step::Extension> taskWork();

// ---- a task row ----

// The sendid of a task's (or approval's) deadline timer, from its timerKey.
std::string deadlineSendId(const std::string& key);

// What queues show and filter on: the instance's top-level scalar variables.
json::Value businessData(const json::Value& snapshot);

// A stored JSON text, or an empty object when it does not parse.
json::Value parsedOr(const std::string& text);

// The task's lifecycle state; kError for a status the lifecycle does not know.
lifecycle::TaskState taskStateOf(const storage::TaskRecord& t);

// The deadline timer of a task: one per task, or one per approval (its first slot's id).
std::string timerKey(const storage::TaskRecord& t, const json::Value& spec);

// Appends s to v unless v holds it already.
void addUnique(std::vector<std::string>& v, const std::string& s);

// Who sees the task now: potential owners while it is offered, the actual owner (and whoever
// delegated it) while it is taken, plus the roles a breached deadline escalated it to.
void refreshVisibility(storage::TaskRecord& t, const json::Value& spec);

// A task history row's detail: the task's id, name, the operation and its status, plus extra.
json::Value taskRowDetail(const storage::TaskRecord& t, std::string_view op, json::Value extra);

}  // namespace tramite::tasks
