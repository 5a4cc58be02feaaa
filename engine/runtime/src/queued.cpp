// Work that waits in the store for its time: timers that fall due and inbox items, each
// delivered in its own operation, and rows that fail for good parked.
#include <algorithm>

#include "engine_internal.h"
#include "step.h"
#include "tramite/scxml/datamodel.h"
#include "tramite/scxml/session_codec.h"

namespace tramite::runtime {

using namespace internal;

// Timers and inbox items reach an instance according to its lifecycle: running instances
// process them, suspended ones keep them for resume, ended or missing ones drop them.
template <typename Once>
Result<int> Engine::repeat(int limit, Once&& once) {
  int done = 0;
  while (done < limit) {
    std::optional<storage::ParkedRecord> working;  // the row the attempt works on
    auto one = transact<int>([&](storage::Transaction& tx, bool&) {
      working.reset();
      return once(tx, working);
    });
    if (!one) {
      // A store that cannot be reached is tried again later; a row that fails for good is
      // parked, so that the rows after it go on.
      if (!working || retryable(one.status())) return one.status();
      working->error = one.status().toString();
      if (Status st = park(*working); !st) return st;
      ++done;
      continue;
    }
    if (*one == 0) break;
    ++done;
  }
  return done;
}

Status Engine::park(storage::ParkedRecord row) {
  row.parked_at = clock_.nowMs();
  auto parked = transact<bool>([&](storage::Transaction& tx, bool&) -> Result<bool> {
    auto claimed =
        row.source == "timer" ? tx.claimTimer(row.source_id) : tx.claimInbox(row.source_id);
    if (!claimed) return claimed.status();
    if (!*claimed) return false;  // another engine settled it meanwhile
    if (Status st = tx.parkQueued(row); !st) return st;
    json::Value detail(
        json::Object{{"source", row.source}, {"source_id", row.source_id}, {"error", row.error}});
    Status st = tx.appendHistory({storage::HistoryRecord{
        0, row.instance_id, row.parked_at, kSystemActor, "parked", json::dump(detail)}});
    if (!st) return st;
    return true;
  });
  if (!parked) return parked.status();
  if (*parked && options_.on_parked) options_.on_parked(row);
  return Status::ok();
}

Result<int> Engine::fireDueTimers(int limit) {
  return repeat(
      limit,
      [&](storage::Transaction& tx, std::optional<storage::ParkedRecord>& working) -> Result<int> {
        auto due = tx.dueTimers(clock_.nowMs(), 1);
        if (!due) return due.status();
        if (due->empty()) return 0;
        const storage::TimerRecord timer = due->front();
        working =
            storage::ParkedRecord{0, "timer", timer.id, timer.instance_id, timer.event, {}, 0};
        auto claimed = tx.claimTimer(timer.id);
        if (!claimed) return claimed.status();
        if (!*claimed) return 1;  // another engine fired it
        auto payload = json::parse(timer.event);
        if (payload && payload->find("deadline")) {
          auto inst = load(tx, timer.instance_id);
          if (!inst) {
            return inst.status().code() == ErrorCode::kNotFound ? Result<int>(1) : inst.status();
          }
          Step step(*this, tx, kSystemActor);
          if (Status st = step.breach(*inst, *payload->find("deadline")); !st) return st;
          if (Status st = step.commit(*inst, false); !st) return st;
          return 1;
        }
        if (!payload || !payload->find("event")) {
          return Status(ErrorCode::kInternal,
                        "timer " + std::to_string(timer.id) + " is malformed");
        }
        auto event = scxml::eventFromJson(*payload->find("event"));
        if (!event) return event.status();
        const json::Value* to = payload->find("to");
        const std::string target = to && to->isString() ? to->asString() : timer.instance_id;
        Step step(*this, tx, kSystemActor);
        json::Value detail(json::Object{{"timer", timer.id},
                                        {"sendid", timer.sendid},
                                        {"due_at", timer.due_at},
                                        {"event", event->name}});
        if (target != timer.instance_id) {
          Status st = tx.enqueueInbox(target, eventText(*event), step.now());
          if (!st) return st;
          detail.set("to", target);
          Status h = tx.appendHistory({storage::HistoryRecord{
              0, timer.instance_id, step.now(), kSystemActor, "timer", json::dump(detail)}});
          return h ? Result<int>(1) : Result<int>(h);
        }
        auto inst = load(tx, target);
        if (!inst)
          return inst.status().code() == ErrorCode::kNotFound ? Result<int>(1) : inst.status();
        step.record(*inst, "timer", detail);
        if (Status st = deliverOrRefuse(tx, step, *inst, *event); !st) return st;
        return 1;
      });
}

Result<int> Engine::drainInbox(int limit) {
  return repeat(
      limit,
      [&](storage::Transaction& tx, std::optional<storage::ParkedRecord>& working) -> Result<int> {
        auto items = tx.inbox(1);
        if (!items) return items.status();
        if (items->empty()) return 0;
        const storage::InboxRecord item = items->front();
        working = storage::ParkedRecord{0, "inbox", item.seq, item.instance_id, item.event, {}, 0};
        auto claimed = tx.claimInbox(item.seq);
        if (!claimed) return claimed.status();
        if (!*claimed) return 1;
        auto event = eventFromText(item.event);
        if (!event) return event.status();
        auto inst = load(tx, item.instance_id);
        if (!inst)
          return inst.status().code() == ErrorCode::kNotFound ? Result<int>(1) : inst.status();
        Step step(*this, tx, kSystemActor);
        if (Status st = deliverOrRefuse(tx, step, *inst, *event); !st) return st;
        return 1;
      });
}

Status Engine::deliverOrRefuse(storage::Transaction& tx, Step& step, Loaded& inst,
                               const scxml::Event& event) {
  if (Status st = tx.savepoint("queued_event"); !st) return st;
  Status st = step.deliverQueued(inst, event);
  if (st) st = step.commit(inst, false);
  if (st || step.refused().empty()) return st;
  // A <w:requires> holds the process where it is: the event is consumed, and the refusal
  // is recorded instead of its effects (retrying would refuse it again, forever).
  if (Status undo = tx.rollbackToSavepoint("queued_event"); !undo) return undo;
  json::Value detail(json::Object{{"event", event.name}, {"reason", step.refused()}});
  return tx.appendHistory({storage::HistoryRecord{0, inst.rec.id, step.now(), kSystemActor,
                                                  "refused", json::dump(detail)}});
}

Status Engine::runPending() {
  while (true) {
    auto inbox = drainInbox(1000);
    if (!inbox) return inbox.status();
    auto timers = fireDueTimers(1000);
    if (!timers) return timers.status();
    if (*inbox == 0 && *timers == 0) return Status::ok();
  }
}

Result<std::optional<TimePoint>> Engine::nextTimerDue() {
  return transact<std::optional<TimePoint>>(
      [&](storage::Transaction& tx, bool&) { return tx.nextTimerDue(); }, storage::TxMode::kRead);
}

}  // namespace tramite::runtime
