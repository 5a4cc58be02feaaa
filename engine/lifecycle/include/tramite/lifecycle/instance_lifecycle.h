// The instance lifecycle, a machine fixed at compile time (Boost.MSM):
//   created -> running <-> suspended -> completed | terminated | failed
// Illegal operations (resume a running instance, send to a terminated one) are errors.
#pragma once

#include <string>
#include <string_view>

#include "tramite/status.h"

namespace tramite::lifecycle {

enum class Lifecycle { kCreated, kRunning, kSuspended, kCompleted, kTerminated, kFailed };
enum class LifecycleOp { kStart, kSuspend, kResume, kComplete, kTerminate, kFail };

std::string_view lifecycleName(Lifecycle l);
std::string_view lifecycleOpName(LifecycleOp op);
// Errors: kInvalidArgument for an unknown name (a corrupt row).
Result<Lifecycle> parseLifecycle(std::string_view name);

// The state after op, or kFailedPrecondition naming the operation and the state.
Result<Lifecycle> applyLifecycle(Lifecycle current, LifecycleOp op);

// May an instance in this state receive events?
bool acceptsEvents(Lifecycle l);
// Is the state final (nothing may change any more)?
bool isEnded(Lifecycle l);

}  // namespace tramite::lifecycle
