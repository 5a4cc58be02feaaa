// The WS-HumanTask 1.1 lifecycle: every (state, operation) pair is checked against a table
// written out here, independently of the Boost.MSM transition table.
#include "tramite/lifecycle/task_lifecycle.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

namespace tramite::lifecycle {
namespace {

using S = TaskState;
using O = TaskOp;

const std::vector<S> kStates = {S::kCreated,
                                S::kReady,
                                S::kReserved,
                                S::kInProgress,
                                S::kSuspendedReady,
                                S::kSuspendedReserved,
                                S::kSuspendedInProgress,
                                S::kCompleted,
                                S::kFailed,
                                S::kError,
                                S::kExited,
                                S::kObsolete};
const std::vector<O> kOps = {O::kActivate, O::kClaim,   O::kRelease, O::kStart,  O::kStop,
                             O::kDelegate, O::kForward, O::kSuspend, O::kResume, O::kComplete,
                             O::kFail,     O::kSkip,    O::kExit,    O::kError};

std::map<std::pair<S, O>, S> legal() {
  std::map<std::pair<S, O>, S> t;
  t[{S::kCreated, O::kActivate}] = S::kReady;
  for (S open : {S::kCreated, S::kReady, S::kReserved, S::kInProgress}) {
    t[{open, O::kSkip}] = S::kObsolete;
  }
  for (S open : {S::kCreated, S::kReady, S::kReserved, S::kInProgress, S::kSuspendedReady,
                 S::kSuspendedReserved, S::kSuspendedInProgress}) {
    t[{open, O::kExit}] = S::kExited;
    t[{open, O::kError}] = S::kError;
  }
  t[{S::kReady, O::kClaim}] = S::kReserved;
  t[{S::kReady, O::kStart}] = S::kInProgress;
  t[{S::kReserved, O::kStart}] = S::kInProgress;
  t[{S::kReserved, O::kRelease}] = S::kReady;
  t[{S::kInProgress, O::kRelease}] = S::kReady;
  t[{S::kInProgress, O::kStop}] = S::kReserved;
  t[{S::kInProgress, O::kComplete}] = S::kCompleted;
  t[{S::kInProgress, O::kFail}] = S::kFailed;
  for (S active : {S::kReady, S::kReserved, S::kInProgress}) {
    t[{active, O::kDelegate}] = S::kReserved;
    t[{active, O::kForward}] = S::kReady;
  }
  t[{S::kReady, O::kSuspend}] = S::kSuspendedReady;
  t[{S::kReserved, O::kSuspend}] = S::kSuspendedReserved;
  t[{S::kInProgress, O::kSuspend}] = S::kSuspendedInProgress;
  t[{S::kSuspendedReady, O::kResume}] = S::kReady;
  t[{S::kSuspendedReserved, O::kResume}] = S::kReserved;
  t[{S::kSuspendedInProgress, O::kResume}] = S::kInProgress;
  return t;
}

TEST(TaskLifecycle, EveryOperationInEveryStateMatchesTheSpecification) {
  const auto table = legal();
  int allowed = 0;
  for (S s : kStates) {
    for (O op : kOps) {
      auto next = applyTaskOp(s, op);
      auto it = table.find({s, op});
      if (it == table.end()) {
        ASSERT_FALSE(next) << taskOpName(op) << " in " << taskStateName(s) << " gave "
                           << taskStateName(*next);
        EXPECT_EQ(next.status().code(), ErrorCode::kFailedPrecondition);
        EXPECT_EQ(next.status().message(), "cannot " + std::string(taskOpName(op)) +
                                               " a task that is " + std::string(taskStateName(s)));
      } else {
        ASSERT_TRUE(next) << taskOpName(op) << " in " << taskStateName(s);
        EXPECT_EQ(*next, it->second) << taskOpName(op) << " in " << taskStateName(s);
        ++allowed;
      }
    }
  }
  EXPECT_EQ(allowed, 39);  // the rows of the machine
}

TEST(TaskLifecycle, ResumeReturnsToTheStateSuspended) {
  for (S s : {S::kReady, S::kReserved, S::kInProgress}) {
    auto suspended = applyTaskOp(s, O::kSuspend);
    ASSERT_TRUE(suspended);
    EXPECT_TRUE(isTaskSuspended(*suspended));
    EXPECT_FALSE(applyTaskOp(*suspended, O::kComplete));
    EXPECT_EQ(*applyTaskOp(*suspended, O::kResume), s);
  }
}

TEST(TaskLifecycle, NamesRoundTripAndFinalStatesAreFinal) {
  for (S s : kStates) EXPECT_EQ(*parseTaskState(taskStateName(s)), s);
  for (O op : kOps) EXPECT_EQ(*parseTaskOp(taskOpName(op)), op);
  EXPECT_FALSE(parseTaskState("done"));
  EXPECT_FALSE(parseTaskOp("approve"));
  for (S s : kStates) {
    const bool final_state = s == S::kCompleted || s == S::kFailed || s == S::kError ||
                             s == S::kExited || s == S::kObsolete;
    EXPECT_EQ(isTaskFinal(s), final_state) << taskStateName(s);
  }
}

}  // namespace
}  // namespace tramite::lifecycle
