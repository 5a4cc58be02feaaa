// Engine::Step: the work of one operation inside its transaction (the durable core's step).
// Not a public header.
#pragma once

#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine_internal.h"
#include "tramite/step/extension.h"

namespace tramite::runtime {

// The core calls the engine's step extensions (tramite/step/extension.h) at the points of
// each macrostep, as the step::Context they write through; the rest is the core's own: the
// interpreter, the actions it asks for, the lifecycle, history, and the writes committed with
// the instance.
class Engine::Step final : public scxml::StepObserver,
                           public scxml::ExtensionHandler,
                           public step::Context {
 public:
  Step(Engine& engine, storage::Transaction& tx, std::string actor)
      : engine_(engine),
        tx_(tx),
        actor_(std::move(actor)),
        now_(engine.clock_.nowMs()),
        pending_(engine.extensions_.size()) {}

  // ---- step::Context: the instance being stepped, for the extensions ----

  storage::Transaction& tx() override { return tx_; }
  TimePoint now() const override { return now_; }
  const calendar::BusinessCalendar& calendar() const override { return *engine_.calendar_; }
  const storage::InstanceRecord& instance() const override { return current_->rec; }
  const std::string& definitionName() const override { return current_->def.name; }
  const scxml::Chart& chart() const override { return *current_->chart; }
  json::Value data() const override { return current_->dm->snapshot(); }
  const scxml::Event* event() const override { return event_; }
  std::string newId() override { return internal::newId(now_); }
  Result<std::optional<storage::UserRecord>> activeUser(const std::string& id) override {
    return internal::activeUser(tx_, id);
  }
  void record(const std::string& kind, const json::Value& detail) override {
    record(*current_, kind, detail, kSystemActor);
  }
  Status refuse(std::string message) override {
    refused_ = std::move(message);
    return Status(ErrorCode::kFailedPrecondition, refused_);
  }
  std::vector<json::Value>& pending(const step::Extension& extension) override {
    const auto& all = engine_.extensions_;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].get() == &extension) return pending_[i];
    }
    throw std::logic_error("pending: not an extension of this engine");
  }

  void record(const Loaded& inst, const std::string& kind, const json::Value& detail,
              const std::string& actor = {}) {
    rows_.push_back(storage::HistoryRecord{0, inst.rec.id, now_, actor.empty() ? actor_ : actor,
                                           kind, json::dump(detail)});
  }

  // Runs the first macrostep of a new instance and what it triggers locally.
  Status start(Loaded& inst, const json::Value* data, scxml::UndeclaredData undeclared) {
    if (Status st = changeLifecycle(inst, LifecycleOp::kStart); !st) return st;
    std::deque<scxml::Event> local;
    Status st = macrostep(inst, local, [&](scxml::Interpreter& i, std::vector<scxml::Action>& a) {
      return i.start(inst.session, *inst.dm, a, data, undeclared);
    });
    if (!st) return st;
    return runLocal(inst, local);
  }

  // Delivers one external event and everything it triggers locally.
  // An administrator's stated reason, when there is one, is kept with the event.
  Status deliver(Loaded& inst, const scxml::Event& event, const std::string& actor,
                 const std::string& reason = {}) {
    json::Value detail = scxml::eventToJson(event);
    if (!reason.empty()) detail.set("reason", reason);
    record(inst, "event", detail, actor);
    std::deque<scxml::Event> local{event};
    return runLocal(inst, local, /*first_recorded=*/true);
  }

  // An event that arrived by timer or inbox: a running instance processes it, a suspended one
  // keeps it until resume, an ended one drops it.
  Status deliverQueued(Loaded& inst, const scxml::Event& event) {
    if (inst.lifecycle == Lifecycle::kSuspended) {
      return tx_.deferEvent(inst.rec.id, eventText(event), now_);
    }
    if (!acceptsEvents(inst.lifecycle)) return Status::ok();
    return deliver(inst, event, kSystemActor);
  }

  // Writes the instance row (insert or versioned update).
  Status save(Loaded& inst, bool insert) {
    inst.rec.session = scxml::encodeSession(*inst.chart, inst.session, *inst.dm);
    inst.rec.lifecycle = std::string(lifecycleName(inst.lifecycle));
    inst.rec.states = " ";
    for (const std::string& s : scxml::activeAtomicStates(*inst.chart, inst.session)) {
      inst.rec.states += s + " ";
    }
    inst.rec.updated_at = now_;
    if (insert) {
      inst.rec.created_at = now_;
      return tx_.insertInstance(inst.rec);
    }
    Status st = tx_.updateInstance(inst.rec);
    if (st) ++inst.rec.row_version;
    return st;
  }

  // Writes the instance row, then the task and history rows recorded so far (which may
  // include rows of other instances the step touched, such as invoked children).
  Status commit(Loaded& inst, bool insert) {
    if (Status st = save(inst, insert); !st) return st;
    return flushWork();
  }

  // Writes the task rows and history rows recorded so far, for an operation that leaves
  // the instance row as it is (claiming a task).
  Status flushWork() {
    closeMicrostep();
    if (!tasks_.empty()) {
      if (Status st = tx_.writeTasks(tasks_); !st) return st;
      tasks_.clear();
    }
    Status st = tx_.appendHistory(rows_);
    rows_.clear();
    return st;
  }

  // Moves inst through op (the Boost.MSM table decides whether it may) and records one
  // lifecycle row with detail's members added. An instance that ends loses its timers and
  // its invoked children.
  Status changeLifecycle(Loaded& inst, LifecycleOp op, json::Value detail = {},
                         const std::string& actor = {}) {
    auto next = applyLifecycle(inst.lifecycle, op);
    if (!next) return next.status();
    json::Value row(json::Object{{"from", std::string(lifecycleName(inst.lifecycle))},
                                 {"to", std::string(lifecycleName(*next))}});
    if (detail.isObject()) {
      for (auto& [k, v] : detail.asObject()) row.set(k, std::move(v));
    }
    inst.lifecycle = *next;
    record(inst, "lifecycle", row, actor);
    if (!isEnded(*next)) return Status::ok();
    if (auto r = tx_.cancelAllTimers(inst.rec.id); !r) return r.status();
    Status ended =
        eachExtension(inst, [&](const step::Extension& e) { return e.instanceEnded(*this); });
    if (!ended) return ended;
    for (const scxml::Invocation& child : inst.session.invocations) {
      if (Status st = cancelChild(child.child_session_id); !st) return st;
    }
    return Status::ok();
  }

  // StepObserver: every fact of the step goes into history. A microstep is one "transition"
  // row: {"event"?, "exited": [...], "transitions": [{"source", "targets"}], "entered": [...]};
  // the initial entry is one "enter" row: {"entered": [...]}.
  void onInternalEvent(const scxml::Event& e) override {
    record(*current_, "internal", scxml::eventToJson(e), kSystemActor);
  }
  void onMicrostep(const scxml::Event* event) override {
    openMicrostep("transition");
    if (event) microstep_.set("event", event->name);
  }
  void onExit(scxml::StateIndex s) override {
    microstepList("exited").emplace_back(current_->chart->state(s).id);
    if (!current_->chart->state(s).extensions.empty()) work_.push_back({current_, false, s});
  }
  void onEnter(scxml::StateIndex s) override {
    if (!microstep_row_) openMicrostep("enter");
    microstepList("entered").emplace_back(current_->chart->state(s).id);
    if (!current_->chart->state(s).extensions.empty()) work_.push_back({current_, true, s});
  }

  // ---- task writes (tasks.cpp) ----

  // Queues a task write for commit; a later write of the same task in this operation
  // replaces it (an insert stays an insert).
  void putTask(storage::TaskRecord record, std::int64_t expected_version) override;
  // The instance's tasks as this operation leaves them (stored, then its own writes).
  Result<std::vector<storage::TaskRecord>> tasksOf(const std::string& instance_id) override;
  // A task history row: kind "task" with the task's id, name and the operation.
  void taskRow(const Loaded& inst, const storage::TaskRecord& t, std::string_view op,
               json::Value extra = {}, const std::string& actor = {});
  // A deadline's timer fired: escalate, notify and raise as the workflow says.
  Status breach(Loaded& inst, const json::Value& deadline);
  void onTransition(std::uint32_t ti, const scxml::Event*) override {
    const scxml::Transition& t = current_->chart->transition(ti);
    json::Array targets;
    for (scxml::StateIndex s : t.targets) targets.emplace_back(current_->chart->state(s).id);
    microstepList("transitions")
        .emplace_back(json::Object{{"source", current_->chart->state(t.source).id},
                                   {"targets", json::Value(std::move(targets))}});
    for (const scxml::Executable& ex : t.actions) {
      if (std::holds_alternative<scxml::ForeignNode>(ex.node)) {
        guarded_transitions_.push_back({current_, ti});
        break;
      }
    }
  }

  // ExtensionHandler: a foreign element of executable content goes to every extension.
  Status execute(const scxml::XmlElement& element, scxml::DataModel&,
                 std::vector<scxml::Action>&) override {
    for (const auto& extension : engine_.extensions_) {
      if (Status st = extension->executed(*this, element); !st) return st;
    }
    return Status::ok();
  }
  // Why the operation was refused by an extension ("" when it was not).
  const std::string& refused() const { return refused_; }

 private:
  // Starts the row of a microstep (of kind) where it stands in history; closes the last one.
  void openMicrostep(const char* kind) {
    closeMicrostep();
    microstep_row_ = rows_.size();
    microstep_ = json::Value(json::Object{});
    record(*current_, kind, json::Value());
  }
  json::Array& microstepList(const char* name) {
    if (!microstep_row_) openMicrostep("transition");
    if (!microstep_.find(name)) microstep_.set(name, json::Value(json::Array{}));
    return microstep_.find(name)->asArray();
  }
  // Writes the open microstep's detail into its row.
  void closeMicrostep() {
    if (!microstep_row_) return;
    rows_[*microstep_row_].detail = json::dump(microstep_);
    microstep_row_.reset();
  }

  Status runLocal(Loaded& inst, std::deque<scxml::Event>& local, bool first_recorded = false) {
    std::size_t handled = 0;
    Mark before = mark(inst);
    while (!local.empty() && inst.session.status == scxml::SessionStatus::kRunning &&
           !isEnded(inst.lifecycle)) {
      if (++handled > engine_.options_.max_local_events) {
        // The history of an operation that never settles is not kept: one row says why.
        undo(inst, std::move(before));
        return failInstance(
            inst, Status(ErrorCode::kResourceExhausted,
                         "more than " + std::to_string(engine_.options_.max_local_events) +
                             " self-sent events in one operation"));
      }
      scxml::Event e = std::move(local.front());
      local.pop_front();
      if (!first_recorded) record(inst, "event", scxml::eventToJson(e), kSystemActor);
      first_recorded = false;
      event_ = &e;
      Status st = macrostep(inst, local, [&](scxml::Interpreter& i, std::vector<scxml::Action>& a) {
        return i.step(inst.session, *inst.dm, e, a);
      });
      event_ = nullptr;
      if (!st) return st;
    }
    return Status::ok();
  }

  // Runs one macrostep (run(interpreter, actions)) and applies what it asked for. A macrostep
  // that does not settle (kResourceExhausted: more microsteps than the interpreter allows)
  // is undone: its history rows, queued work and renders are dropped, the session is as it
  // was before it, nothing it asked for is applied, and the instance fails with one row that
  // says why. Any other interpreter error fails the instance after what it did is applied.
  template <typename Run>
  Status macrostep(Loaded& inst, std::deque<scxml::Event>& local, Run&& run) {
    Mark before = mark(inst);
    std::vector<scxml::Action> actions;
    current_ = &inst;
    scxml::Interpreter interpreter(inst.chart);
    interpreter.setObserver(this);
    interpreter.setExtensionHandler(this);
    interpreter.setBasicHttpBase(engine_.options_.basichttp_base);
    Status st = run(interpreter, actions);
    closeMicrostep();
    if (st.code() == ErrorCode::kResourceExhausted) {
      undo(inst, std::move(before));
      return failInstance(inst, st);
    }
    if (Status applied = apply(inst, actions, local); !applied) return applied;
    if (Status settled = settleWork(inst); !settled) return settled;
    if (!st) return failInstance(inst, st);
    return Status::ok();
  }

  // Calls call(extension) on each extension in the engine's order, with inst as the instance
  // being stepped; stops at the first status that is not ok.
  template <typename Call>
  Status eachExtension(Loaded& inst, Call&& call) {
    Loaded* const outer = current_;
    current_ = &inst;
    Status st;
    for (const auto& extension : engine_.extensions_) {
      st = call(*extension);
      if (!st) break;
    }
    current_ = outer;
    return st;
  }

  // Calls the extensions on what the macrostep of inst did, in the order the interpreter
  // reported it: the guarded transitions it took, then the states it left and entered, then
  // once after it. What an extension queued and did not take, or could not because the
  // macrostep was refused, is dropped with it.
  Status settleWork(Loaded& inst) {
    Status st = settle(inst);
    for (auto& queued : pending_) queued.clear();
    return st;
  }
  Status settle(Loaded& inst) {
    for (std::size_t i = 0; i < guarded_transitions_.size();) {
      if (guarded_transitions_[i].inst != &inst) {
        ++i;
        continue;
      }
      const scxml::Transition& t = inst.chart->transition(guarded_transitions_[i].transition);
      guarded_transitions_.erase(guarded_transitions_.begin() + static_cast<std::ptrdiff_t>(i));
      Status st = eachExtension(
          inst, [&](const step::Extension& e) { return e.transitionTaken(*this, t); });
      if (!st) return st;
    }
    for (std::size_t i = 0; i < work_.size();) {
      if (work_[i].inst != &inst) {
        ++i;
        continue;
      }
      const Work w = work_[i];
      work_.erase(work_.begin() + static_cast<std::ptrdiff_t>(i));
      const scxml::State& state = inst.chart->state(w.state);
      Status st = eachExtension(inst, [&](const step::Extension& e) {
        return w.entered ? e.stateEntered(*this, state) : e.stateExited(*this, state);
      });
      if (!st) return st;
    }
    return eachExtension(inst, [&](const step::Extension& e) { return e.afterMacrostep(*this); });
  }

  // Where the step stood: undo() drops what was recorded and queued since.
  // Extensions' pending lists are empty between macrosteps (settle clears them), so a mark
  // needs no record of them: undo empties them.
  struct Mark {
    std::size_t rows;
    std::size_t work;
    std::size_t guarded;
    scxml::Session session;
  };
  Mark mark(const Loaded& inst) const {
    return Mark{rows_.size(), work_.size(), guarded_transitions_.size(), inst.session};
  }
  void undo(Loaded& inst, Mark m) {
    microstep_row_.reset();
    rows_.resize(m.rows);
    work_.resize(m.work);
    guarded_transitions_.resize(m.guarded);
    for (auto& queued : pending_) queued.clear();
    inst.session = std::move(m.session);
  }

  Status failInstance(Loaded& inst, const Status& why) {
    return changeLifecycle(inst, LifecycleOp::kFail,
                           json::Value(json::Object{{"reason", why.message()}}), kSystemActor);
  }

  Status apply(Loaded& inst, std::vector<scxml::Action>& actions, std::deque<scxml::Event>& local) {
    for (scxml::Action& a : actions) {
      Status st;
      if (auto* send = std::get_if<scxml::SendAction>(&a)) {
        st = applySend(inst, *send, local);
      } else if (auto* cancel = std::get_if<scxml::CancelSendAction>(&a)) {
        auto r = tx_.cancelTimers(inst.rec.id, cancel->sendid);
        if (!r) st = r.status();
      } else if (auto* invoke = std::get_if<scxml::InvokeAction>(&a)) {
        st = startChild(inst, *invoke, local);
      } else if (auto* cancel_invoke = std::get_if<scxml::CancelInvokeAction>(&a)) {
        st = cancelChild(cancel_invoke->child_session_id);
      } else if (auto* log = std::get_if<scxml::LogAction>(&a)) {
        record(inst, "log", json::Value(json::Object{{"label", log->label}, {"text", log->text}}),
               kSystemActor);
      } else if (auto* finished = std::get_if<scxml::FinishedAction>(&a)) {
        st = finish(inst, *finished);
      }
      if (!st) return st;
    }
    return Status::ok();
  }

  Status applySend(Loaded& inst, const scxml::SendAction& send, std::deque<scxml::Event>& local) {
    scxml::Event event = send.event;
    std::string to;
    switch (send.target) {
      case scxml::SendAction::Target::kSelf: break;
      case scxml::SendAction::Target::kParent:
        to = inst.session.parent_id;
        event.invokeid = inst.session.parent_invokeid;
        break;
      case scxml::SendAction::Target::kChild:
        for (const scxml::Invocation& inv : inst.session.invocations) {
          if (inv.invokeid == send.target_id) to = inv.child_session_id;
        }
        if (to.empty()) return Status::ok();  // the child is gone: nothing to deliver to
        break;
      case scxml::SendAction::Target::kSession: to = send.target_id; break;
      case scxml::SendAction::Target::kExternal: {
        // Delivered by the server's BasicHTTP processor from the outbox.
        json::Value payload(json::Object{{"target", send.target_id},
                                         {"type", send.type},
                                         {"sendid", send.sendid},
                                         {"delay_ms", send.delay_ms},
                                         {"event", scxml::eventToJson(event)}});
        return tx_.addOutbox(storage::OutboxRecord{0, inst.rec.id, "send.http", json::dump(payload),
                                                   now_, 0, 0, ""});
      }
    }
    if (send.delay_ms > 0) {
      auto id = tx_.addTimer(storage::TimerRecord{0, inst.rec.id, send.sendid, now_ + send.delay_ms,
                                                  timerPayload(event, to)});
      return id ? Status::ok() : id.status();
    }
    if (to.empty()) {
      local.push_back(std::move(event));
      return Status::ok();
    }
    return tx_.enqueueInbox(to, eventText(event), now_);
  }

  Status finish(Loaded& inst, const scxml::FinishedAction& finished) {
    Status st = changeLifecycle(inst, LifecycleOp::kComplete,
                                json::Value(json::Object{{"final_state", finished.final_state}}),
                                kSystemActor);
    if (!st || inst.session.parent_id.empty()) return st;
    return tx_.enqueueInbox(inst.session.parent_id,
                            eventText(scxml::doneInvokeEvent(inst.session.parent_invokeid,
                                                             inst.rec.id, finished.donedata)),
                            now_);
  }

  // <invoke>: inline content is deployed content-addressed (as "invoke/<sha256 prefix>");
  // src must name a deployed definition as "definition:NAME".
  Status startChild(Loaded& parent, const scxml::InvokeAction& action,
                    std::deque<scxml::Event>& local) {
    auto fail = [&](const std::string& why) {
      local.push_back(scxml::errorEvent("error.execution", why, {}, action.invokeid));
      return Status::ok();
    };
    Result<std::optional<storage::DefinitionRecord>> def =
        std::optional<storage::DefinitionRecord>();
    if (action.has_content) {
      std::string sha = sha256Hex(action.content);
      std::string name = "invoke/" + sha.substr(0, 16);
      def = tx_.definition(name, 0);
      if (!def) return def.status();
      if (!def->has_value()) {
        scxml::ParseResult parsed = parseDeployed(action.content, name);
        if (!parsed.ok()) return fail("invoke '" + action.invokeid + "': " + parsed.errorText());
        auto added = tx_.addDefinition(name, sha, action.content, now_);
        if (!added) return added.status();
        // Cached before commit: if this transaction rolls back, the id is simply never used
        // (neither dialect reuses ids).
        engine_.rememberChart(*added, parsed.chart);
        def = std::optional<storage::DefinitionRecord>(*added);
      }
    } else if (action.src.rfind("definition:", 0) == 0) {
      def = tx_.definition(action.src.substr(11), 0);
      if (!def) return def.status();
      if (!def->has_value()) return fail("no deployed definition '" + action.src.substr(11) + "'");
    } else {
      return fail("invoke src must name a deployed definition as definition:NAME");
    }
    const std::uint32_t max_depth = engine_.options_.max_invoke_depth;
    if (parent.session.depth + 1 > max_depth) {
      return fail("invoke '" + action.invokeid + "': invocations nest at most " +
                  std::to_string(max_depth) + " deep (this one would be level " +
                  std::to_string(parent.session.depth + 1) + ")");
    }
    Loaded child;
    child.rec.id = action.child_session_id;
    child.rec.definition_id = (*def)->id;
    child.rec.business_key = parent.rec.business_key;
    child.rec.row_version = 1;
    if (Status st = engine_.bindDefinition(tx_, child); !st) return st;
    child.session.id = child.rec.id;
    child.session.parent_id = parent.rec.id;
    child.session.parent_invokeid = action.invokeid;
    child.session.depth = parent.session.depth + 1;
    record(child, "invoked",
           json::Value(json::Object{{"parent", parent.rec.id}, {"invokeid", action.invokeid}}),
           kSystemActor);
    const json::Value* data = action.data.isObject() ? &action.data : nullptr;
    if (Status st = start(child, data, scxml::UndeclaredData::kIgnore); !st) return st;
    current_ = &parent;
    return save(child, /*insert=*/true);
  }

  Status cancelChild(const std::string& child_id) {
    auto child = engine_.load(tx_, child_id);
    if (!child)
      return child.status().code() == ErrorCode::kNotFound ? Status::ok() : child.status();
    if (isEnded(child->lifecycle)) return Status::ok();
    Status st = changeLifecycle(*child, LifecycleOp::kTerminate,
                                json::Value(json::Object{{"reason", "invocation cancelled"}}));
    if (!st) return st;
    return save(*child, /*insert=*/false);
  }

  Engine& engine_;
  storage::Transaction& tx_;
  std::string actor_;
  TimePoint now_;
  std::vector<storage::HistoryRecord> rows_;
  // The microstep being recorded: its row in rows_ (written when it closes) and its detail.
  std::optional<std::size_t> microstep_row_;
  json::Value microstep_;
  Loaded* current_ = nullptr;
  const scxml::Event* event_ = nullptr;  // the event of the macrostep being run, if any
  struct Work {
    Loaded* inst;
    bool entered;
    scxml::StateIndex state;
  };
  std::vector<Work> work_;  // states with workflow elements entered/exited
  struct Guarded {
    Loaded* inst;
    std::uint32_t transition;
  };
  std::vector<Guarded> guarded_transitions_;       // transitions taken with foreign content
  std::vector<std::vector<json::Value>> pending_;  // per extension, in the engine's order
  std::string refused_;
  std::vector<storage::TaskWrite> tasks_;  // task writes, committed with the instance
};

}  // namespace tramite::runtime
