// Durable history consumers (cursors and leases) and the notifications they write.
#include "sql_transaction.h"

namespace tramite::storage::sql {

using Poco::Int64;

namespace {

constexpr const char* kNotificationSelect =
    "SELECT id, user_id, instance_id, business_key, task_id, kind, subject, body, source_idx, "
    "created_at, read_at FROM notifications";

NotificationRecord readNotification(const NativeStatements::Row& c) {
  return NotificationRecord{c.integer(0), c.text(1),    c.text(2),    c.text(3),
                            c.text(4),    c.text(5),    c.text(6),    c.text(7),
                            c.integer(8), c.integer(9), c.integer(10)};
}

}  // namespace

Result<std::int64_t> SqlTransaction::consumerPosition(const std::string& name) {
  auto position = selectOne<std::int64_t>("read a consumer's position",
                                          "SELECT position FROM consumers WHERE name = ?", {name},
                                          [](const Row& c) { return c.integer(0); });
  if (!position) return position.status();
  return position->value_or(0);
}

// One statement whatever the row's state: a concurrent advance waits for this row's lock
// (PostgreSQL) or the write lock (SQLite), then finds the position moved and changes nothing.
Result<bool> SqlTransaction::advanceConsumer(const std::string& name, std::int64_t from,
                                             std::int64_t to) {
  return guarded("advance a consumer", [&]() -> Result<bool> {
    if (from == 0) {
      runSql("INSERT INTO consumers (name) VALUES (?) ON CONFLICT (name) DO NOTHING", {name}, {});
    }
    return runSql("UPDATE consumers SET position = ? WHERE name = ? AND position = ?",
                  {Int64{to}, name, Int64{from}}, {}) == 1;
  });
}

Result<bool> SqlTransaction::leaseConsumer(const std::string& name, const std::string& holder,
                                           TimePoint now, TimePoint until) {
  return guarded("lease a consumer", [&]() -> Result<bool> {
    runSql("INSERT INTO consumers (name) VALUES (?) ON CONFLICT (name) DO NOTHING", {name}, {});
    return runSql(
               "UPDATE consumers SET holder = ?, lease_until = ? WHERE name = ? AND (holder = ? "
               "OR holder = '' OR lease_until <= ?)",
               {holder, Int64{until}, name, holder, Int64{now}}, {}) == 1;
  });
}

Status SqlTransaction::addNotification(const NotificationRecord& r) {
  return guarded("add a notification", [&]() -> Status {
    writeSql(
        "INSERT INTO notifications (user_id, instance_id, business_key, task_id, kind, subject, "
        "body, source_idx, created_at, read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {r.user, r.instance_id, r.business_key, r.task_id, r.kind, r.subject, r.body,
         Int64{r.source_idx}, Int64{r.created_at}, Int64{r.read_at}});
    return Status::ok();
  });
}

Result<std::vector<NotificationRecord>> SqlTransaction::notificationsOf(const std::string& user,
                                                                        bool unread_only,
                                                                        std::int64_t before_id,
                                                                        int limit) {
  std::string text = std::string(kNotificationSelect) + " WHERE user_id = ?";
  std::vector<SqlParam> params{user};
  if (unread_only) text += " AND read_at = 0";
  if (before_id > 0) {
    text += " AND id < ?";
    params.emplace_back(Int64{before_id});
  }
  text += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(Int64{limit});
  return selectAll<NotificationRecord>("read notifications", text, params, readNotification);
}

Result<std::int64_t> SqlTransaction::unreadNotifications(const std::string& user) {
  auto n = selectOne<std::int64_t>("count unread notifications",
                                   "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND "
                                   "read_at = 0",
                                   {user}, [](const Row& c) { return c.integer(0); });
  if (!n) return n.status();
  return n->value_or(0);
}

Result<bool> SqlTransaction::markNotificationRead(const std::string& user, std::int64_t id,
                                                  TimePoint at) {
  return guarded("mark a notification read", [&]() -> Result<bool> {
    return runSql(
               "UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at = 0",
               {Int64{at}, Int64{id}, user}, {}) == 1;
  });
}

}  // namespace tramite::storage::sql
