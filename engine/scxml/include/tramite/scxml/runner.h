// An in-process host for SCXML sessions: external queues, a virtual clock for delayed sends,
// invoked child sessions, and log capture. Used by tests, the conformance runner and the
// `tramite simulate` command. Time only moves when advance() is called, so nothing ever
// sleeps. Not thread-safe: one Runner per thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tramite/clock.h"
#include "tramite/json.h"
#include "tramite/scxml/interpreter.h"
#include "tramite/scxml/parser.h"

namespace tramite::scxml {

class Runner {
 public:
  struct Options {
    ParseOptions parse;
    // Called for every <log>; session id first.
    std::function<void(const std::string&, const LogAction&)> on_log;
    // A run of processing stops (reporting an error) after this many events.
    std::size_t max_events_per_run = 200'000;
    // The host's BasicHTTP processor: where sessions receive (see
    // Interpreter::setBasicHttpBase) and how a send to one is delivered. An error status
    // becomes error.communication in the sending session; without external_send every such
    // send fails so.
    std::string basichttp_base;
    std::function<Status(const std::string& from_session, const SendAction&)> external_send;
  };

  Runner();
  explicit Runner(Options options);
  ~Runner();

  // Starts a top-level session of chart and runs its first macrostep.
  // Returns the new session id. Errors: kInvalidArgument for an unsupported datamodel.
  Result<std::string> start(const ChartPtr& chart, const json::Value* data = nullptr,
                            std::string session_id = {});

  // Queues an external event for a session (processed by runUntilIdle).
  // Errors: kNotFound for an unknown session.
  Status send(const std::string& session_id, Event event);

  // Processes every queued event (and everything they trigger) without moving the clock.
  // Errors: kResourceExhausted when max_events_per_run is exceeded (a livelock).
  Status runUntilIdle();

  // Moves the virtual clock forward by ms, firing due delayed events in order and
  // processing after each one.
  Status advance(std::int64_t ms);

  // Moves the clock to the next pending delayed event and fires it (and any others due at
  // the same instant). Returns false when nothing is pending.
  Result<bool> advanceToNextTimer();

  bool hasPendingTimers() const { return !timers_.empty(); }
  TimePoint now() const { return clock_.nowMs(); }

  // Inspection. Return empty/false for unknown sessions.
  bool isFinished(const std::string& session_id) const;
  // The top-level final state a finished session reached ("" if none).
  std::string finalState(const std::string& session_id) const;
  std::vector<std::string> configuration(const std::string& session_id) const;
  const Session* session(const std::string& session_id) const;
  const DataModel* dataModel(const std::string& session_id) const;

 private:
  struct Instance;
  struct Timer {
    TimePoint due;
    std::uint64_t seq;
    std::string from;  // sending session
    SendAction action;
    bool operator<(const Timer& o) const { return due != o.due ? due < o.due : seq < o.seq; }
  };

  Instance* find(const std::string& id) const;
  void apply(Instance& from, std::vector<Action>& actions);
  void deliver(const std::string& from, const SendAction& action);
  void startChild(Instance& parent, const InvokeAction& action);
  void destroy(const std::string& id);
  void fire(const Timer& t);

  Options options_;
  ManualClock clock_;
  std::map<std::string, std::unique_ptr<Instance>> instances_;
  std::deque<std::pair<std::string, Event>> queue_;
  std::set<Timer> timers_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_session_ = 1;
};

}  // namespace tramite::scxml
