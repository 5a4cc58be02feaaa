// Tasks and their queues.
#include "sql_transaction.h"
#include "tramite/text.h"

namespace tramite::storage::sql {

using Poco::Int64;

Status SqlTransaction::writeTasks(const std::vector<TaskWrite>& writes) {
  return guarded("write tasks", [&]() -> Status {
    json::Array inserts;
    json::Array updates;
    json::Array ids;
    json::Array queue;
    for (const TaskWrite& w : writes) {
      const TaskRecord& t = w.record;
      const std::int64_t sort_due = t.due_at > 0 ? t.due_at : kNoDue;
      const std::int64_t rank = 10 - t.priority;
      const std::int64_t open = t.open ? 1 : 0;
      if (w.expected_version == 0) {
        inserts.emplace_back(json::Array{t.id,         t.instance_id, t.business_key,
                                         t.definition, t.state,       t.name,
                                         t.kind,       t.title,       t.status,
                                         t.owner,      t.priority,    t.due_at,
                                         sort_due,     rank,          t.spec,
                                         t.data,       t.result,      join(t.principals, " "),
                                         open,         t.row_version, t.created_at,
                                         t.updated_at});
      } else {
        updates.emplace_back(json::Array{t.id, t.status, t.owner, t.priority, t.due_at, sort_due,
                                         rank, t.spec, t.data, t.result, join(t.principals, " "),
                                         open, t.row_version, t.updated_at, w.expected_version});
        ids.emplace_back(json::Array{t.id});
      }
      if (t.open) {
        for (const std::string& p : t.principals) {
          queue.emplace_back(json::Array{p, t.id, sort_due, rank});
        }
      }
    }
    if (!inserts.empty()) {
      writeBatch(
          "INSERT INTO tasks (id, instance_id, business_key, definition, state, name, kind, "
          "title, status, owner, priority, due_at, sort_due, rank, spec, data, result, "
          "principals, is_open, row_version, created_at, updated_at) SELECT j.value ->> 0, "
          "j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value "
          "->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, CAST(j.value ->> 10 AS {INT}), "
          "CAST(j.value ->> 11 AS {INT}), CAST(j.value ->> 12 AS {INT}), CAST(j.value ->> 13 AS "
          "{INT}), j.value ->> 14, j.value ->> 15, j.value ->> 16, j.value ->> 17, CAST(j.value "
          "->> 18 AS {INT}), CAST(j.value ->> 19 AS {INT}), CAST(j.value ->> 20 AS {INT}), "
          "CAST(j.value ->> 21 AS {INT}) FROM {ROWS} ORDER BY j.key",
          std::move(inserts));
    }
    if (!updates.empty()) {
      const std::size_t expected = updates.size();
      writeBatch(
          "UPDATE tasks SET status = j.value ->> 1, owner = j.value ->> 2, priority = "
          "CAST(j.value ->> 3 AS {INT}), due_at = CAST(j.value ->> 4 AS {INT}), sort_due = "
          "CAST(j.value ->> 5 AS {INT}), rank = CAST(j.value ->> 6 AS {INT}), spec = j.value "
          "->> 7, data = j.value ->> 8, result = j.value ->> 9, principals = j.value ->> 10, "
          "is_open = CAST(j.value ->> 11 AS {INT}), row_version = CAST(j.value ->> 12 AS "
          "{INT}), updated_at = CAST(j.value ->> 13 AS {INT}) FROM {ROWS} WHERE tasks.id = "
          "j.value ->> 0 AND tasks.row_version = CAST(j.value ->> 14 AS {INT})",
          std::move(updates),
          Expected{expected, "a task was changed concurrently (the version read is stale)"});
      writeBatch("DELETE FROM task_queue WHERE task_id IN (SELECT j.value ->> 0 FROM {ROWS})",
                 std::move(ids));
    }
    if (!queue.empty()) {
      writeBatch(
          "INSERT INTO task_queue (principal, task_id, sort_due, rank) SELECT j.value ->> 0, "
          "j.value ->> 1, CAST(j.value ->> 2 AS {INT}), CAST(j.value ->> 3 AS {INT}) FROM "
          "{ROWS}",
          std::move(queue));
    }
    return Status::ok();
  });
}

Result<std::optional<TaskRecord>> SqlTransaction::task(const std::string& id) {
  return selectOne<TaskRecord>(
      "read task", std::string(kTaskSelect) + " FROM tasks t WHERE t.id = ?", {id}, readTask);
}

Result<std::vector<TaskRecord>> SqlTransaction::tasksOf(const std::string& instance_id) {
  return selectAll<TaskRecord>(
      "read tasks",
      std::string(kTaskSelect) +
          " FROM tasks t WHERE t.instance_id = ? ORDER BY t.created_at, t.id",
      {instance_id}, readTask);
}

Result<std::vector<TaskRecord>> SqlTransaction::queryTasks(const TaskQuery& q) {
  std::vector<SqlParam> params;
  auto text = taskQuerySql(q, params);
  if (!text) return text.status();
  return guarded("query tasks", [&]() -> Result<std::vector<TaskRecord>> {
    std::vector<TaskRecord> out;
    runSql(*text, params, [&](const Row& c) { out.push_back(readTask(c)); });
    return out;
  });
}

TaskRecord SqlTransaction::readTask(const Row& c) {
  TaskRecord t;
  t.id = c.text(0);
  t.instance_id = c.text(1);
  t.business_key = c.text(2);
  t.definition = c.text(3);
  t.state = c.text(4);
  t.name = c.text(5);
  t.kind = c.text(6);
  t.title = c.text(7);
  t.status = c.text(8);
  t.owner = c.text(9);
  t.priority = static_cast<std::int32_t>(c.integer(10));
  t.due_at = c.integer(11);
  t.spec = c.text(12);
  t.data = c.text(13);
  t.result = c.text(14);
  t.principals = splitWords(c.text(15));
  t.open = c.integer(16) != 0;
  t.row_version = c.integer(17);
  t.created_at = c.integer(18);
  t.updated_at = c.integer(19);
  return t;
}

// The SQL of a queue page. Each principal's queue is read as its own index range, cut at
// the page size, and the union of those short lists is sorted again: the work is bounded by
// principals x limit however many tasks are stored.
Result<std::string> SqlTransaction::taskQuerySql(const TaskQuery& q,
                                                 std::vector<SqlParam>& params) const {
  if (q.principals.size() > 64) {
    return Status(ErrorCode::kInvalidArgument, "a queue query takes at most 64 principals");
  }
  if (q.filters.size() > 8) {
    return Status(ErrorCode::kInvalidArgument, "a queue query takes at most 8 filters");
  }
  const Int64 limit = std::clamp(q.limit, 1, 500);
  const bool by_rank = q.sort == TaskSort::kPriority;
  // One branch: rows of from (queue alias x, id column idcol, task alias t) meeting first
  // and the query's conditions, in sort order, cut at the page size.
  auto branch = [&](const std::string& from, const std::string& x, const std::string& idcol,
                    const std::string& first, std::vector<SqlParam>& p) -> Result<std::string> {
    std::string where = first;
    auto add = [&](const std::string& cond) { where += " AND " + cond; };
    if (q.due_from > 0) {
      add(x + ".sort_due >= ?");
      p.emplace_back(Int64{q.due_from});
    }
    if (q.due_before > 0) {
      add(x + ".sort_due < ?");
      p.emplace_back(Int64{q.due_before});
    }
    if (!q.after_id.empty()) {
      if (by_rank) {
        add("(" + x + ".rank, " + x + ".sort_due, " + x + "." + idcol + ") > (?, ?, ?)");
        p.emplace_back(Int64{10 - q.after_priority});
      } else {
        add("(" + x + ".sort_due, " + x + "." + idcol + ") > (?, ?)");
      }
      p.emplace_back(q.after_due > 0 ? Int64{q.after_due} : kNoDue);
      p.emplace_back(q.after_id);
    }
    if (!q.definition.empty()) {
      add("t.definition = ?");
      p.emplace_back(q.definition);
    }
    for (const TaskFilter& f : q.filters) {
      auto cond = filterSql(f, p);
      if (!cond) return cond.status();
      add(*cond);
    }
    p.emplace_back(limit);
    const std::string order =
        (by_rank ? x + ".rank, " : std::string()) + x + ".sort_due, " + x + "." + idcol;
    return "SELECT " + x + "." + idcol + " AS id, " + x + ".sort_due AS sort_due, " + x +
           ".rank AS rank FROM " + from + " WHERE " + where + " ORDER BY " + order + " LIMIT ?";
  };
  std::string inner;
  if (q.principals.empty()) {
    // Every open task; is_open = 1 spelt out selects the partial indexes.
    auto b = branch("tasks t", "t", "id", "t.is_open = 1", params);
    if (!b) return b.status();
    inner = "SELECT * FROM (" + *b + ") AS b0";
  } else {
    const bool needs_task = !q.definition.empty() || !q.filters.empty();
    const std::string from =
        needs_task ? "task_queue x JOIN tasks t ON t.id = x.task_id" : "task_queue x";
    for (std::size_t i = 0; i < q.principals.size(); ++i) {
      params.emplace_back(q.principals[i]);
      auto b = branch(from, "x", "task_id", "x.principal = ?", params);
      if (!b) return b.status();
      inner +=
          (i ? " UNION " : "") + std::string("SELECT * FROM (") + *b + ") AS b" + std::to_string(i);
    }
  }
  params.emplace_back(limit);
  return std::string(kTaskSelect) + " FROM (" + inner +
         ") AS u JOIN tasks t ON t.id = u.id ORDER BY " + (by_rank ? "u.rank, " : "") +
         "u.sort_due, u.id LIMIT ?";
}

// data.field OP value, compared by type: numbers numerically, strings and booleans exactly.
Result<std::string> SqlTransaction::filterSql(const TaskFilter& f, std::vector<SqlParam>& p) const {
  static const char* const kOps[] = {"=", "!=", "<", "<=", ">", ">="};
  bool field_ok = !f.field.empty() && f.field.size() <= 64 &&
                  (std::islower(static_cast<unsigned char>(f.field[0])) || f.field[0] == '_');
  for (char ch : f.field) {
    field_ok = field_ok && (std::islower(static_cast<unsigned char>(ch)) ||
                            std::isdigit(static_cast<unsigned char>(ch)) || ch == '_');
  }
  if (!field_ok) {
    return Status(ErrorCode::kInvalidArgument,
                  "a filter field is a data member name ([a-z_][a-z0-9_]*), not '" + f.field + "'");
  }
  if (std::find(std::begin(kOps), std::end(kOps), f.op) == std::end(kOps)) {
    return Status(ErrorCode::kInvalidArgument,
                  "filter operator '" + f.op + "' is not one of = != < <= > >=");
  }
  auto value = json::parse(f.value);
  if (!value || !(value->isNumber() || value->isString() || value->isBool())) {
    return Status(ErrorCode::kInvalidArgument,
                  "the value of filter '" + f.field + "' must be a JSON number, string or boolean");
  }
  if (d_ == Dialect::kPostgreSQL) {
    p.emplace_back(f.field);
    p.emplace_back(json::dump(*value));
    return "(CAST(t.data AS jsonb) -> ?) " + f.op + " CAST(? AS jsonb)";
  }
  p.emplace_back("$." + f.field);
  if (value->isNumber()) {
    p.emplace_back(json::dump(*value));
    return "json_extract(t.data, ?) " + f.op + " CAST(? AS REAL)";
  }
  if (value->isBool()) {
    p.emplace_back(Int64{value->asBool() ? 1 : 0});
  } else {
    p.emplace_back(value->asString());
  }
  return "json_extract(t.data, ?) " + f.op + " ?";
}

}  // namespace tramite::storage::sql
