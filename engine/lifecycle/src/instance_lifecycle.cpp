// Boost.MSM definition of the instance lifecycle.
#include "tramite/lifecycle/instance_lifecycle.h"

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

#include "msm_support.h"

namespace tramite::lifecycle {

namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::Row;

struct Start {};
struct Suspend {};
struct Resume {};
struct Complete {};
struct Terminate {};
struct Fail {};

struct AcceptsEvents {};  // flag: the instance processes events in this state
struct Ended {};          // flag: a final lifecycle state

struct LifecycleDef : msm_support::RejectingDef<LifecycleDef> {
  struct Created : msm::front::state<> {};
  struct Running : msm::front::state<> {
    using flag_list = mpl::vector1<AcceptsEvents>;
  };
  struct Suspended : msm::front::state<> {};
  struct Completed : msm::front::state<> {
    using flag_list = mpl::vector1<Ended>;
  };
  struct Terminated : msm::front::state<> {
    using flag_list = mpl::vector1<Ended>;
  };
  struct Failed : msm::front::state<> {
    using flag_list = mpl::vector1<Ended>;
  };
  using initial_state = Created;

  // clang-format off
  struct transition_table : mpl::vector<
      Row<Created,   Start,     Running>,
      Row<Created,   Terminate, Terminated>,
      Row<Created,   Fail,      Failed>,
      Row<Running,   Suspend,   Suspended>,
      Row<Running,   Complete,  Completed>,
      Row<Running,   Terminate, Terminated>,
      Row<Running,   Fail,      Failed>,
      Row<Suspended, Resume,    Running>,
      Row<Suspended, Terminate, Terminated>,
      Row<Suspended, Fail,      Failed>
  > {};
  // clang-format on
};

using Machine = msm::back::state_machine<LifecycleDef>;

template <typename State>
constexpr int idOf() {
  return msm_support::stateId<Machine, State>();
}

Lifecycle currentOf(const Machine& m) {
  const int id = m.current_state()[0];
  if (id == idOf<LifecycleDef::Created>()) return Lifecycle::kCreated;
  if (id == idOf<LifecycleDef::Running>()) return Lifecycle::kRunning;
  if (id == idOf<LifecycleDef::Suspended>()) return Lifecycle::kSuspended;
  if (id == idOf<LifecycleDef::Completed>()) return Lifecycle::kCompleted;
  if (id == idOf<LifecycleDef::Terminated>()) return Lifecycle::kTerminated;
  return Lifecycle::kFailed;
}

bool process(Machine& m, LifecycleOp op) {
  using msm_support::accept;
  switch (op) {
    case LifecycleOp::kStart: return accept(m, Start{});
    case LifecycleOp::kSuspend: return accept(m, Suspend{});
    case LifecycleOp::kResume: return accept(m, Resume{});
    case LifecycleOp::kComplete: return accept(m, Complete{});
    case LifecycleOp::kTerminate: return accept(m, Terminate{});
    case LifecycleOp::kFail: return accept(m, Fail{});
  }
  return false;
}

// A machine in the given state, reached by replaying its canonical path.
Machine machineIn(Lifecycle l) {
  Machine m;
  m.start();
  switch (l) {
    case Lifecycle::kCreated: break;
    case Lifecycle::kRunning: process(m, LifecycleOp::kStart); break;
    case Lifecycle::kSuspended:
      process(m, LifecycleOp::kStart);
      process(m, LifecycleOp::kSuspend);
      break;
    case Lifecycle::kCompleted:
      process(m, LifecycleOp::kStart);
      process(m, LifecycleOp::kComplete);
      break;
    case Lifecycle::kTerminated: process(m, LifecycleOp::kTerminate); break;
    case Lifecycle::kFailed: process(m, LifecycleOp::kFail); break;
  }
  return m;
}

}  // namespace

std::string_view lifecycleName(Lifecycle l) {
  switch (l) {
    case Lifecycle::kCreated: return "created";
    case Lifecycle::kRunning: return "running";
    case Lifecycle::kSuspended: return "suspended";
    case Lifecycle::kCompleted: return "completed";
    case Lifecycle::kTerminated: return "terminated";
    case Lifecycle::kFailed: return "failed";
  }
  return "failed";
}

std::string_view lifecycleOpName(LifecycleOp op) {
  switch (op) {
    case LifecycleOp::kStart: return "start";
    case LifecycleOp::kSuspend: return "suspend";
    case LifecycleOp::kResume: return "resume";
    case LifecycleOp::kComplete: return "complete";
    case LifecycleOp::kTerminate: return "terminate";
    case LifecycleOp::kFail: return "fail";
  }
  return "fail";
}

Result<Lifecycle> parseLifecycle(std::string_view name) {
  for (Lifecycle l : {Lifecycle::kCreated, Lifecycle::kRunning, Lifecycle::kSuspended,
                      Lifecycle::kCompleted, Lifecycle::kTerminated, Lifecycle::kFailed}) {
    if (lifecycleName(l) == name) return l;
  }
  return Status(ErrorCode::kInvalidArgument, "unknown lifecycle state '" + std::string(name) + "'");
}

Result<Lifecycle> applyLifecycle(Lifecycle current, LifecycleOp op) {
  Machine m = machineIn(current);
  if (!process(m, op)) {
    return Status(ErrorCode::kFailedPrecondition, "cannot " + std::string(lifecycleOpName(op)) +
                                                      " an instance that is " +
                                                      std::string(lifecycleName(current)));
  }
  return currentOf(m);
}

bool acceptsEvents(Lifecycle l) {
  return machineIn(l).is_flag_active<AcceptsEvents>();
}

bool isEnded(Lifecycle l) {
  return machineIn(l).is_flag_active<Ended>();
}

}  // namespace tramite::lifecycle
