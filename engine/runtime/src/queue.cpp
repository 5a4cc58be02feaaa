// Queues of tasks (Engine::queue) and searches over instances (Engine::searchInstances), with
// the principals a user answers to.
#include <algorithm>
#include <tuple>

#include "engine_internal.h"
#include "event_policy.h"
#include "form_check.h"
#include "task_support.h"
#include "tramite/runtime/directory.h"
#include "tramite/text.h"

namespace tramite::runtime {

using namespace internal;
using storage::TaskRecord;

namespace {

// Cursor: "DUE.PRIORITY.ID" of the last task of a page.
std::string cursorOf(const TaskRecord& t) {
  return std::to_string(t.due_at) + "." + std::to_string(t.priority) + "." + t.id;
}

Status readCursor(const std::string& cursor, storage::TaskQuery& q) {
  if (cursor.empty()) return Status::ok();
  const auto a = cursor.find('.');
  const auto b = a == std::string::npos ? a : cursor.find('.', a + 1);
  try {
    if (b == std::string::npos || b + 1 >= cursor.size()) throw std::invalid_argument("shape");
    std::size_t used = 0;
    q.after_due = std::stoll(cursor.substr(0, a), &used);
    if (used != a) throw std::invalid_argument("due");
    q.after_priority = std::stoi(cursor.substr(a + 1, b - a - 1), &used);
    if (used != b - a - 1) throw std::invalid_argument("priority");
    q.after_id = cursor.substr(b + 1);
  } catch (const std::exception&) {
    return Status(ErrorCode::kInvalidArgument, "malformed queue cursor '" + cursor + "'");
  }
  return Status::ok();
}

}  // namespace

Result<QueuePage> Engine::queue(const QueueRequest& r) {
  const TimePoint now = clock_.nowMs();
  const calendar::Date today = calendar_->dateOf(now);
  storage::TaskQuery q;
  if (Status st = readCursor(r.cursor, q); !st) return st;
  if (r.due_within_days < 0 || r.due_within_days > 3660) {
    return Status(ErrorCode::kInvalidArgument, "due_within_days must be 0 to 3660");
  }
  if (r.overdue) q.due_before = now;
  if (r.due_within_days > 0) {
    auto due = calendar_->due(today, r.due_within_days);
    if (!due) return due.status();
    q.due_from = now;
    q.due_before = calendar_->endOfDayMs(*due) + 1;
  }
  q.definition = r.definition;
  q.filters = r.filters;
  q.sort = r.sort;
  q.limit = std::clamp(r.limit, 1, 500);
  return transact<QueuePage>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<QueuePage> {
        storage::TaskQuery query = q;
        if (r.view != QueueView::kAll) {
          auto people = actingAs(tx, r.user, today.serial());
          if (!people) return people.status();
          if (people->empty()) {
            final_answer = true;
            return Status(ErrorCode::kNotFound, "no user '" + r.user + "'");
          }
          const bool personal = r.view == QueueView::kPersonal;
          query.principals = principalsOfPeople(*people, personal, !personal);
        }
        auto rows = tx.queryTasks(query);
        if (!rows) {
          final_answer = rows.status().code() == ErrorCode::kInvalidArgument;
          return rows.status();
        }
        QueuePage page;
        for (const TaskRecord& t : *rows) {
          page.tasks.push_back(taskView(t));
          if (r.view == QueueView::kAll || t.kind != "approval") continue;
          // Offered, but not to this user: separation of duties bars them (marked, with why).
          auto spec = TaskSpec::fromJson(parsedOr(t.spec));
          if (!spec) return spec.status();
          auto why = barredBySeparation(
              tx, *spec, t, [&] { return tx.tasksOf(t.instance_id); }, r.user);
          if (!why) return why.status();
          if (!why->empty()) page.tasks.back().may_not_act = r.user + " " + *why;
        }
        if (static_cast<int>(rows->size()) == query.limit)
          page.next_cursor = cursorOf(rows->back());
        return page;
      },
      storage::TxMode::kRead);
}

Result<std::vector<std::string>> Engine::principalsOf(const std::string& user) {
  const std::int64_t today = calendar_->dateOf(clock_.nowMs()).serial();
  return transact<std::vector<std::string>>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<std::vector<std::string>> {
        auto people = actingAs(tx, user, today);
        if (!people) return people.status();
        final_answer = true;
        if (people->empty()) return Status(ErrorCode::kNotFound, "no user '" + user + "'");
        return principalsOfPeople(*people, true, true);
      },
      storage::TxMode::kRead);
}

Result<InstancePage> Engine::searchInstances(const InstanceSearch& search) {
  storage::InstanceQuery query = search.query;
  query.participants.clear();
  query.principals.clear();
  if (!search.cursor.empty()) {
    const std::size_t dot = search.cursor.find('.');
    const std::string at = search.cursor.substr(0, dot);
    if (dot == std::string::npos || at.empty() || at.size() > 18 ||
        !std::all_of(at.begin(), at.end(), ::isdigit) || dot + 1 >= search.cursor.size()) {
      return Status(ErrorCode::kInvalidArgument, "cursor is not one this search gave");
    }
    query.after_created = std::stoll(at);
    query.after_id = search.cursor.substr(dot + 1);
  }
  for (const auto& [text, bound, to] : {std::tuple{&search.from, &query.created_from, false},
                                        std::tuple{&search.to, &query.created_before, true}}) {
    if (text->empty()) continue;
    auto day = calendar::Date::parse(*text);
    if (!day) {
      return Status(ErrorCode::kInvalidArgument,
                    std::string(to ? "to" : "from") + " is a date, YYYY-MM-DD: " + *text);
    }
    // The day's first instant is the end of the day before, plus one.
    *bound = calendar_->endOfDayMs(to ? *day : day->plusDays(-1)) + 1;
  }
  const std::int64_t today = calendar_->dateOf(clock_.nowMs()).serial();
  return transact<InstancePage>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<InstancePage> {
        storage::InstanceQuery q = query;
        auto people = actingAs(tx, search.user, today);
        if (!people) return people.status();
        final_answer = true;
        if (people->empty() || !people->front().active) {
          return Status(ErrorCode::kPermissionDenied,
                        "'" + search.user + "' is not an active user of the directory");
        }
        if (!seesEveryCase(people->front().roles)) {
          // The cases they (or whoever they stand in for) acted in or have an open task in.
          for (const storage::UserRecord& u : *people) q.participants.push_back(u.id);
          q.principals = principalsOfPeople(*people, true, true);
        } else if (!search.participant.empty()) {
          q.participants = {search.participant};
          auto them = actingAs(tx, search.participant, today);
          if (!them) return them.status();
          if (!them->empty()) q.principals = principalsOfPeople({them->front()}, true, true);
        }
        auto rows = tx.searchInstances(q);
        if (!rows) {
          final_answer = !retryable(rows.status());
          return rows.status();
        }
        InstancePage page;
        page.instances = std::move(rows).value();
        if (static_cast<int>(page.instances.size()) == q.limit) {
          const storage::InstanceSummary& last = page.instances.back();
          page.next_cursor = std::to_string(last.created_at) + "." + last.id;
        }
        return page;
      },
      storage::TxMode::kRead);
}

bool reaches(const std::vector<std::string>& principals, const TaskView& task) {
  auto holds = [&](const std::string& p) {
    return std::binary_search(principals.begin(), principals.end(), p);
  };
  return (!task.owner.empty() && holds("owner:" + task.owner)) ||
         std::any_of(task.principals.begin(), task.principals.end(), holds);
}

Result<std::string> whyBarred(storage::Transaction& tx, const storage::TaskRecord& task,
                              const std::string& user) {
  auto spec = TaskSpec::fromJson(parsedOr(task.spec));
  if (!spec) return spec.status();
  return barredBySeparation(
      tx, *spec, task, [&] { return tx.tasksOf(task.instance_id); }, user);
}

}  // namespace tramite::runtime
