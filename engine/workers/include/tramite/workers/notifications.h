// The notification consumer: turns history into notifications for people. A task created for
// a person, a role or a unit, a task escalated by a deadline, and a deadline's `notify`
// become one in-app notification per active user concerned (Spanish text naming the
// expediente, the task and why this person gets it) and, when e-mail is on, an "email" outbox
// row per user with an address, delivered by deliverEmails (deliveries.h).
#pragma once

#include "tramite/workers/history_consumer.h"

namespace tramite::workers {

// The outbox kind of notification e-mails. Payload: {"to", "subject", "body", "message_id"};
// message_id is stable per notification, so a receiver can tell a retried delivery.
inline constexpr const char* kEmailOutboxKind = "email";

struct NotificationOptions {
  bool email = false;  // also queue an e-mail for each user with an address
};

class NotificationConsumer final : public HistoryConsumer {
 public:
  explicit NotificationConsumer(NotificationOptions options = {}) : options_(options) {}
  std::string name() const override { return "notifications"; }
  // Reads the directory, instances and tasks through tx; writes notifications and e-mails.
  Status apply(storage::Transaction& tx, const std::vector<storage::LedgerRow>& rows) override;

 private:
  NotificationOptions options_;
};

}  // namespace tramite::workers

namespace tramite::workers {

// A user's in-app notifications: what the API and the web pages read and mark, for the
// acting user only (nobody reads or marks another's). Thread-safe.
class NotificationInbox {
 public:
  NotificationInbox(storage::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  struct Page {
    std::vector<storage::NotificationRecord> items;  // newest first
    std::int64_t unread = 0;                         // all of the user's unread
    std::int64_t next_before = 0;                    // pass as before_id for the next page; 0: none
  };
  // Errors: kInvalidArgument (limit out of 1..200).
  Result<Page> list(const std::string& user, bool unread_only, std::int64_t before_id,
                    int limit) const;
  // Marks one of user's notifications read (again: no change). Errors: kNotFound when user
  // has no notification id.
  Status markRead(const std::string& user, std::int64_t id) const;

 private:
  storage::Store& store_;
  const Clock& clock_;
};

}  // namespace tramite::workers
