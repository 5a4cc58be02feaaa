// What callers see of human tasks and queues, and what they ask of them (Engine::actOnTask,
// Engine::queue). Value types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tramite/json.h"
#include "tramite/lifecycle/task_lifecycle.h"
#include "tramite/storage/store.h"

namespace tramite::runtime {

// Tasks are spoken of in the task lifecycle's terms (engine/lifecycle).
using lifecycle::applyTaskOp;
using lifecycle::isTaskFinal;
using lifecycle::isTaskSuspended;
using lifecycle::parseTaskOp;
using lifecycle::parseTaskState;
using lifecycle::TaskOp;
using lifecycle::taskOpName;
using lifecycle::TaskState;
using lifecycle::taskStateName;

struct TaskView {
  std::string id;
  std::string instance_id;
  std::string business_key;
  std::string definition;
  std::string state;
  std::string name;
  std::string kind;  // task | approval
  std::string title;
  std::string status;  // a TaskState name
  std::string owner;
  std::int32_t priority = 5;
  TimePoint due_at = 0;  // 0: no deadline
  std::string due_date;  // YYYY-MM-DD: every deadline shown states its due date
  bool overdue = false;  // at the time of the read
  std::vector<std::string> principals;
  json::Value spec;    // form fields, outcomes, candidates, approval rule, deadline, ...
  json::Value data;    // the instance's business data when the task was created
  json::Value result;  // decision, comment, form, actor of a finished task
  std::int64_t row_version = 0;
  TimePoint created_at = 0;
  TimePoint updated_at = 0;
  // In a user's queue: why they may not act on this task though it is offered to them
  // (separation of duties: "elena_castro completed 'Redactar…'"); "" when they may.
  std::string may_not_act;

  json::Value toJson() const&;
  json::Value toJson() &&;  // the same, moving the fields out
  // Reads what toJson wrote. Errors: kInternal for a malformed view.
  static Result<TaskView> fromJson(const json::Value& v);
};

// Whether a task is held by, or waits in the queue of, one of principals (sorted, as
// Engine::principalsOf gives them).
bool reaches(const std::vector<std::string>& principals, const TaskView& task);

// One operation on a task by a user (see task_lifecycle.h for the operations).
struct TaskAction {
  TaskOp op = TaskOp::kClaim;
  std::string actor;
  // When set, the task must still have this version (the one the user saw): kConflict if
  // someone else changed it since.
  std::int64_t expected_version = 0;
  std::string to_user;          // delegate: the new actual owner
  std::vector<std::string> to;  // forward: new potential owners, "user:ID" "role:ID" "unit:ID"
  std::string decision;         // complete: one of the task's outcomes (approvals: approve|reject)
  std::string comment;
  json::Value form;    // complete: field values, an object
  std::string reason;  // fail, skip
  // Optional: a retried operation with the same key returns the first result and changes
  // nothing (kept per task).
  std::string idempotency_key;
};

enum class QueueView {
  kPersonal,  // tasks reserved to the user, or offered to the user by name
  kGroup,     // tasks offered to the user's roles and unit
  kAll,       // every open task (auditors, the compliance office)
};

struct QueueRequest {
  std::string user;  // whose queue; substitutions in force today add the absent user's
  QueueView view = QueueView::kPersonal;
  bool overdue = false;     // only tasks past their due date
  int due_within_days = 0;  // > 0: only tasks due within that many business days (due soon)
  std::string definition;   // only tasks of this definition
  std::vector<storage::TaskFilter> filters;  // conditions on business data
  storage::TaskSort sort = storage::TaskSort::kDue;
  int limit = 50;      // 1..500
  std::string cursor;  // next_cursor of the previous page
};

struct QueuePage {
  std::vector<TaskView> tasks;
  std::string next_cursor;  // "" on the last page
};

// Why user may not act on task though it is offered to them (separation of duties: the
// requester, the submitter of a named task, an approver of another slot), as a phrase that
// follows the user's name; "" when nothing bars them. Reads the case's tasks through tx, as
// the engine's own check does (the notification consumer tells no one of a task they may not
// take).
Result<std::string> whyBarred(storage::Transaction& tx, const storage::TaskRecord& task,
                              const std::string& user);

}  // namespace tramite::runtime
