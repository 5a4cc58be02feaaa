// Boost.MSM definition of the WS-HumanTask 1.1 task lifecycle.
#include "tramite/lifecycle/task_lifecycle.h"

#include <array>
#include <boost/mpl/vector/vector40.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
#include <vector>

#include "msm_support.h"

namespace tramite::lifecycle {

namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::Row;

// One MSM event type per operation.
template <TaskOp Op>
struct OpEvent {};

struct Final {};  // flag: nothing may change any more

struct TaskDef : msm_support::RejectingDef<TaskDef> {
  struct Created : msm::front::state<> {};
  struct Ready : msm::front::state<> {};
  struct Reserved : msm::front::state<> {};
  struct InProgress : msm::front::state<> {};
  struct SuspendedReady : msm::front::state<> {};
  struct SuspendedReserved : msm::front::state<> {};
  struct SuspendedInProgress : msm::front::state<> {};
  struct Completed : msm::front::state<> {
    using flag_list = mpl::vector1<Final>;
  };
  struct Failed : msm::front::state<> {
    using flag_list = mpl::vector1<Final>;
  };
  struct Error : msm::front::state<> {
    using flag_list = mpl::vector1<Final>;
  };
  struct Exited : msm::front::state<> {
    using flag_list = mpl::vector1<Final>;
  };
  struct Obsolete : msm::front::state<> {
    using flag_list = mpl::vector1<Final>;
  };
  using initial_state = Created;

  using Activate = OpEvent<TaskOp::kActivate>;
  using Claim = OpEvent<TaskOp::kClaim>;
  using Release = OpEvent<TaskOp::kRelease>;
  using Start = OpEvent<TaskOp::kStart>;
  using Stop = OpEvent<TaskOp::kStop>;
  using Delegate = OpEvent<TaskOp::kDelegate>;
  using Forward = OpEvent<TaskOp::kForward>;
  using Suspend = OpEvent<TaskOp::kSuspend>;
  using Resume = OpEvent<TaskOp::kResume>;
  using Complete = OpEvent<TaskOp::kComplete>;
  using Fail = OpEvent<TaskOp::kFail>;
  using Skip = OpEvent<TaskOp::kSkip>;
  using Exit = OpEvent<TaskOp::kExit>;
  using Err = OpEvent<TaskOp::kError>;

  // clang-format off
  struct transition_table : mpl::vector39<
      Row<Created,             Activate, Ready>,
      Row<Created,             Skip,     Obsolete>,
      Row<Created,             Exit,     Exited>,
      Row<Created,             Err,      Error>,

      Row<Ready,               Claim,    Reserved>,
      Row<Ready,               Start,    InProgress>,
      Row<Ready,               Delegate, Reserved>,
      Row<Ready,               Forward,  Ready>,
      Row<Ready,               Suspend,  SuspendedReady>,
      Row<Ready,               Skip,     Obsolete>,
      Row<Ready,               Exit,     Exited>,
      Row<Ready,               Err,      Error>,

      Row<Reserved,            Release,  Ready>,
      Row<Reserved,            Start,    InProgress>,
      Row<Reserved,            Delegate, Reserved>,
      Row<Reserved,            Forward,  Ready>,
      Row<Reserved,            Suspend,  SuspendedReserved>,
      Row<Reserved,            Skip,     Obsolete>,
      Row<Reserved,            Exit,     Exited>,
      Row<Reserved,            Err,      Error>,

      Row<InProgress,          Stop,     Reserved>,
      Row<InProgress,          Release,  Ready>,
      Row<InProgress,          Delegate, Reserved>,
      Row<InProgress,          Forward,  Ready>,
      Row<InProgress,          Suspend,  SuspendedInProgress>,
      Row<InProgress,          Complete, Completed>,
      Row<InProgress,          Fail,     Failed>,
      Row<InProgress,          Skip,     Obsolete>,
      Row<InProgress,          Exit,     Exited>,
      Row<InProgress,          Err,      Error>,

      Row<SuspendedReady,      Resume,   Ready>,
      Row<SuspendedReady,      Exit,     Exited>,
      Row<SuspendedReady,      Err,      Error>,
      Row<SuspendedReserved,   Resume,   Reserved>,
      Row<SuspendedReserved,   Exit,     Exited>,
      Row<SuspendedReserved,   Err,      Error>,
      Row<SuspendedInProgress, Resume,   InProgress>,
      Row<SuspendedInProgress, Exit,     Exited>,
      Row<SuspendedInProgress, Err,      Error>
  > {};
  // clang-format on
};

using Machine = msm::back::state_machine<TaskDef>;

template <typename State>
constexpr int idOf() {
  return msm_support::stateId<Machine, State>();
}

// MSM state ids in TaskState order, so a stored state maps to the machine and back.
const std::array<int, 12>& stateIds() {
  static const std::array<int, 12> ids = {idOf<TaskDef::Created>(),
                                          idOf<TaskDef::Ready>(),
                                          idOf<TaskDef::Reserved>(),
                                          idOf<TaskDef::InProgress>(),
                                          idOf<TaskDef::SuspendedReady>(),
                                          idOf<TaskDef::SuspendedReserved>(),
                                          idOf<TaskDef::SuspendedInProgress>(),
                                          idOf<TaskDef::Completed>(),
                                          idOf<TaskDef::Failed>(),
                                          idOf<TaskDef::Error>(),
                                          idOf<TaskDef::Exited>(),
                                          idOf<TaskDef::Obsolete>()};
  return ids;
}

template <TaskOp Op>
bool fire(Machine& m) {
  return msm_support::accept(m, OpEvent<Op>{});
}

bool process(Machine& m, TaskOp op) {
  switch (op) {
    case TaskOp::kActivate: return fire<TaskOp::kActivate>(m);
    case TaskOp::kClaim: return fire<TaskOp::kClaim>(m);
    case TaskOp::kRelease: return fire<TaskOp::kRelease>(m);
    case TaskOp::kStart: return fire<TaskOp::kStart>(m);
    case TaskOp::kStop: return fire<TaskOp::kStop>(m);
    case TaskOp::kDelegate: return fire<TaskOp::kDelegate>(m);
    case TaskOp::kForward: return fire<TaskOp::kForward>(m);
    case TaskOp::kSuspend: return fire<TaskOp::kSuspend>(m);
    case TaskOp::kResume: return fire<TaskOp::kResume>(m);
    case TaskOp::kComplete: return fire<TaskOp::kComplete>(m);
    case TaskOp::kFail: return fire<TaskOp::kFail>(m);
    case TaskOp::kSkip: return fire<TaskOp::kSkip>(m);
    case TaskOp::kExit: return fire<TaskOp::kExit>(m);
    case TaskOp::kError: return fire<TaskOp::kError>(m);
  }
  return false;
}

// A machine in a stored state, reached by replaying that state's canonical path.
Machine machineIn(TaskState s) {
  static const std::array<std::vector<TaskOp>, 12> kPaths = {{
      {},
      {TaskOp::kActivate},
      {TaskOp::kActivate, TaskOp::kClaim},
      {TaskOp::kActivate, TaskOp::kStart},
      {TaskOp::kActivate, TaskOp::kSuspend},
      {TaskOp::kActivate, TaskOp::kClaim, TaskOp::kSuspend},
      {TaskOp::kActivate, TaskOp::kStart, TaskOp::kSuspend},
      {TaskOp::kActivate, TaskOp::kStart, TaskOp::kComplete},
      {TaskOp::kActivate, TaskOp::kStart, TaskOp::kFail},
      {TaskOp::kError},
      {TaskOp::kExit},
      {TaskOp::kSkip},
  }};
  Machine m;
  m.start();
  for (TaskOp op : kPaths[static_cast<std::size_t>(s)]) process(m, op);
  return m;
}

TaskState stateOf(const Machine& m) {
  const auto& ids = stateIds();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == m.current_state()[0]) return static_cast<TaskState>(i);
  }
  return TaskState::kError;
}

constexpr std::array<std::string_view, 12> kStateNames = {"created",
                                                          "ready",
                                                          "reserved",
                                                          "in_progress",
                                                          "suspended_ready",
                                                          "suspended_reserved",
                                                          "suspended_in_progress",
                                                          "completed",
                                                          "failed",
                                                          "error",
                                                          "exited",
                                                          "obsolete"};

constexpr std::array<std::string_view, 14> kOpNames = {
    "activate", "claim",  "release",  "start", "stop", "delegate", "forward",
    "suspend",  "resume", "complete", "fail",  "skip", "exit",     "error"};

}  // namespace

std::string_view taskStateName(TaskState s) {
  return kStateNames[static_cast<std::size_t>(s)];
}
std::string_view taskOpName(TaskOp op) {
  return kOpNames[static_cast<std::size_t>(op)];
}

Result<TaskState> parseTaskState(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<TaskState>(i);
  }
  return Status(ErrorCode::kInvalidArgument, "unknown task state '" + std::string(name) + "'");
}

Result<TaskOp> parseTaskOp(std::string_view name) {
  for (std::size_t i = 0; i < kOpNames.size(); ++i) {
    if (kOpNames[i] == name) return static_cast<TaskOp>(i);
  }
  return Status(ErrorCode::kInvalidArgument, "unknown task operation '" + std::string(name) + "'");
}

Result<TaskState> applyTaskOp(TaskState current, TaskOp op) {
  Machine m = machineIn(current);
  if (!process(m, op)) {
    return Status(ErrorCode::kFailedPrecondition, "cannot " + std::string(taskOpName(op)) +
                                                      " a task that is " +
                                                      std::string(taskStateName(current)));
  }
  return stateOf(m);
}

bool isTaskFinal(TaskState s) {
  return machineIn(s).is_flag_active<Final>();
}

bool isTaskSuspended(TaskState s) {
  return s == TaskState::kSuspendedReady || s == TaskState::kSuspendedReserved ||
         s == TaskState::kSuspendedInProgress;
}

}  // namespace tramite::lifecycle
