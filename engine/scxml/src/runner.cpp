#include "tramite/scxml/runner.h"

#include <algorithm>

namespace tramite::scxml {

struct Runner::Instance {
  ChartPtr chart;
  std::unique_ptr<Interpreter> interpreter;
  std::unique_ptr<DataModel> dm;
  Session session;
  std::string final_state;
};

Runner::Runner() : Runner(Options{}) {}
Runner::Runner(Options options) : options_(std::move(options)) {}
Runner::~Runner() = default;

Runner::Instance* Runner::find(const std::string& id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second.get();
}

Result<std::string> Runner::start(const ChartPtr& chart, const json::Value* data,
                                  std::string session_id) {
  auto dm = createDataModel(chart);
  if (!dm) return dm.status();
  if (session_id.empty()) session_id = "s" + std::to_string(next_session_++);
  auto inst = std::make_unique<Instance>();
  inst->chart = chart;
  inst->interpreter = std::make_unique<Interpreter>(chart);
  inst->interpreter->setBasicHttpBase(options_.basichttp_base);
  inst->dm = std::move(dm).value();
  inst->session.id = session_id;
  Instance& ref = *inst;
  instances_[session_id] = std::move(inst);
  std::vector<Action> actions;
  Status st = ref.interpreter->start(ref.session, *ref.dm, actions, data);
  apply(ref, actions);
  if (!st) return st;
  return session_id;
}

Status Runner::send(const std::string& session_id, Event event) {
  if (!find(session_id)) {
    return Status(ErrorCode::kNotFound, "no session '" + session_id + "'");
  }
  queue_.emplace_back(session_id, std::move(event));
  return Status::ok();
}

Status Runner::runUntilIdle() {
  std::size_t processed = 0;
  while (!queue_.empty()) {
    if (++processed > options_.max_events_per_run) {
      queue_.clear();
      return Status(ErrorCode::kResourceExhausted,
                    "more than " + std::to_string(options_.max_events_per_run) +
                        " events in one run: the document does not settle");
    }
    auto [id, event] = std::move(queue_.front());
    queue_.pop_front();
    Instance* inst = find(id);
    if (!inst || inst->session.status != SessionStatus::kRunning) continue;
    std::vector<Action> actions;
    Status st = inst->interpreter->step(inst->session, *inst->dm, event, actions);
    apply(*inst, actions);
    if (!st) {
      queue_.clear();
      return st;
    }
  }
  return Status::ok();
}

void Runner::apply(Instance& from, std::vector<Action>& actions) {
  // Copy what we need: applying actions may destroy other instances (never `from`).
  const std::string from_id = from.session.id;
  for (Action& a : actions) {
    if (auto* send = std::get_if<SendAction>(&a)) {
      if (send->delay_ms > 0) {
        timers_.insert(Timer{clock_.nowMs() + send->delay_ms, next_seq_++, from_id, *send});
      } else {
        deliver(from_id, *send);
      }
    } else if (auto* cancel = std::get_if<CancelSendAction>(&a)) {
      for (auto it = timers_.begin(); it != timers_.end();) {
        if (it->from == from_id && it->action.sendid == cancel->sendid) {
          it = timers_.erase(it);
        } else {
          ++it;
        }
      }
    } else if (auto* invoke = std::get_if<InvokeAction>(&a)) {
      Instance* self = find(from_id);
      if (self) startChild(*self, *invoke);
    } else if (auto* cancel_invoke = std::get_if<CancelInvokeAction>(&a)) {
      destroy(cancel_invoke->child_session_id);
    } else if (auto* log = std::get_if<LogAction>(&a)) {
      if (options_.on_log) options_.on_log(from_id, *log);
    } else if (auto* finished = std::get_if<FinishedAction>(&a)) {
      Instance* self = find(from_id);
      if (!self) continue;
      self->final_state = finished->final_state;
      // A finished session's pending delayed events are discarded.
      for (auto it = timers_.begin(); it != timers_.end();) {
        it = it->from == from_id ? timers_.erase(it) : std::next(it);
      }
      if (!self->session.parent_id.empty()) {
        queue_.emplace_back(self->session.parent_id, doneInvokeEvent(self->session.parent_invokeid,
                                                                     from_id, finished->donedata));
      }
    }
  }
}

void Runner::deliver(const std::string& from, const SendAction& action) {
  Instance* sender = find(from);
  Event event = action.event;
  std::string target;
  switch (action.target) {
    case SendAction::Target::kSelf: target = from; break;
    case SendAction::Target::kParent:
      if (!sender) return;
      target = sender->session.parent_id;
      event.invokeid = sender->session.parent_invokeid;
      break;
    case SendAction::Target::kChild:
      if (!sender) return;
      for (const Invocation& inv : sender->session.invocations) {
        if (inv.invokeid == action.target_id) target = inv.child_session_id;
      }
      break;
    case SendAction::Target::kSession: target = action.target_id; break;
    case SendAction::Target::kExternal: {
      Status sent =
          options_.external_send
              ? options_.external_send(from, action)
              : Status(ErrorCode::kUnavailable, "no " + action.type + " processor in this host");
      if (!sent) {
        queue_.emplace_back(from, errorEvent("error.communication", sent.message(), action.sendid));
      }
      return;
    }
  }
  if (target.empty() || !find(target)) return;
  queue_.emplace_back(target, std::move(event));
}

void Runner::startChild(Instance& parent, const InvokeAction& action) {
  ParseResult parsed;
  if (action.has_content) {
    parsed = parseString(action.content, parent.chart->sourceName() + "#" + action.invokeid,
                         parent.chart->baseDir(), options_.parse);
  } else {
    std::string text;
    std::string why;
    if (!readLocalReference(action.src, parent.chart->baseDir(), &text, &why)) {
      parsed.errors.push_back(Diagnostic{action.src, 0, why});
    } else {
      std::string path = action.src;
      parsed = parseString(text, path, parent.chart->baseDir(), options_.parse);
    }
  }
  auto fail = [&](const std::string& message) {
    queue_.emplace_back(parent.session.id,
                        errorEvent("error.execution", message, {}, action.invokeid));
  };
  if (!parsed.ok()) {
    fail("invoke '" + action.invokeid + "' failed: " + parsed.errorText());
    return;
  }
  auto dm = createDataModel(parsed.chart);
  if (!dm) {
    fail(dm.status().message());
    return;
  }
  auto inst = std::make_unique<Instance>();
  inst->chart = parsed.chart;
  inst->interpreter = std::make_unique<Interpreter>(parsed.chart);
  inst->interpreter->setBasicHttpBase(options_.basichttp_base);
  inst->dm = std::move(dm).value();
  inst->session.id = action.child_session_id;
  inst->session.parent_id = parent.session.id;
  inst->session.parent_invokeid = action.invokeid;
  Instance& child = *inst;
  instances_[action.child_session_id] = std::move(inst);
  std::vector<Action> actions;
  const json::Value* data = action.data.isObject() ? &action.data : nullptr;
  Status st =
      child.interpreter->start(child.session, *child.dm, actions, data, UndeclaredData::kIgnore);
  apply(child, actions);
  if (!st) fail("invoked session '" + action.child_session_id + "': " + st.message());
}

void Runner::destroy(const std::string& id) {
  Instance* inst = find(id);
  if (!inst) return;
  std::vector<std::string> children;
  for (const Invocation& inv : inst->session.invocations) children.push_back(inv.child_session_id);
  if (inst->session.status == SessionStatus::kRunning) {
    std::vector<Action> ignored;  // a cancelled session's sends go nowhere
    inst->interpreter->cancel(inst->session, *inst->dm, ignored);
  }
  for (auto it = timers_.begin(); it != timers_.end();) {
    it = it->from == id ? timers_.erase(it) : std::next(it);
  }
  queue_.erase(
      std::remove_if(queue_.begin(), queue_.end(), [&](const auto& q) { return q.first == id; }),
      queue_.end());
  instances_.erase(id);
  for (const auto& c : children) destroy(c);
}

void Runner::fire(const Timer& t) {
  deliver(t.from, t.action);
}

Status Runner::advance(std::int64_t ms) {
  TimePoint target = clock_.nowMs() + ms;
  while (!timers_.empty() && timers_.begin()->due <= target) {
    Timer t = *timers_.begin();
    timers_.erase(timers_.begin());
    clock_.set(std::max(clock_.nowMs(), t.due));
    fire(t);
    if (Status st = runUntilIdle(); !st) return st;
  }
  clock_.set(target);
  return Status::ok();
}

Result<bool> Runner::advanceToNextTimer() {
  if (timers_.empty()) return false;
  TimePoint due = timers_.begin()->due;
  if (Status st = advance(std::max<std::int64_t>(0, due - clock_.nowMs())); !st) return st;
  return true;
}

bool Runner::isFinished(const std::string& id) const {
  const Instance* inst = find(id);
  return inst && inst->session.status == SessionStatus::kFinished;
}

std::string Runner::finalState(const std::string& id) const {
  const Instance* inst = find(id);
  return inst ? inst->final_state : std::string();
}

std::vector<std::string> Runner::configuration(const std::string& id) const {
  const Instance* inst = find(id);
  if (!inst) return {};
  return inst->interpreter->activeAtomicStates(inst->session);
}

const Session* Runner::session(const std::string& id) const {
  const Instance* inst = find(id);
  return inst ? &inst->session : nullptr;
}

const DataModel* Runner::dataModel(const std::string& id) const {
  const Instance* inst = find(id);
  return inst ? inst->dm.get() : nullptr;
}

}  // namespace tramite::scxml
