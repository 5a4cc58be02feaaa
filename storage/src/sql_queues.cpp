// Timers, the inbox, deferred and parked rows, and the outbox.
#include "sql_transaction.h"

namespace tramite::storage::sql {

using Poco::Int64;

Result<std::int64_t> SqlTransaction::addTimer(const TimerRecord& t) {
  return guarded("add timer", [&]() -> Result<std::int64_t> {
    const std::string insert =
        "INSERT INTO timers (instance_id, sendid, due_at, event) VALUES (?, ?, ?, ?)";
    const std::vector<SqlParam> params = {t.instance_id, t.sendid, Int64{t.due_at}, t.event};
    if (pipelining_) {  // its id is not known yet
      writeSql(insert, params);
      return std::int64_t{0};
    }
    std::int64_t id = 0;
    runSql(insert + " RETURNING id", params, [&](const Row& c) { id = c.integer(0); });
    return id;
  });
}

Result<int> SqlTransaction::cancelTimers(const std::string& instance_id,
                                         const std::string& sendid) {
  return written("cancel timers", "DELETE FROM timers WHERE instance_id = ? AND sendid = ?",
                 {instance_id, sendid});
}

Result<int> SqlTransaction::cancelAllTimers(const std::string& instance_id) {
  return written("cancel timers", "DELETE FROM timers WHERE instance_id = ?", {instance_id});
}

Result<std::vector<TimerRecord>> SqlTransaction::dueTimers(TimePoint now, int limit) {
  std::string text = std::string(kTimerColumns) + " WHERE due_at <= ? ORDER BY due_at, id LIMIT ?";
  if (d_ == Dialect::kPostgreSQL) text += " FOR UPDATE SKIP LOCKED";
  return selectAll<TimerRecord>("read due timers", text, {Int64{now}, Int64{limit}}, readTimer);
}

Result<bool> SqlTransaction::claimTimer(std::int64_t id) {
  auto n = changed("claim timer", "DELETE FROM timers WHERE id = ?", {Int64{id}});
  if (!n) return n.status();
  return *n == 1;
}

Result<std::vector<TimerRecord>> SqlTransaction::timersOf(const std::string& instance_id) {
  return selectAll<TimerRecord>(
      "read timers", std::string(kTimerColumns) + " WHERE instance_id = ? ORDER BY due_at, id",
      {instance_id}, readTimer);
}

Result<std::optional<TimePoint>> SqlTransaction::nextTimerDue() {
  return selectOne<TimePoint>("read next timer",
                              "SELECT due_at FROM timers ORDER BY due_at LIMIT 1", {},
                              [](const Row& c) { return c.integer(0); });
}

Status SqlTransaction::enqueueInbox(const std::string& instance_id, const std::string& event,
                                    TimePoint now) {
  return addEventRow("inbox", instance_id, event, now);
}

Result<std::vector<InboxRecord>> SqlTransaction::inbox(int limit) {
  std::string text = "SELECT seq, instance_id, event, created_at FROM inbox ORDER BY seq LIMIT ?";
  if (d_ == Dialect::kPostgreSQL) text += " FOR UPDATE SKIP LOCKED";
  return selectAll<InboxRecord>("read inbox", text, {Int64{limit}}, [](const Row& c) {
    return InboxRecord{c.integer(0), c.text(1), c.text(2), c.integer(3)};
  });
}

Result<bool> SqlTransaction::claimInbox(std::int64_t seq) {
  auto n = changed("claim inbox event", "DELETE FROM inbox WHERE seq = ?", {Int64{seq}});
  if (!n) return n.status();
  return *n == 1;
}

Status SqlTransaction::deferEvent(const std::string& instance_id, const std::string& event,
                                  TimePoint now) {
  return addEventRow("deferred", instance_id, event, now);
}

Result<int> SqlTransaction::releaseDeferred(const std::string& instance_id) {
  return guarded("release deferred events", [&]() -> Result<int> {
    writeSql(
        "INSERT INTO inbox (instance_id, event, created_at) SELECT instance_id, event, "
        "created_at FROM deferred WHERE instance_id = ? ORDER BY seq",
        {instance_id});
    return static_cast<int>(writeSql("DELETE FROM deferred WHERE instance_id = ?", {instance_id}));
  });
}

Status SqlTransaction::addOutbox(const OutboxRecord& r) {
  return guarded("add outbox", [&]() -> Status {
    writeSql("INSERT INTO outbox (instance_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
             {r.instance_id, r.kind, r.payload, Int64{r.created_at}});
    return Status::ok();
  });
}

namespace {

constexpr const char* kOutboxSelect =
    "SELECT id, instance_id, kind, payload, created_at, attempts, next_attempt_at, last_error "
    "FROM outbox";

OutboxRecord readOutbox(const NativeStatements::Row& c) {
  return OutboxRecord{c.integer(0), c.text(1),    c.text(2),
                      c.text(3),    c.integer(4), static_cast<std::int32_t>(c.integer(5)),
                      c.integer(6), c.text(7)};
}

}  // namespace

Result<std::vector<OutboxRecord>> SqlTransaction::pendingOutbox(const std::string& kind,
                                                                int limit) {
  return selectAll<OutboxRecord>(
      "read outbox",
      std::string(kOutboxSelect) + " WHERE kind = ? AND done_at IS NULL ORDER BY id LIMIT ?",
      {kind, Int64{limit}}, readOutbox);
}

Result<std::vector<OutboxRecord>> SqlTransaction::dueOutbox(const std::string& kind, TimePoint now,
                                                            int limit) {
  return selectAll<OutboxRecord>("read due outbox rows",
                                 std::string(kOutboxSelect) +
                                     " WHERE kind = ? AND done_at IS NULL AND next_attempt_at <= ? "
                                     "ORDER BY next_attempt_at, id LIMIT ?",
                                 {kind, Int64{now}, Int64{limit}}, readOutbox);
}

Result<bool> SqlTransaction::retryOutbox(std::int64_t id, TimePoint next_attempt_at,
                                         const std::string& error) {
  return guarded("postpone an outbox row", [&]() -> Result<bool> {
    return runSql(
               "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
               "WHERE id = ? AND done_at IS NULL",
               {Int64{next_attempt_at}, error, Int64{id}}, {}) == 1;
  });
}

Result<bool> SqlTransaction::markOutboxDone(std::int64_t id, TimePoint at) {
  return guarded("mark outbox row done", [&]() -> Result<bool> {
    return runSql("UPDATE outbox SET done_at = ? WHERE id = ? AND done_at IS NULL",
                  {Int64{at}, Int64{id}}, {}) == 1;
  });
}

Status SqlTransaction::parkQueued(const ParkedRecord& r) {
  return guarded("park a queued row", [&]() -> Status {
    runSql(
        "INSERT INTO parked (source, source_id, instance_id, payload, error, parked_at) VALUES "
        "(?, ?, ?, ?, ?, ?)",
        {r.source, Int64{r.source_id}, r.instance_id, r.payload, r.error, Int64{r.parked_at}}, {});
    return Status::ok();
  });
}

Result<std::vector<ParkedRecord>> SqlTransaction::parkedRows(int limit) {
  return selectAll<ParkedRecord>(
      "read parked rows",
      "SELECT id, source, source_id, instance_id, payload, error, parked_at FROM parked ORDER "
      "BY id LIMIT ?",
      {Int64{limit}}, [](const Row& c) {
        return ParkedRecord{c.integer(0), c.text(1), c.integer(2), c.text(3),
                            c.text(4),    c.text(5), c.integer(6)};
      });
}

TimerRecord SqlTransaction::readTimer(const Row& c) {
  return TimerRecord{c.integer(0), c.text(1), c.text(2), c.integer(3), c.text(4)};
}

}  // namespace tramite::storage::sql
