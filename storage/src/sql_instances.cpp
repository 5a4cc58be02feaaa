// Instances (versioned rows, batch writes, searches) and idempotency keys.
#include "sql_transaction.h"

namespace tramite::storage::sql {

using Poco::Int64;

Result<std::optional<InstanceRecord>> SqlTransaction::instance(const std::string& id) {
  auto found = instances({id});
  if (!found) return found.status();
  if (found->empty()) return std::optional<InstanceRecord>();
  return std::optional<InstanceRecord>(std::move(found->front()));
}

Result<std::vector<InstanceRecord>> SqlTransaction::instances(const std::vector<std::string>& ids) {
  return guarded("read instances", [&]() -> Result<std::vector<InstanceRecord>> {
    json::Array rows;
    for (const std::string& id : ids) rows.emplace_back(json::Array{json::Value(id)});
    std::vector<InstanceRecord> out;
    runBatch(
        "SELECT id, definition_id, business_key, lifecycle, session, row_version, created_at, "
        "updated_at FROM instances WHERE id IN (SELECT j.value ->> 0 FROM {ROWS})",
        std::move(rows), [&](const Row& r) {
          out.push_back(InstanceRecord{r.text(0),
                                       r.integer(1),
                                       r.text(2),
                                       r.text(3),
                                       r.text(4),
                                       r.integer(5),
                                       r.integer(6),
                                       r.integer(7),
                                       {},
                                       {}});
        });
    return out;
  });
}

Status SqlTransaction::writeInstances(const std::vector<InstanceWrite>& writes) {
  return guarded("write instances", [&]() -> Status {
    json::Array inserts;
    json::Array updates;
    for (const InstanceWrite& w : writes) {
      const InstanceRecord& r = w.record;
      if (w.expected_version == 0) {
        inserts.emplace_back(json::Array{r.id, r.definition_id, r.business_key, r.lifecycle,
                                         r.session, r.row_version, r.created_at, r.updated_at,
                                         r.states, r.unit});
      } else {
        updates.emplace_back(json::Array{r.id, r.definition_id, r.lifecycle, r.session,
                                         r.row_version, r.updated_at, w.expected_version,
                                         r.states});
      }
    }
    if (!inserts.empty()) {
      writeBatch(
          "INSERT INTO instances (id, definition_id, business_key, lifecycle, session, "
          "row_version, created_at, updated_at, states, unit) SELECT j.value ->> 0, "
          "CAST(j.value ->> 1 AS {INT}), j.value ->> 2, j.value ->> 3, j.value ->> 4, "
          "CAST(j.value ->> 5 AS {INT}), CAST(j.value ->> 6 AS {INT}), CAST(j.value ->> 7 AS "
          "{INT}), j.value ->> 8, j.value ->> 9 FROM {ROWS} ORDER BY j.key",
          std::move(inserts));
    }
    if (!updates.empty()) {
      std::string ids;
      for (const InstanceWrite& w : writes) {
        if (w.expected_version != 0) ids += (ids.empty() ? "" : ", ") + w.record.id;
      }
      const std::size_t expected = updates.size();
      writeBatch(
          "UPDATE instances SET definition_id = CAST(j.value ->> 1 AS {INT}), lifecycle = "
          "j.value ->> 2, session = j.value ->> 3, row_version = CAST(j.value ->> 4 AS {INT}), "
          "updated_at = CAST(j.value ->> 5 AS {INT}), states = j.value ->> 7 FROM {ROWS} "
          "WHERE instances.id = j.value ->> 0 AND instances.row_version = CAST(j.value ->> 6 "
          "AS {INT})",
          std::move(updates),
          Expected{expected,
                   "instance " + ids + " was changed concurrently (the version read is stale)"});
    }
    return Status::ok();
  });
}

Result<std::int64_t> SqlTransaction::countInstances() {
  auto n = selectOne<std::int64_t>("count instances", "SELECT COUNT(*) FROM instances", {},
                                   [](const Row& c) { return c.integer(0); });
  if (!n) return n.status();
  return n->value_or(0);
}

Result<std::optional<std::string>> SqlTransaction::idempotentResult(const std::string& scope,
                                                                    const std::string& key) {
  return selectOne<std::string>("read idempotency key",
                                "SELECT result FROM idempotency WHERE scope = ? AND key = ?",
                                {scope, key}, [](const Row& c) { return c.text(0); });
}

Status SqlTransaction::saveIdempotentResults(const std::vector<IdempotencyRecord>& records) {
  return guarded("save idempotency keys", [&]() -> Status {
    json::Array rows;
    for (const IdempotencyRecord& r : records) {
      rows.emplace_back(json::Array{r.scope, r.key, r.result, r.created_at});
    }
    if (!rows.empty()) {
      writeBatch(
          "INSERT INTO idempotency (scope, key, result, created_at) SELECT j.value ->> 0, "
          "j.value ->> 1, j.value ->> 2, CAST(j.value ->> 3 AS {INT}) FROM {ROWS} ORDER BY j.key",
          std::move(rows));
    }
    return Status::ok();
  });
}

Result<std::vector<InstanceSummary>> SqlTransaction::searchInstances(const InstanceQuery& q) {
  if (q.limit < 1 || q.limit > 500) {
    return Status(ErrorCode::kInvalidArgument, "a page has 1 to 500 instances");
  }
  std::string sql =
      "SELECT i.id, d.name, d.version, i.business_key, i.lifecycle, i.states, i.unit, "
      "i.created_at, i.updated_at FROM instances i JOIN definitions d ON d.id = "
      "i.definition_id WHERE 1 = 1";
  std::vector<SqlParam> params;
  auto where = [&](const char* clause, SqlParam value) {
    sql += clause;
    params.push_back(std::move(value));
  };
  if (!q.definition.empty()) where(" AND d.name = ?", q.definition);
  if (!q.business_key.empty()) {
    where(" AND i.business_key LIKE ? ESCAPE '!'", likePrefix(q.business_key) + "%");
  }
  if (!q.lifecycle.empty()) where(" AND i.lifecycle = ?", q.lifecycle);
  if (!q.state.empty()) {
    where(" AND i.states LIKE ? ESCAPE '!'", "% " + likePrefix(q.state) + " %");
  }
  if (!q.unit.empty()) where(" AND i.unit = ?", q.unit);
  if (q.created_from > 0) where(" AND i.created_at >= ?", Int64{q.created_from});
  if (q.created_before > 0) where(" AND i.created_at < ?", Int64{q.created_before});
  if (!q.participants.empty() || !q.principals.empty()) {
    std::string any;
    if (!q.participants.empty()) {
      any += "EXISTS (SELECT 1 FROM history h WHERE h.instance_id = i.id AND h.actor IN (" +
             placeholders(q.participants.size()) + "))";
      for (const std::string& p : q.participants) params.emplace_back(p);
    }
    if (!q.principals.empty()) {
      any += std::string(any.empty() ? "" : " OR ") +
             "EXISTS (SELECT 1 FROM tasks t JOIN task_queue tq ON tq.task_id = t.id WHERE "
             "t.instance_id = i.id AND tq.principal IN (" +
             placeholders(q.principals.size()) + "))";
      for (const std::string& p : q.principals) params.emplace_back(p);
    }
    sql += " AND (" + any + ")";
  }
  if (!q.after_id.empty()) {
    sql += " AND (i.created_at < ? OR (i.created_at = ? AND i.id < ?))";
    params.emplace_back(Int64{q.after_created});
    params.emplace_back(Int64{q.after_created});
    params.emplace_back(q.after_id);
  }
  sql += " ORDER BY i.created_at DESC, i.id DESC LIMIT ?";
  params.emplace_back(Int64{q.limit});
  return selectAll<InstanceSummary>("search instances", sql, params, [](const Row& c) {
    return InstanceSummary{c.text(0), c.text(1),    static_cast<std::int32_t>(c.integer(2)),
                           c.text(3), c.text(4),    c.text(5),
                           c.text(6), c.integer(7), c.integer(8)};
  });
}

// LIKE's wildcards and the escape character in text, escaped with '!'.
std::string SqlTransaction::likePrefix(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '!') out += '!';
    out += c;
  }
  return out;
}

std::string SqlTransaction::placeholders(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

}  // namespace tramite::storage::sql
