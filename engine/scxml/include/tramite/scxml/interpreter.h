// The SCXML interpreter: the algorithm of the W3C recommendation's Appendix D as a pure step
// function. Given a chart, a session state, an event and the session's datamodel, a step
// returns the new session state and the actions the host must carry out (deliver sends,
// schedule delayed ones, cancel them, start or stop invoked sessions, write logs).
// No I/O, no clock, no threads happen inside.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "tramite/json.h"
#include "tramite/scxml/chart.h"
#include "tramite/scxml/datamodel.h"
#include "tramite/scxml/event.h"
#include "tramite/scxml/state_set.h"
#include "tramite/status.h"

namespace tramite::scxml {

enum class SessionStatus : std::uint8_t { kNew, kRunning, kFinished };

// An <invoke> that is running on behalf of an active state.
struct Invocation {
  std::string invokeid;
  std::string child_session_id;
  StateIndex state = kNoState;
  std::uint32_t invoke_index = 0;  // position within the state's invokes
  bool autoforward = false;
};

// Everything about a session between two steps, except the datamodel's variables.
// Value type: copy it to keep a snapshot.
struct Session {
  std::string id;               // _sessionid
  std::string parent_id;        // empty for a top-level session
  std::string parent_invokeid;  // the invokeid the parent knows this session by
  std::uint32_t depth = 0;      // invocation nesting: 0 for a top-level session
  SessionStatus status = SessionStatus::kNew;
  StateSet configuration;
  StateSet data_bound;  // states whose <data> was initialised (late binding)
  std::vector<std::pair<StateIndex, std::vector<StateIndex>>> history;
  std::vector<Invocation> invocations;
  std::uint64_t next_id = 1;  // counter for generated send and invoke ids
};

// Deliver an event (now, or after delay_ms) to a target.
struct SendAction {
  enum class Target : std::uint8_t { kSelf, kParent, kChild, kSession, kExternal };
  Target target = Target::kSelf;
  std::string target_id;  // child invokeid, session id, or URL for kExternal
  std::string type;       // event I/O processor URI
  std::string sendid;     // always set (generated when the document gave none)
  std::int64_t delay_ms = 0;
  Event event;
};

struct CancelSendAction {
  std::string sendid;
};

struct InvokeAction {
  std::string invokeid;
  std::string child_session_id;
  std::string type;
  std::string src;      // resolved src (may be empty when content is given)
  std::string content;  // inline document text
  bool has_content = false;
  json::Value data;  // params / namelist as an object
  bool autoforward = false;
};

struct CancelInvokeAction {
  std::string invokeid;
  std::string child_session_id;
};

struct LogAction {
  std::string label;
  std::string text;
};

// The session reached a top-level final state (or was cancelled); done data for the parent.
struct FinishedAction {
  std::string final_state;  // id of the top-level <final> reached
  json::Value donedata;
};

using Action = std::variant<SendAction, CancelSendAction, InvokeAction, CancelInvokeAction,
                            LogAction, FinishedAction>;

// Host hooks for the parts of executable content the interpreter does not own (foreign
// elements of our workflow namespace). The default does nothing.
class ExtensionHandler {
 public:
  virtual ~ExtensionHandler() = default;
  // Called for a foreign executable element; an error becomes error.execution.
  virtual Status execute(const XmlElement& element, DataModel& dm, std::vector<Action>& actions);
};

// Receives what a step does, in order, for history. Called synchronously inside the step;
// implementations must not call back into the interpreter.
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // An event taken from the internal queue (raise, done.state, errors); external events
  // are the caller's own input and are not reported.
  virtual void onInternalEvent(const Event& event) { (void)event; }
  // A microstep begins: its exits, transitions and entries follow. event is null for
  // eventless transitions. (The initial entry of start() is not a microstep.)
  virtual void onMicrostep(const Event* event) { (void)event; }
  virtual void onExit(StateIndex state) { (void)state; }
  // A transition whose content runs now; event is null for eventless transitions.
  virtual void onTransition(std::uint32_t transition, const Event* event) {
    (void)transition;
    (void)event;
  }
  virtual void onEnter(StateIndex state) { (void)state; }
};

// What start() does with initial data members that no top-level <data> declares:
// kBind creates them as variables (instances started with business data); kIgnore drops
// them (<invoke> params, SCXML 6.4.4).
enum class UndeclaredData : std::uint8_t { kBind, kIgnore };

// Drives one chart. Holds scratch buffers reused across steps, so it is cheap to call
// repeatedly; not thread-safe (use one Interpreter per thread; the chart itself is shared).
class Interpreter {
 public:
  // max_microsteps bounds one macrostep: a document whose eventless transitions never
  // settle is stopped with kResourceExhausted instead of hanging the host.
  explicit Interpreter(ChartPtr chart, std::size_t max_microsteps = 100'000);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  const ChartPtr& chart() const { return chart_; }
  void setExtensionHandler(ExtensionHandler* handler) { extensions_ = handler; }
  // Observer for the next calls (nullptr to stop observing); not owned.
  void setObserver(StepObserver* observer) { observer_ = observer; }
  // Where the host's BasicHTTP Event I/O Processor receives events: sessions see
  // _ioprocessors.basichttp.location = base + "/" + session id. Empty (the default): the
  // session has no BasicHTTP entry.
  void setBasicHttpBase(std::string base) { basichttp_base_ = std::move(base); }

  // Initialises a session: session.id must be set (and parent_id for invoked sessions).
  // Binds system variables and data (initial_data overrides top-level <data> values; see
  // UndeclaredData for the rest), runs the global script, enters the initial configuration
  // and completes the first macrostep. Appends what the host must do to actions.
  // Errors: kResourceExhausted when a macrostep exceeds max_microsteps (the session is left
  // running, its internal queue dropped).
  Status start(Session& session, DataModel& dm, std::vector<Action>& actions,
               const json::Value* initial_data = nullptr,
               UndeclaredData undeclared = UndeclaredData::kBind);

  // Processes one external event to completion (one macrostep). A finished session ignores
  // events. The host must not deliver events a cancelled invocation produces after its
  // cancellation (6.4.3); events it queued before are processed normally.
  // Appends what the host must do to actions.
  // Errors: as start().
  Status step(Session& session, DataModel& dm, const Event& event, std::vector<Action>& actions);

  // Ends a running session from outside (its parent cancelled it): exits all states.
  void cancel(Session& session, DataModel& dm, std::vector<Action>& actions);

  // Sorted ids of the active atomic states.
  std::vector<std::string> activeAtomicStates(const Session& session) const;

 private:
  class Run;
  ChartPtr chart_;
  std::size_t max_microsteps_;
  ExtensionHandler* extensions_ = nullptr;
  StepObserver* observer_ = nullptr;
  std::string basichttp_base_;
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

// Sorted ids of the active atomic states of a session of chart.
std::vector<std::string> activeAtomicStates(const Chart& chart, const Session& session);

// Functional form of Interpreter::step for callers that want values in, values out.
struct StepResult {
  Session session;
  std::vector<Action> actions;
  Status status;
};
StepResult step(const ChartPtr& chart, Session session, const Event& event, DataModel& dm);

}  // namespace tramite::scxml
