#include "tramite/workers/notifications.h"

#include <algorithm>
#include <map>
#include <optional>

#include "tramite/json.h"
#include "tramite/runtime/tasks.h"

namespace tramite::workers {

namespace {

using storage::NotificationRecord;
using storage::UserRecord;

std::string member(const json::Value& v, const char* key) {
  const json::Value* m = v.find(key);
  return m && m->isString() ? m->asString() : std::string();
}

std::vector<std::string> members(const json::Value& v, const char* key) {
  std::vector<std::string> out;
  const json::Value* m = v.find(key);
  if (!m || !m->isArray()) return out;
  for (const json::Value& e : m->asArray()) {
    if (e.isString()) out.push_back(e.asString());
  }
  return out;
}

// YYYY-MM-DD as dd/mm/aaaa; other text as it is.
std::string spanishDate(const std::string& iso) {
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-') return iso;
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

// Someone to notify and why, in a sentence that follows "porque".
struct Recipient {
  std::string user;
  std::string reason;
};

// What one batch reads once: the directory and the business keys of its instances.
class Context {
 public:
  explicit Context(storage::Transaction& tx) : tx_(tx) {}

  Result<const storage::DirectoryRecords*> directory() {
    if (!directory_) {
      auto d = tx_.directory();
      if (!d) return d.status();
      directory_ = std::move(d).value();
    }
    return &*directory_;
  }

  Result<std::string> businessKey(const std::string& instance_id) {
    auto it = keys_.find(instance_id);
    if (it != keys_.end()) return it->second;
    auto inst = tx_.instance(instance_id);
    if (!inst) return inst.status();
    const std::string key = inst->has_value() ? (*inst)->business_key : instance_id;
    keys_.emplace(instance_id, key);
    return key;
  }

  // The active users a principal ("user:", "role:", "unit:", or a bare role id) reaches, with
  // the reason each is reached, added to out unless already there.
  Status reach(const std::string& principal, std::vector<Recipient>& out) {
    auto dir = directory();
    if (!dir) return dir.status();
    const auto colon = principal.find(':');
    const std::string type = colon == std::string::npos ? "role" : principal.substr(0, colon);
    const std::string id = colon == std::string::npos ? principal : principal.substr(colon + 1);
    for (const UserRecord& u : (*dir)->users) {
      if (!u.active) continue;
      std::string reason;
      if (type == "user" && u.id == id) {
        reason = "usted figura entre sus candidatos";
      } else if (type == "role" && std::find(u.roles.begin(), u.roles.end(), id) != u.roles.end()) {
        reason = "usted tiene el rol «" + roleName(**dir, id) + "»";
      } else if (type == "unit" && u.unit == id) {
        reason = "usted pertenece a la unidad «" + unitName(**dir, id) + "»";
      } else {
        continue;
      }
      const bool seen =
          std::any_of(out.begin(), out.end(), [&](const Recipient& r) { return r.user == u.id; });
      if (!seen) out.push_back(Recipient{u.id, reason});
    }
    return Status::ok();
  }

  Result<std::optional<UserRecord>> user(const std::string& id) {
    auto dir = directory();
    if (!dir) return dir.status();
    for (const UserRecord& u : (*dir)->users) {
      if (u.id == id) return std::optional<UserRecord>(u);
    }
    return std::optional<UserRecord>();
  }

  Status dropBarred(const std::string& task_id, std::vector<Recipient>& to) {
    auto t = tx_.task(task_id);
    if (!t) return t.status();
    if (!t->has_value()) return Status::ok();
    std::vector<Recipient> kept;
    for (Recipient& r : to) {
      auto why = runtime::whyBarred(tx_, **t, r.user);
      if (!why) return why.status();
      if (why->empty()) kept.push_back(std::move(r));
    }
    to = std::move(kept);
    return Status::ok();
  }

  Result<std::string> taskTitle(const std::string& task_id, const std::string& fallback) {
    auto t = tx_.task(task_id);
    if (!t) return t.status();
    return t->has_value() && !(*t)->title.empty() ? (*t)->title : fallback;
  }

 private:
  static std::string roleName(const storage::DirectoryRecords& d, const std::string& id) {
    for (const storage::RoleRecord& r : d.roles) {
      if (r.id == id) return r.name.empty() ? id : r.name;
    }
    return id;
  }
  static std::string unitName(const storage::DirectoryRecords& d, const std::string& id) {
    for (const storage::UnitRecord& u : d.units) {
      if (u.id == id) return u.name.empty() ? id : u.name;
    }
    return id;
  }

  storage::Transaction& tx_;
  std::optional<storage::DirectoryRecords> directory_;
  std::map<std::string, std::string> keys_;
};

// The notifications one history row asks for: kind, subject, the body before the reason,
// and who. Rows that notify no one give none.
struct Notice {
  std::string kind;
  std::string task_id;
  std::string subject;
  std::string body;
  std::vector<Recipient> to;
};

Result<std::optional<Notice>> noticeFor(Context& ctx, const storage::HistoryRecord& row,
                                        const std::string& business_key) {
  auto detail = json::parse(row.detail);
  if (!detail || !detail->isObject()) return std::optional<Notice>();
  const std::string op = member(*detail, "op");
  Notice n;
  if (row.kind == "task" && op == "create") {
    const std::string title = member(*detail, "title");
    const std::string owner = member(*detail, "owner");
    n.kind = "task";
    n.task_id = member(*detail, "task");
    n.subject = "Nueva tarea: " + title + " (expediente " + business_key + ")";
    n.body = "Hay una tarea nueva en el expediente " + business_key + ": «" + title + "».";
    const std::string due = member(*detail, "due_date");
    if (!due.empty()) n.body += " Vence el " + spanishDate(due) + ".";
    if (!owner.empty()) {
      auto u = ctx.user(owner);
      if (!u) return u.status();
      if (u->has_value() && (*u)->active) {
        n.to.push_back(Recipient{owner, "la tarea le fue asignada a usted"});
      }
    } else {
      for (const std::string& p : members(*detail, "candidates")) {
        if (Status st = ctx.reach(p, n.to); !st) return st;
      }
      // Nobody is told of a task separation of duties bars them from (the drafter of the
      // opinion under review, the requester).
      if (Status st = ctx.dropBarred(n.task_id, n.to); !st) return st;
    }
  } else if (row.kind == "task" && op == "escalate") {
    n.kind = "escalation";
    n.task_id = member(*detail, "task");
    auto title = ctx.taskTitle(n.task_id, member(*detail, "name"));
    if (!title) return title.status();
    n.subject = "Tarea escalada: " + *title + " (expediente " + business_key + ")";
    n.body = "La tarea «" + *title + "» del expediente " + business_key +
             " venció su plazo y se escaló para que usted pueda atenderla.";
    if (Status st = ctx.reach("role:" + member(*detail, "to"), n.to); !st) return st;
  } else if (row.kind == "deadline" && op == "breach" && detail->find("notify")) {
    const std::string title = member(*detail, "title");
    n.kind = "deadline";
    n.subject = "Plazo vencido: " + title + " (expediente " + business_key + ")";
    n.body = "Venció el plazo «" + title + "» del expediente " + business_key + " (etapa «" +
             member(*detail, "state") + "»";
    const std::string due = member(*detail, "due_date");
    n.body += due.empty() ? std::string(").") : "; vencía el " + spanishDate(due) + ").";
    for (const std::string& role : members(*detail, "notify")) {
      if (Status st = ctx.reach("role:" + role, n.to); !st) return st;
    }
  } else {
    return std::optional<Notice>();
  }
  return std::optional<Notice>(std::move(n));
}

}  // namespace

Status NotificationConsumer::apply(storage::Transaction& tx,
                                   const std::vector<storage::LedgerRow>& rows) {
  Context ctx(tx);
  for (const storage::LedgerRow& ledgered : rows) {
    const storage::HistoryRecord& row = ledgered.row;
    if (row.kind != "task" && row.kind != "deadline") continue;
    auto key = ctx.businessKey(row.instance_id);
    if (!key) return key.status();
    auto notice = noticeFor(ctx, row, *key);
    if (!notice) return notice.status();
    if (!notice->has_value()) continue;
    const Notice& n = **notice;
    for (const Recipient& r : n.to) {
      NotificationRecord rec{0,
                             r.user,
                             row.instance_id,
                             *key,
                             n.task_id,
                             n.kind,
                             n.subject,
                             n.body + " Le llega porque " + r.reason + ".",
                             ledgered.index,
                             row.at,
                             0};
      if (Status st = tx.addNotification(rec); !st) return st;
      if (!options_.email) continue;
      auto u = ctx.user(r.user);
      if (!u) return u.status();
      if (!u->has_value() || (*u)->email.empty()) continue;
      json::Value payload(
          json::Object{{"to", (*u)->email},
                       {"subject", rec.subject},
                       {"body", rec.body},
                       {"message_id", "n" + std::to_string(ledgered.index) + "." + r.user}});
      Status st = tx.addOutbox(storage::OutboxRecord{0, row.instance_id, kEmailOutboxKind,
                                                     json::dump(payload), row.at, 0, 0, ""});
      if (!st) return st;
    }
  }
  return Status::ok();
}

}  // namespace tramite::workers

namespace tramite::workers {

Result<NotificationInbox::Page> NotificationInbox::list(const std::string& user, bool unread_only,
                                                        std::int64_t before_id, int limit) const {
  if (limit < 1 || limit > 200) {
    return Status(ErrorCode::kInvalidArgument, "limit is 1 to 200 notifications");
  }
  auto tx = store_.begin(storage::TxMode::kRead);
  if (!tx) return tx.status();
  Page page;
  auto items = (*tx)->notificationsOf(user, unread_only, before_id, limit + 1);
  if (!items) return items.status();
  page.items = std::move(items).value();
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.pop_back();
    page.next_before = page.items.back().id;
  }
  auto unread = (*tx)->unreadNotifications(user);
  if (!unread) return unread.status();
  page.unread = *unread;
  return page;
}

Status NotificationInbox::markRead(const std::string& user, std::int64_t id) const {
  auto tx = store_.begin();
  if (!tx) return tx.status();
  auto marked = (*tx)->markNotificationRead(user, id, clock_.nowMs());
  if (!marked) return marked.status();
  if (!*marked) {
    // Already read, or not this user's: only the first answers 200.
    auto mine = (*tx)->notificationsOf(user, false, id + 1, 1);
    if (!mine) return mine.status();
    if (mine->empty() || mine->front().id != id) {
      return Status(ErrorCode::kNotFound, "no notification " + std::to_string(id));
    }
  }
  return (*tx)->commit();
}

}  // namespace tramite::workers
