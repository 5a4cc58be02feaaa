// The human-task lifecycle of WS-HumanTask 1.1, a machine fixed at compile time (Boost.MSM):
//
//   created -> ready <-> reserved <-> in_progress -> completed | failed
//   ready | reserved | in_progress -> suspended (resume returns to the state it left)
//   any state that is not final -> exited (its SCXML state was left) | error | obsolete (skip)
//
// Who may perform an operation (potential owners, the actual owner, administrators) is
// decided by the task service; this machine decides only whether the operation is legal in
// the task's state.
#pragma once

#include <string_view>

#include "tramite/status.h"

namespace tramite::lifecycle {

enum class TaskState {
  kCreated,
  kReady,
  kReserved,
  kInProgress,
  kSuspendedReady,  // suspended; resume returns to the state in the name
  kSuspendedReserved,
  kSuspendedInProgress,
  kCompleted,
  kFailed,
  kError,
  kExited,
  kObsolete,
};

enum class TaskOp {
  kActivate,  // system: created -> ready (the task has its candidates)
  kClaim,     // ready -> reserved
  kRelease,   // reserved | in_progress -> ready
  kStart,     // ready | reserved -> in_progress
  kStop,      // in_progress -> reserved
  kDelegate,  // ready | reserved | in_progress -> reserved, to a new actual owner
  kForward,   // ready | reserved | in_progress -> ready, to new potential owners
  kSuspend,
  kResume,
  kComplete,  // in_progress -> completed
  kFail,      // in_progress -> failed
  kSkip,      // any open state -> obsolete, when the task is skippable
  kExit,      // system: the SCXML state that created the task was exited
  kError,     // system: the task could not be processed
};

// Stable names, as stored and shown: "created", "ready", "reserved", "in_progress",
// "suspended_ready", "suspended_reserved", "suspended_in_progress", "completed", "failed",
// "error", "exited", "obsolete".
std::string_view taskStateName(TaskState s);
std::string_view taskOpName(TaskOp op);
// Errors: kInvalidArgument for an unknown name.
Result<TaskState> parseTaskState(std::string_view name);
Result<TaskOp> parseTaskOp(std::string_view name);

// The state after op, or kFailedPrecondition naming the operation and the state.
Result<TaskState> applyTaskOp(TaskState current, TaskOp op);

bool isTaskFinal(TaskState s);
bool isTaskSuspended(TaskState s);

}  // namespace tramite::lifecycle
