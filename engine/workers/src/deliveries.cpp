#include "tramite/workers/deliveries.h"

#include <algorithm>

#include "tramite/json.h"
#include "tramite/workers/notifications.h"

namespace tramite::workers {

Result<int> deliverBasicHttpSends(runtime::Engine& engine, storage::Store& store,
                                  const EventPoster& poster, TimePoint now, int limit) {
  std::vector<storage::OutboxRecord> rows;
  {
    auto tx = store.begin(storage::TxMode::kRead);
    if (!tx) return tx.status();
    auto pending = (*tx)->pendingOutbox("send.http", limit);
    if (!pending) return pending.status();
    rows = std::move(pending).value();
  }
  int settled = 0;
  for (const storage::OutboxRecord& row : rows) {
    auto payload = json::parse(row.payload);
    const json::Value* target = payload ? payload->find("target") : nullptr;
    const json::Value* event_json = payload ? payload->find("event") : nullptr;
    const json::Value* delay = payload ? payload->find("delay_ms") : nullptr;
    const json::Value* sendid = payload ? payload->find("sendid") : nullptr;
    if (delay && delay->isInt() && row.created_at + delay->asInt() > now) continue;  // not yet
    Status sent = Status(ErrorCode::kInternal, "a malformed send.http outbox row");
    if (target && target->isString() && event_json) {
      auto event = scxml::eventFromJson(*event_json);
      if (event) {
        sent = poster.post(target->asString(), *event, "tramite-outbox-" + std::to_string(row.id));
      }
    }
    auto tx = store.begin();
    if (!tx) return tx.status();
    auto marked = (*tx)->markOutboxDone(row.id, now);
    if (!marked) return marked.status();
    if (Status st = (*tx)->commit(); !st) return st;  // which hands its connection back
    if (!*marked) continue;                           // another server settled it
    ++settled;
    if (!sent) {
      scxml::Event error =
          scxml::errorEvent("error.communication", sent.message(),
                            sendid && sendid->isString() ? sendid->asString() : std::string());
      auto delivered = engine.sendFromPlatform(row.instance_id, error,
                                               "tramite-outbox-error-" + std::to_string(row.id));
      // An instance that has ended since takes no more events; that is not an error here.
      if (!delivered && delivered.status().code() != ErrorCode::kFailedPrecondition &&
          delivered.status().code() != ErrorCode::kNotFound) {
        return delivered.status();
      }
    }
  }
  return settled;
}

namespace {

std::int64_t backoff(const MailRetry& retry, std::int32_t failures_before) {
  std::int64_t wait = std::max<std::int64_t>(retry.retry_ms, 1);
  for (std::int32_t i = 0; i < failures_before && wait < retry.max_retry_ms; ++i) wait *= 2;
  return std::min(wait, std::max(retry.max_retry_ms, retry.retry_ms));
}

// Settles one row in a transaction of its own: done, or postponed.
Status settle(storage::Store& store, const storage::OutboxRecord& row, const Status& sent,
              TimePoint now, const MailRetry& retry) {
  auto tx = store.begin();
  if (!tx) return tx.status();
  auto changed =
      sent ? (*tx)->markOutboxDone(row.id, now)
           : (*tx)->retryOutbox(row.id, now + backoff(retry, row.attempts), sent.message());
  if (!changed) return changed.status();
  return (*tx)->commit();
}

}  // namespace

Result<int> deliverEmails(storage::Store& store, MailSender& sender, TimePoint now,
                          const MailRetry& retry, int limit) {
  std::vector<storage::OutboxRecord> rows;
  {
    auto tx = store.begin(storage::TxMode::kRead);
    if (!tx) return tx.status();
    auto due = (*tx)->dueOutbox(kEmailOutboxKind, now, limit);
    if (!due) return due.status();
    rows = std::move(due).value();
  }
  int sent_count = 0;
  for (const storage::OutboxRecord& row : rows) {
    auto payload = json::parse(row.payload);
    auto text = [&](const char* key) {
      const json::Value* v = payload ? payload->find(key) : nullptr;
      return v && v->isString() ? v->asString() : std::string();
    };
    MailMessage message{text("to"), text("subject"), text("body"), text("message_id")};
    Status sent = message.to.empty()
                      ? Status(ErrorCode::kInvalidArgument, "an email outbox row without \"to\"")
                      : sender.send(message);
    if (Status st = settle(store, row, sent, now, retry); !st) return st;
    if (sent) ++sent_count;
  }
  return sent_count;
}

}  // namespace tramite::workers
