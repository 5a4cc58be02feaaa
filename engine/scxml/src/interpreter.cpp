// The SCXML algorithm of the W3C recommendation, Appendix D, over bitset configurations.
// Function names follow the spec's pseudo-code so the two can be read side by side.
#include "tramite/scxml/interpreter.h"

#include <algorithm>
#include <deque>

#include "text_util.h"
#include "tramite/scxml/duration.h"
#include "tramite/scxml/event_match.h"

namespace tramite::scxml {

const char* eventTypeName(EventType t) {
  switch (t) {
    case EventType::kPlatform: return "platform";
    case EventType::kInternal: return "internal";
    case EventType::kExternal: return "external";
  }
  return "external";
}

Status ExtensionHandler::execute(const XmlElement&, DataModel&, std::vector<Action>&) {
  return Status::ok();
}

namespace {

bool isScxmlType(std::string_view type) {
  return type.empty() || type == "scxml" || type == kScxmlProcessorType ||
         type == "http://www.w3.org/TR/scxml/" || type == "http://www.w3.org/TR/scxml";
}

// Content given as a body: markup stays text; JSON text becomes that value; any other
// text is a space-normalised string.
json::Value bodyValue(const Content& content) {
  if (content.body_is_markup) return json::Value(content.body);
  if (auto parsed = json::parse(content.body)) return std::move(parsed).value();
  return json::Value(text::normalizeSpace(content.body));
}

}  // namespace

struct Interpreter::Scratch {
  explicit Scratch(std::size_t n)
      : states_to_invoke(n), states_to_enter(n), default_entry(n), exit_set(n), exit_a(n) {}
  StateSet states_to_invoke;
  StateSet states_to_enter;
  StateSet default_entry;
  StateSet exit_set;
  StateSet exit_a;
  std::vector<StateSet> filtered_exits;
  std::deque<Event> internal_queue;
  std::vector<std::uint32_t> enabled;
  std::vector<std::uint32_t> filtered;
  std::vector<std::pair<StateIndex, const Block*>> default_history_content;
};

// One step's worth of work on one session.
class Interpreter::Run final : public StateQuery {
 public:
  Run(Interpreter& interp, Session& session, DataModel& dm, std::vector<Action>& actions)
      : chart_(*interp.chart_),
        max_microsteps_(interp.max_microsteps_),
        extensions_(interp.extensions_),
        observer_(interp.observer_),
        basichttp_base_(interp.basichttp_base_),
        s_(*interp.scratch_),
        session_(session),
        dm_(dm),
        actions_(actions) {
    dm_.setStateQuery(this);
  }
  ~Run() override {
    dm_.setStateQuery(nullptr);
    s_.internal_queue.clear();
    s_.states_to_invoke.clear();
  }

  bool isActive(std::string_view id) const override {
    StateIndex i = chart_.find(id);
    return i != kNoState && session_.configuration.contains(i);
  }

  // Set when a macrostep ran away; the step reports it.
  const Status& outcome() const { return outcome_; }

  void start(const json::Value* initial_data, UndeclaredData undeclared) {
    std::size_t n = chart_.stateCount();
    session_.configuration.resize(n);
    session_.data_bound.resize(n);
    session_.status = SessionStatus::kRunning;

    if (Status st =
            dm_.setSystemVariables(systemVariablesFor(chart_, session_.id, basichttp_base_));
        !st) {
      raiseError("error.execution", st, "");
    }

    if (chart_.binding() == Binding::kEarly) {
      for (StateIndex i = 0; i < n; ++i)
        initializeData(i, i == kRootState ? initial_data : nullptr);
    } else {
      initializeData(kRootState, initial_data);
    }
    if (initial_data && initial_data->isObject() && undeclared == UndeclaredData::kBind) {
      bindUndeclared(*initial_data);
    }

    executeBlock(chart_.script());
    const State& root = chart_.state(kRootState);
    s_.enabled.assign(1, static_cast<std::uint32_t>(root.initial_transition));
    enterStates();
    macrostep();
    if (!running()) exitInterpreter(true);
  }

  void processExternal(const Event& event) {
    if (!running()) return;
    dm_.setEvent(event);
    // Copy: finalize content cannot exit states, but may append to the vector indirectly.
    std::vector<Invocation> invocations = session_.invocations;
    for (const Invocation& inv : invocations) {
      if (inv.invokeid == event.invokeid) {
        const Invoke& def = chart_.state(inv.state).invokes[inv.invoke_index];
        executeBlock(def.finalize);
      }
      if (inv.autoforward) {
        SendAction fwd;
        fwd.target = SendAction::Target::kChild;
        fwd.target_id = inv.invokeid;
        fwd.type = kScxmlProcessorType;
        fwd.sendid = event.sendid;
        fwd.event = event;
        actions_.push_back(std::move(fwd));
      }
    }
    selectTransitions(&event);
    if (!s_.enabled.empty()) microstep(&event);
    macrostep();
    if (!running()) exitInterpreter(true);
  }

  void cancel() {
    if (!running()) return;
    session_.status = SessionStatus::kFinished;
    exitInterpreter(false);
  }

 private:
  bool running() const { return session_.status == SessionStatus::kRunning; }

  // ---- main loop ---------------------------------------------------------------------

  void macrostep() {
    std::size_t microsteps = 0;
    while (true) {
      while (running()) {
        if (++microsteps > max_microsteps_) {
          outcome_ = Status(ErrorCode::kResourceExhausted,
                            "more than " + std::to_string(max_microsteps_) +
                                " microsteps in one macrostep: the document does not settle");
          s_.internal_queue.clear();
          return;
        }
        selectTransitions(nullptr);
        if (s_.enabled.empty()) {
          if (s_.internal_queue.empty()) break;
          Event internal = std::move(s_.internal_queue.front());
          s_.internal_queue.pop_front();
          if (observer_) observer_->onInternalEvent(internal);
          dm_.setEvent(internal);
          selectTransitions(&internal);
          if (!s_.enabled.empty()) microstep(&internal);
          continue;
        }
        microstep(nullptr);
      }
      if (!running() || !outcome_) return;
      startInvokes();
      if (s_.internal_queue.empty()) return;
    }
  }

  // Exits every active state. The stored configuration keeps what was active when the
  // session ended (e.g. the final state reached), which is what callers inspect afterwards.
  void exitInterpreter(bool report_done) {
    session_.status = SessionStatus::kFinished;
    StateSet final_configuration = session_.configuration;
    std::vector<StateIndex> to_exit;
    session_.configuration.forEachReverse([&](StateIndex s) { to_exit.push_back(s); });
    for (StateIndex s : to_exit) {
      const State& st = chart_.state(s);
      for (const Block& b : st.onexit) executeBlock(b);
      cancelInvokesOf(s);
      session_.configuration.remove(s);
      if (report_done && st.kind == StateKind::kFinal && st.parent == kRootState) {
        actions_.push_back(FinishedAction{st.id, evaluateDoneData(st.donedata)});
      }
    }
    s_.internal_queue.clear();
    session_.configuration = std::move(final_configuration);
  }

  // ---- transition selection --------------------------------------------------------------

  bool conditionHolds(const Transition& t) {
    if (t.cond.empty()) return true;
    Result<bool> r = dm_.evaluateCondition(t.cond);
    if (!r) {
      raiseError("error.execution", r.status(), "");
      return false;
    }
    return *r;
  }

  // Fills s_.enabled with the optimal enabled transition set for event (null: eventless).
  void selectTransitions(const Event* event) {
    s_.enabled.clear();
    session_.configuration.forEach([&](StateIndex atomic) {
      if (!chart_.state(atomic).isAtomic()) return;
      for (StateIndex st = atomic; st != kRootState && st != kNoState;
           st = chart_.state(st).parent) {
        for (std::uint32_t ti : chart_.state(st).transitions) {
          const Transition& t = chart_.transition(ti);
          if (event == nullptr) {
            if (!t.isEventless()) continue;
          } else {
            if (t.isEventless()) continue;
            bool match = false;
            for (const std::string& d : t.events) {
              if (descriptorMatches(d, event->name)) {
                match = true;
                break;
              }
            }
            if (!match) continue;
          }
          if (!conditionHolds(t)) continue;
          if (std::find(s_.enabled.begin(), s_.enabled.end(), ti) == s_.enabled.end()) {
            s_.enabled.push_back(ti);
          }
          return;
        }
      }
    });
    if (s_.enabled.size() > 1) removeConflictingTransitions();
  }

  void removeConflictingTransitions() {
    // filtered and filtered_exits stay parallel: a kept transition and its exit set.
    s_.filtered.clear();
    s_.filtered_exits.clear();
    std::vector<std::size_t> to_remove;
    for (std::uint32_t t1 : s_.enabled) {
      computeExitSet(&t1, 1, s_.exit_a);
      bool preempted = false;
      to_remove.clear();
      for (std::size_t j = 0; j < s_.filtered.size(); ++j) {
        if (!s_.exit_a.intersects(s_.filtered_exits[j])) continue;
        if (chart_.isDescendant(chart_.transition(t1).source,
                                chart_.transition(s_.filtered[j]).source)) {
          to_remove.push_back(j);
        } else {
          preempted = true;
          break;
        }
      }
      if (preempted) continue;
      for (auto it = to_remove.rbegin(); it != to_remove.rend(); ++it) {
        s_.filtered.erase(s_.filtered.begin() + static_cast<std::ptrdiff_t>(*it));
        s_.filtered_exits.erase(s_.filtered_exits.begin() + static_cast<std::ptrdiff_t>(*it));
      }
      s_.filtered.push_back(t1);
      s_.filtered_exits.push_back(s_.exit_a);
    }
    s_.enabled.swap(s_.filtered);
  }

  // ---- microstep ---------------------------------------------------------------------

  void microstep(const Event* event) {
    if (observer_) observer_->onMicrostep(event);
    exitStates();
    for (std::uint32_t ti : s_.enabled) {
      if (observer_) observer_->onTransition(ti, event);
      executeBlock(chart_.transition(ti).actions);
    }
    enterStates();
  }

  void effectiveTargetStates(const Transition& t, std::vector<StateIndex>& out) const {
    for (StateIndex target : t.targets) {
      const State& st = chart_.state(target);
      if (st.kind != StateKind::kHistory) {
        if (std::find(out.begin(), out.end(), target) == out.end()) out.push_back(target);
        continue;
      }
      if (const auto* stored = historyValue(target)) {
        for (StateIndex s : *stored) {
          if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
        }
      } else if (st.initial_transition >= 0) {
        effectiveTargetStates(chart_.transition(static_cast<std::uint32_t>(st.initial_transition)),
                              out);
      } else {
        defaultTargetsOf(st.parent, out);
      }
    }
  }

  // Default entry of a state: its initial transition's targets, or all regions of a parallel.
  void defaultTargetsOf(StateIndex s, std::vector<StateIndex>& out) const {
    const State& st = chart_.state(s);
    if (st.kind == StateKind::kParallel) {
      for (StateIndex c : st.children) out.push_back(c);
    } else if (st.initial_transition >= 0) {
      for (StateIndex c :
           chart_.transition(static_cast<std::uint32_t>(st.initial_transition)).targets) {
        out.push_back(c);
      }
    }
  }

  StateIndex transitionDomain(const Transition& t) const {
    if (t.targets.empty()) return kNoState;
    if (t.source == kRootState) return kRootState;
    if (!t.targets_history) return t.static_domain;
    std::vector<StateIndex> targets;
    effectiveTargetStates(t, targets);
    return chart_.transitionDomain(t.source, t.type, targets);
  }

  void computeExitSet(const std::uint32_t* transitions, std::size_t count, StateSet& out) const {
    out.clear();
    for (std::size_t i = 0; i < count; ++i) {
      const Transition& t = chart_.transition(transitions[i]);
      if (t.targets.empty()) continue;
      StateIndex domain = transitionDomain(t);
      StateIndex last = chart_.state(domain).last_descendant;
      session_.configuration.forEach([&](StateIndex s) {
        if (s > domain && s <= last) out.add(s);
      });
    }
  }

  void exitStates() {
    computeExitSet(s_.enabled.data(), s_.enabled.size(), s_.exit_set);
    if (s_.exit_set.empty()) return;
    s_.exit_set.forEach([&](StateIndex s) { s_.states_to_invoke.remove(s); });
    // Record history before any state is left.
    s_.exit_set.forEach([&](StateIndex s) {
      for (StateIndex h : chart_.state(s).history_children) {
        std::vector<StateIndex> value;
        bool deep = chart_.state(h).history_type == HistoryType::kDeep;
        session_.configuration.forEach([&](StateIndex c) {
          if (deep ? (chart_.state(c).isAtomic() && chart_.isDescendant(c, s))
                   : chart_.state(c).parent == s) {
            value.push_back(c);
          }
        });
        setHistoryValue(h, std::move(value));
      }
    });
    std::vector<StateIndex> order;
    s_.exit_set.forEachReverse([&](StateIndex s) { order.push_back(s); });
    for (StateIndex s : order) {
      if (observer_) observer_->onExit(s);
      for (const Block& b : chart_.state(s).onexit) executeBlock(b);
      cancelInvokesOf(s);
      session_.configuration.remove(s);
    }
  }

  void enterStates() {
    s_.states_to_enter.clear();
    s_.default_entry.clear();
    s_.default_history_content.clear();
    for (std::uint32_t ti : s_.enabled) {
      const Transition& t = chart_.transition(ti);
      for (StateIndex target : t.targets) addDescendantStatesToEnter(target);
      StateIndex domain = transitionDomain(t);
      std::vector<StateIndex> targets;
      effectiveTargetStates(t, targets);
      for (StateIndex target : targets) addAncestorStatesToEnter(target, domain);
    }
    std::vector<StateIndex> order;
    s_.states_to_enter.forEach([&](StateIndex s) { order.push_back(s); });
    for (StateIndex s : order) {
      const State& st = chart_.state(s);
      if (observer_) observer_->onEnter(s);
      session_.configuration.add(s);
      s_.states_to_invoke.add(s);
      if (chart_.binding() == Binding::kLate && !session_.data_bound.contains(s)) {
        initializeData(s, nullptr);
      }
      for (const Block& b : st.onentry) executeBlock(b);
      if (s_.default_entry.contains(s)) {
        executeBlock(chart_.transition(static_cast<std::uint32_t>(st.initial_transition)).actions);
      }
      for (const auto& [owner, content] : s_.default_history_content) {
        if (owner == s) executeBlock(*content);
      }
      if (st.kind != StateKind::kFinal) continue;
      if (st.parent == kRootState) {
        session_.status = SessionStatus::kFinished;
        // Keep the final state in the configuration until exitInterpreter runs.
        continue;
      }
      const State& parent = chart_.state(st.parent);
      enqueueInternal("done.state." + parent.id, evaluateDoneData(st.donedata),
                      EventType::kInternal);
      if (parent.parent != kNoState && chart_.state(parent.parent).kind == StateKind::kParallel) {
        const State& grandparent = chart_.state(parent.parent);
        bool all = std::all_of(grandparent.children.begin(), grandparent.children.end(),
                               [&](StateIndex c) { return isInFinalState(c); });
        if (all) enqueueInternal("done.state." + grandparent.id, {}, EventType::kInternal);
      }
    }
    // A finished session leaves its loop: mirror the spec's running=false.
  }

  void addDescendantStatesToEnter(StateIndex s) {
    const State& st = chart_.state(s);
    if (st.kind == StateKind::kHistory) {
      if (const auto* stored = historyValue(s)) {
        std::vector<StateIndex> copy = *stored;
        for (StateIndex c : copy) addDescendantStatesToEnter(c);
        for (StateIndex c : copy) addAncestorStatesToEnter(c, st.parent);
        return;
      }
      std::vector<StateIndex> targets;
      if (st.initial_transition >= 0) {
        const Transition& t = chart_.transition(static_cast<std::uint32_t>(st.initial_transition));
        s_.default_history_content.emplace_back(st.parent, &t.actions);
        targets = t.targets;
      } else {
        defaultTargetsOf(st.parent, targets);
      }
      for (StateIndex c : targets) addDescendantStatesToEnter(c);
      for (StateIndex c : targets) addAncestorStatesToEnter(c, st.parent);
      return;
    }
    s_.states_to_enter.add(s);
    if (st.kind == StateKind::kCompound) {
      s_.default_entry.add(s);
      const Transition& t = chart_.transition(static_cast<std::uint32_t>(st.initial_transition));
      for (StateIndex c : t.targets) addDescendantStatesToEnter(c);
      for (StateIndex c : t.targets) addAncestorStatesToEnter(c, s);
    } else if (st.kind == StateKind::kParallel) {
      addMissingRegions(st);
    }
  }

  void addMissingRegions(const State& parallel) {
    for (StateIndex child : parallel.children) {
      StateIndex last = chart_.state(child).last_descendant;
      bool covered = last > child && s_.states_to_enter.anyInRange(child + 1, last);
      if (!covered) addDescendantStatesToEnter(child);
    }
  }

  void addAncestorStatesToEnter(StateIndex s, StateIndex ancestor) {
    for (StateIndex anc = chart_.state(s).parent;
         anc != ancestor && anc != kNoState && anc != kRootState; anc = chart_.state(anc).parent) {
      s_.states_to_enter.add(anc);
      const State& st = chart_.state(anc);
      if (st.kind == StateKind::kParallel) addMissingRegions(st);
    }
  }

  bool isInFinalState(StateIndex s) const {
    const State& st = chart_.state(s);
    if (st.kind == StateKind::kCompound) {
      return std::any_of(st.children.begin(), st.children.end(), [&](StateIndex c) {
        return chart_.state(c).kind == StateKind::kFinal && session_.configuration.contains(c);
      });
    }
    if (st.kind == StateKind::kParallel) {
      return std::all_of(st.children.begin(), st.children.end(),
                         [&](StateIndex c) { return isInFinalState(c); });
    }
    return false;
  }

  // ---- history -----------------------------------------------------------------------

  const std::vector<StateIndex>* historyValue(StateIndex h) const {
    for (const auto& [state, value] : session_.history) {
      if (state == h) return &value;
    }
    return nullptr;
  }

  void setHistoryValue(StateIndex h, std::vector<StateIndex> value) {
    for (auto& [state, stored] : session_.history) {
      if (state == h) {
        stored = std::move(value);
        return;
      }
    }
    session_.history.emplace_back(h, std::move(value));
  }

  // ---- data --------------------------------------------------------------------------

  void initializeData(StateIndex s, const json::Value* overrides) {
    session_.data_bound.add(s);
    for (const DataDecl& d : chart_.state(s).data) {
      const json::Value* override_value = overrides ? overrides->find(d.id) : nullptr;
      if (d.src_failed && !override_value) {
        Status st(ErrorCode::kInvalidArgument, "cannot load data src '" + d.src + "'");
        (void)dm_.declare(DataDecl{d.id, {}, {}, false, false, {}, d.line}, nullptr);
        raiseError("error.execution", st, "");
        continue;
      }
      if (Status st = dm_.declare(d, override_value); !st) raiseError("error.execution", st, "");
    }
  }

  // Initial data members with no matching top-level <data> become variables too.
  void bindUndeclared(const json::Value& initial) {
    const auto& declared = chart_.state(kRootState).data;
    for (const json::Member& member : initial.asObject()) {
      bool found = std::any_of(declared.begin(), declared.end(),
                               [&](const DataDecl& d) { return d.id == member.first; });
      if (found) continue;
      Expr location;
      location.text = member.first;
      if (Status st = dm_.assignValue(location, member.second); !st) {
        raiseError("error.execution", st, "");
      }
    }
  }

  json::Value evaluateDoneData(const DoneData& dd) {
    if (!dd.present) return {};
    if (dd.content.present) {
      if (dd.content.expr.empty()) return bodyValue(dd.content);
      Result<json::Value> v = dm_.evaluate(dd.content.expr);
      if (!v) {
        raiseError("error.execution", v.status(), "");
        return {};
      }
      return std::move(v).value();
    }
    json::Value out;
    if (!evaluateParams(dd.params, {}, out)) return {};
    return out;
  }

  // Namelist and params into an object; on error raises error.execution and returns false.
  bool evaluateParams(const std::vector<Param>& params, const std::vector<Expr>& namelist,
                      json::Value& out, const std::string& sendid = {}) {
    for (const Expr& name : namelist) {
      Result<json::Value> v = dm_.evaluate(name);
      if (!v) {
        raiseError("error.execution", v.status(), sendid);
        return false;
      }
      out.set(name.text, std::move(v).value());
    }
    for (const Param& p : params) {
      Result<json::Value> v = dm_.evaluate(p.expr.empty() ? p.location : p.expr);
      if (!v) {
        raiseError("error.execution", v.status(), sendid);
        return false;
      }
      if (out.isNull()) out = json::Value(json::Object{});
      // Repeated names are kept (5.10.1); the object keeps the first, a JSON limitation.
      if (!out.find(p.name)) out.set(p.name, std::move(v).value());
    }
    return true;
  }

  // ---- events ------------------------------------------------------------------------

  void enqueueInternal(std::string name, json::Value data, EventType type) {
    Event e;
    e.name = std::move(name);
    e.type = type;
    e.data = std::move(data);
    s_.internal_queue.push_back(std::move(e));
  }

  void raiseError(const char* name, const Status& cause, const std::string& sendid) {
    s_.internal_queue.push_back(errorEvent(name, cause.message(), sendid));
  }

  std::string generateId() { return session_.id + "." + std::to_string(session_.next_id++); }

  // ---- executable content ------------------------------------------------------------

  // Runs a block; stops at the first failing element (which has raised its error event).
  bool executeBlock(const Block& block) {
    for (const Executable& ex : block) {
      if (!execute(ex)) return false;
    }
    return true;
  }

  bool fail(const Status& st) {
    raiseError("error.execution", st, "");
    return false;
  }

  bool execute(const Executable& ex) {
    switch (ex.node.index()) {
      case 0: {  // raise
        enqueueInternal(std::get<RaiseNode>(ex.node).event, {}, EventType::kInternal);
        return true;
      }
      case 1: return executeSend(std::get<SendNode>(ex.node));
      case 2: {  // cancel
        const auto& c = std::get<CancelNode>(ex.node);
        std::string id = c.sendid;
        if (!c.sendidexpr.empty()) {
          Result<std::string> r = dm_.evaluateString(c.sendidexpr);
          if (!r) return fail(r.status());
          id = *r;
        }
        actions_.push_back(CancelSendAction{std::move(id)});
        return true;
      }
      case 3: {  // log
        const auto& l = std::get<LogNode>(ex.node);
        LogAction log{l.label, {}};
        if (!l.expr.empty()) {
          Result<json::Value> v = dm_.evaluate(l.expr);
          if (!v) return fail(v.status());
          log.text = v->isString() ? v->asString() : json::dump(*v);
        }
        actions_.push_back(std::move(log));
        return true;
      }
      case 4: {  // assign
        const auto& a = std::get<AssignNode>(ex.node);
        Status st = a.content.present ? dm_.assignContent(a.location, a.content)
                                      : dm_.assign(a.location, a.expr);
        return st ? true : fail(st);
      }
      case 5: {  // if
        for (const IfBranch& branch : std::get<IfNode>(ex.node).branches) {
          if (!branch.cond.empty()) {
            Result<bool> r = dm_.evaluateCondition(branch.cond);
            if (!r) return fail(r.status());
            if (!*r) continue;
          }
          return executeBlock(branch.body);
        }
        return true;
      }
      case 6: {  // foreach
        const auto& f = std::get<ForeachNode>(ex.node);
        bool body_ok = true;
        Status st = dm_.forEach(f.array, f.item, f.index, [&] {
          body_ok = executeBlock(*f.body);
          return body_ok;
        });
        if (!st) return fail(st);
        return body_ok;
      }
      case 7: {  // script
        Status st = dm_.runScript(std::get<ScriptNode>(ex.node).source);
        return st ? true : fail(st);
      }
      case 8: {  // foreign element
        if (extensions_ == nullptr) return true;
        Status st = extensions_->execute(std::get<ForeignNode>(ex.node).element, dm_, actions_);
        return st ? true : fail(st);
      }
    }
    return true;
  }

  bool evalStringAttr(const std::string& literal, const Expr& expr, std::string& out) {
    if (expr.empty()) {
      out = literal;
      return true;
    }
    Result<std::string> r = dm_.evaluateString(expr);
    if (!r) return fail(r.status());
    out = std::move(r).value();
    return true;
  }

  bool executeSend(const SendNode& s) {
    std::string name;
    std::string target;
    std::string type;
    if (!evalStringAttr(s.event, s.eventexpr, name)) return false;
    if (!evalStringAttr(s.target, s.targetexpr, target)) return false;
    if (!evalStringAttr(s.type, s.typeexpr, type)) return false;

    std::string sendid = s.id;
    bool explicit_id = !s.id.empty();
    if (sendid.empty()) {
      sendid = generateId();
      if (!s.idlocation.empty()) {
        explicit_id = true;
        if (Status st = dm_.assignValue(s.idlocation, json::Value(sendid)); !st) return fail(st);
      }
    }
    std::int64_t delay = s.delay_ms < 0 ? 0 : s.delay_ms;
    if (!s.delayexpr.empty()) {
      Result<std::string> r = dm_.evaluateString(s.delayexpr);
      if (!r) return fail(r.status());
      auto ms = parseDurationMs(*r);
      if (!ms) {
        return fail(Status(ErrorCode::kInvalidArgument, "invalid delay '" + *r + "'"));
      }
      delay = *ms;
    }

    Event ev;
    ev.name = std::move(name);
    ev.type = EventType::kExternal;
    if (explicit_id) ev.sendid = sendid;
    ev.origin = "#_scxml_" + session_.id;
    ev.origintype = kScxmlProcessorType;
    if (s.content.present) {
      if (s.content.expr.empty()) {
        ev.data = bodyValue(s.content);
      } else {
        Result<json::Value> v = dm_.evaluate(s.content.expr);
        if (!v) {
          raiseError("error.execution", v.status(), sendid);
          return false;
        }
        ev.data = std::move(v).value();
      }
    } else if (!evaluateParams(s.params, s.namelist, ev.data, sendid)) {
      return false;
    }

    auto errorFor = [&](const char* event_name, std::string message) {
      raiseError(event_name, Status(ErrorCode::kInvalidArgument, std::move(message)), sendid);
      return false;
    };
    if (type == kBasicHttpProcessorType) {
      // Delivered by the host's BasicHTTP processor (SCXML C.2); it needs a target URL.
      if (target.empty()) {
        return errorFor("error.communication", "a BasicHTTP send needs a target URL");
      }
      SendAction action;
      action.target = SendAction::Target::kExternal;
      action.target_id = std::move(target);
      action.type = kBasicHttpProcessorType;
      action.sendid = sendid;
      action.delay_ms = delay;
      action.event = std::move(ev);
      actions_.push_back(std::move(action));
      return true;
    }
    if (!isScxmlType(type)) {
      return errorFor("error.execution", "send type '" + type + "' is not supported");
    }
    if (delay > 0 && target == "#_internal") {
      return errorFor("error.execution", "a send to #_internal cannot be delayed");
    }

    SendAction action;
    action.type = kScxmlProcessorType;
    action.sendid = sendid;
    action.delay_ms = delay;
    if (target.empty()) {
      action.target = SendAction::Target::kSelf;
    } else if (target == "#_internal") {
      ev.type = EventType::kInternal;
      s_.internal_queue.push_back(std::move(ev));
      return true;
    } else if (target == "#_parent") {
      if (session_.parent_id.empty()) {
        return errorFor("error.communication", "this session has no parent");
      }
      action.target = SendAction::Target::kParent;
      action.target_id = session_.parent_id;
    } else if (target.rfind("#_scxml_", 0) == 0) {
      std::string id = target.substr(8);
      if (id == session_.id) {
        action.target = SendAction::Target::kSelf;
      } else if (!session_.parent_id.empty() && id == session_.parent_id) {
        action.target = SendAction::Target::kParent;
        action.target_id = id;
      } else if (const Invocation* inv = findInvocationBySession(id)) {
        action.target = SendAction::Target::kChild;
        action.target_id = inv->invokeid;
      } else {
        return errorFor("error.communication", "no session '" + id + "' is reachable");
      }
    } else if (target.rfind("#_", 0) == 0) {
      std::string invokeid = target.substr(2);
      if (findInvocation(invokeid) == nullptr) {
        return errorFor("error.communication", "no active invocation '" + invokeid + "'");
      }
      action.target = SendAction::Target::kChild;
      action.target_id = invokeid;
    } else {
      return errorFor("error.execution", "send target '" + target + "' is not valid");
    }
    action.event = std::move(ev);
    actions_.push_back(std::move(action));
    return true;
  }

  // ---- invoke ------------------------------------------------------------------------

  const Invocation* findInvocation(const std::string& invokeid) const {
    for (const Invocation& inv : session_.invocations) {
      if (inv.invokeid == invokeid) return &inv;
    }
    return nullptr;
  }

  const Invocation* findInvocationBySession(const std::string& child_id) const {
    for (const Invocation& inv : session_.invocations) {
      if (inv.child_session_id == child_id) return &inv;
    }
    return nullptr;
  }

  void cancelInvokesOf(StateIndex s) {
    if (chart_.state(s).invokes.empty()) return;
    auto& invs = session_.invocations;
    for (auto it = invs.begin(); it != invs.end();) {
      if (it->state == s) {
        actions_.push_back(CancelInvokeAction{it->invokeid, it->child_session_id});
        it = invs.erase(it);
      } else {
        ++it;
      }
    }
  }

  void startInvokes() {
    if (!chart_.hasInvokes()) {
      s_.states_to_invoke.clear();
      return;
    }
    std::vector<StateIndex> states;
    s_.states_to_invoke.forEach([&](StateIndex s) { states.push_back(s); });
    s_.states_to_invoke.clear();
    for (StateIndex s : states) {
      const State& st = chart_.state(s);
      for (std::uint32_t i = 0; i < st.invokes.size(); ++i) startInvoke(s, i);
    }
  }

  void startInvoke(StateIndex s, std::uint32_t index) {
    const Invoke& inv = chart_.state(s).invokes[index];
    InvokeAction action;
    action.invokeid = inv.id;
    if (action.invokeid.empty()) {
      // Unique within the session, which is all an invokeid needs: the child's session id
      // puts the parent's id in front once, so ids grow by one part per level of nesting.
      action.invokeid = chart_.state(s).id + "." + std::to_string(session_.next_id++);
      if (!inv.idlocation.empty()) {
        Status st = dm_.assignValue(inv.idlocation, json::Value(action.invokeid));
        if (!st) {
          fail(st);
          return;
        }
      }
    }
    if (!evalStringAttr(inv.type, inv.typeexpr, action.type)) return;
    if (!isScxmlType(action.type)) {
      fail(Status(ErrorCode::kInvalidArgument,
                  "invoke type '" + action.type + "' is not supported"));
      return;
    }
    action.type = "http://www.w3.org/TR/scxml/";
    if (!evalStringAttr(inv.src, inv.srcexpr, action.src)) return;
    if (inv.content.present) {
      action.has_content = true;
      if (inv.content.expr.empty()) {
        action.content = inv.content.body;
      } else {
        Result<json::Value> v = dm_.evaluate(inv.content.expr);
        if (!v) {
          fail(v.status());
          return;
        }
        action.content = v->isString() ? v->asString() : json::dump(*v);
      }
    }
    if (!evaluateParams(inv.params, inv.namelist, action.data)) return;
    action.autoforward = inv.autoforward;
    action.child_session_id = session_.id + "." + action.invokeid;
    session_.invocations.push_back(
        Invocation{action.invokeid, action.child_session_id, s, index, inv.autoforward});
    actions_.push_back(std::move(action));
  }

  const Chart& chart_;
  std::size_t max_microsteps_;
  ExtensionHandler* extensions_;
  StepObserver* observer_;
  const std::string& basichttp_base_;
  Scratch& s_;
  Status outcome_;
  Session& session_;
  DataModel& dm_;
  std::vector<Action>& actions_;
};

Interpreter::Interpreter(ChartPtr chart, std::size_t max_microsteps)
    : chart_(std::move(chart)),
      max_microsteps_(max_microsteps),
      scratch_(std::make_unique<Scratch>(chart_->stateCount())) {}

Interpreter::~Interpreter() = default;

Status Interpreter::start(Session& session, DataModel& dm, std::vector<Action>& actions,
                          const json::Value* initial_data, UndeclaredData undeclared) {
  Run run(*this, session, dm, actions);
  run.start(initial_data, undeclared);
  return run.outcome();
}

Status Interpreter::step(Session& session, DataModel& dm, const Event& event,
                         std::vector<Action>& actions) {
  Run run(*this, session, dm, actions);
  run.processExternal(event);
  return run.outcome();
}

void Interpreter::cancel(Session& session, DataModel& dm, std::vector<Action>& actions) {
  Run run(*this, session, dm, actions);
  run.cancel();
}

std::vector<std::string> activeAtomicStates(const Chart& chart, const Session& session) {
  std::vector<std::string> out;
  session.configuration.forEach([&](StateIndex s) {
    if (chart.state(s).isAtomic()) out.push_back(chart.state(s).id);
  });
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Interpreter::activeAtomicStates(const Session& session) const {
  return scxml::activeAtomicStates(*chart_, session);
}

StepResult step(const ChartPtr& chart, Session session, const Event& event, DataModel& dm) {
  Interpreter interpreter(chart);
  StepResult result;
  result.status = interpreter.step(session, dm, event, result.actions);
  result.session = std::move(session);
  return result;
}

}  // namespace tramite::scxml
