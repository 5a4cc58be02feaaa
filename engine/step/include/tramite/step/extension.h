// Step extensions: how the vocabulary's features (human tasks, deadlines, required and
// rendered documents) join the durable core's step without the core knowing them.
//
// The core runs a macrostep on the SCXML interpreter, applies what it asked for (sends,
// invokes, the lifecycle), then calls each extension, in the order the engine registered
// them, at these points of the macrostep, in the order they happened:
//   transitionTaken  a transition whose executable content holds foreign elements
//   stateExited      a state with foreign child elements, left
//   stateEntered     such a state, entered
// then afterMacrostep once. executed() runs while the interpreter executes a foreign element
// of executable content; instanceEnded() when the instance completes, fails or is terminated.
//
// Everything an extension writes goes through the Context into the operation's transaction:
// it commits with the instance row and its history, or not at all. A status other than ok
// refuses the whole operation (a requirement unmet) or fails it (a store error).
//
// Extensions are shared by every step of an engine and called from many threads at once:
// their methods are const and keep no state of their own; what a macrostep queues for later
// in it goes into Context::pending, emptied once afterMacrostep has run (and with a macrostep
// that is undone or refused). An
// operation may be computed more than once (a retry after a conflict, group commit): only
// what the committed computation wrote through the Context counts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tramite/calendar/calendar.h"
#include "tramite/clock.h"
#include "tramite/json.h"
#include "tramite/scxml/chart.h"
#include "tramite/scxml/event.h"
#include "tramite/status.h"
#include "tramite/storage/records.h"
#include "tramite/storage/transaction.h"

namespace tramite::step {

class Extension;

// The actor of what the step does by itself (history rows, rendered documents).
inline constexpr const char* kSystemActor = "system";

// The step as an extension sees it: the instance being stepped and what it may write.
class Context {
 public:
  // The operation's transaction: reads see this operation's own writes to the store (not yet
  // its queued task writes: tasksOf).
  virtual storage::Transaction& tx() = 0;
  virtual TimePoint now() const = 0;
  virtual const calendar::BusinessCalendar& calendar() const = 0;

  // The instance being stepped.
  virtual const storage::InstanceRecord& instance() const = 0;
  virtual const std::string& definitionName() const = 0;
  virtual const scxml::Chart& chart() const = 0;
  // Its data model, as it stands now.
  virtual json::Value data() const = 0;
  // The event of the macrostep being run; null for the first macrostep of an instance.
  virtual const scxml::Event* event() const = 0;

  // A new id for a row (UUID version 7 at now()).
  virtual std::string newId() = 0;
  // The directory's user id when it exists and is active; nullopt otherwise.
  virtual Result<std::optional<storage::UserRecord>> activeUser(const std::string& id) = 0;

  // A history row of the instance, by the system.
  virtual void record(const std::string& kind, const json::Value& detail) = 0;
  // Refuses the operation: kFailedPrecondition with message, also kept as the reason the
  // operation was refused.
  virtual Status refuse(std::string message) = 0;

  // Task rows, written with the instance at commit; a later write of the same task in this
  // operation replaces the earlier one.
  virtual void putTask(storage::TaskRecord record, std::int64_t expected_version) = 0;
  // The instance's tasks as this operation leaves them (stored, then its own writes).
  virtual Result<std::vector<storage::TaskRecord>> tasksOf(const std::string& instance_id) = 0;

  // What extension queued in this macrostep for afterMacrostep; the caller may move from it.
  // Emptied by the step after afterMacrostep.
  virtual std::vector<json::Value>& pending(const Extension& extension) = 0;

 protected:
  ~Context() = default;
};

class Extension {
 public:
  virtual ~Extension() = default;

  virtual Status transitionTaken(Context&, const scxml::Transition&) const { return Status::ok(); }
  virtual Status stateExited(Context&, const scxml::State&) const { return Status::ok(); }
  virtual Status stateEntered(Context&, const scxml::State&) const { return Status::ok(); }
  virtual Status afterMacrostep(Context&) const { return Status::ok(); }
  // A foreign element of executable content; extensions ignore the elements that are not
  // theirs. An error here is the interpreter's error.execution.
  virtual Status executed(Context&, const scxml::XmlElement&) const { return Status::ok(); }
  virtual Status instanceEnded(Context&) const { return Status::ok(); }
};

}  // namespace tramite::step
