// The transaction's plumbing: dialect translation, statements and batches, savepoints and
// commit. The statements of each entity are in their own sql_<entity>.cpp.
#include "sql_transaction.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>

#include <regex>
#include <sstream>

namespace tramite::storage::sql {

using Poco::Int64;

namespace {

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// A batch statement for SQLite, which runs it once per row with the row's values bound: in
// process, a statement per row costs less than building a JSON array and parsing it again.
// `x IN (SELECT j.value ->> N FROM {ROWS})` becomes `x = ?N+1`; `FROM {ROWS}` and
// `ORDER BY j.key` go (rows run in array order); every other `j.value ->> N` becomes ?N+1.
std::string perRowStatement(std::string sql) {
  static const std::regex in_rows(R"(IN \(SELECT (j\.value ->> \d+) FROM \{ROWS\}\))");
  static const std::regex column(R"(j\.value ->> (\d+))");
  sql = std::regex_replace(sql, in_rows, "= $1");
  sql = replaceAll(replaceAll(sql, " FROM {ROWS}", ""), " ORDER BY j.key", "");
  std::string out;
  auto last = sql.cbegin();
  for (std::sregex_iterator it(sql.begin(), sql.end(), column), end; it != end; ++it) {
    out.append(last, (*it)[0].first);
    out += '?' + std::to_string(std::stoi((*it)[1].str()) + 1);
    last = (*it)[0].second;
  }
  out.append(last, sql.cend());
  if (out.find("{ROWS}") != std::string::npos || out.find("j.value") != std::string::npos ||
      out.find("j.key") != std::string::npos) {
    throw std::logic_error("a batch statement SQLite cannot run per row: " + out);
  }
  return out;
}

}  // namespace

std::string base64Encode(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << bytes;
  encoder.close();
  return out.str();
}

std::optional<std::string> base64Decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  std::string bytes(std::istreambuf_iterator<char>(decoder), {});
  if (decoder.bad()) return std::nullopt;
  return bytes;
}

std::vector<std::string> splitStatements(const std::string& script) {
  std::vector<std::string> out;
  std::string stmt;
  bool quoted = false;
  for (std::size_t i = 0; i <= script.size(); ++i) {
    const char c = i < script.size() ? script[i] : ';';  // the script's end ends a statement
    if (!quoted && c == '-' && i + 1 < script.size() && script[i + 1] == '-') {
      i = std::min(script.find('\n', i), script.size()) - 1;  // to the line's end
      continue;
    }
    if (c == '\'') quoted = !quoted;
    if (c != ';' || quoted) {
      stmt += c;
      continue;
    }
    if (stmt.find_first_not_of(" \n\t") != std::string::npos) out.push_back(stmt);
    stmt.clear();
  }
  return out;
}

Status fromException(const std::exception& e, const std::string& what) {
  std::string text = e.what();
  if (const auto* pe = dynamic_cast<const Poco::Exception*>(&e)) text = pe->displayText();
  auto has = [&](const char* needle) { return text.find(needle) != std::string::npos; };
  ErrorCode code = ErrorCode::kInternal;
  if (has("UNIQUE constraint") || has("duplicate key") || has("unique constraint") ||
      has("could not serialize") || has("deadlock detected")) {
    code = ErrorCode::kConflict;
  } else if (has("locked") || has("busy") || has("connect") || has("server closed") ||
             has("terminating connection") || has("no connection") || has("Connection")) {
    code = ErrorCode::kUnavailable;
  }
  return Status(code, what + ": " + text);
}

std::string translate(Dialect d, std::string sql) {
  if (d == Dialect::kSQLite) {
    if (sql.find("{ROWS}") != std::string::npos) sql = perRowStatement(std::move(sql));
    return replaceAll(sql, "{INT}", "INTEGER");
  }
  sql = replaceAll(replaceAll(sql, "{ROWS}", "tramite_rows(CAST(? AS jsonb)) AS j(value, key)"),
                   "{INT}", "BIGINT");
  std::string out;
  out.reserve(sql.size() + 8);
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

SqlTransaction::~SqlTransaction() {
  if (open_) {
    try {
      connection().native->rollback();
    } catch (...) {
      // The connection is unusable; the pool hands out a fresh statement next time and
      // the server has already discarded the transaction.
    }
  }
  c_.reset();
  // A failed sync was reported to its committer; an abandoned transaction has no answer.
  if (wal_ && !settled_ && mode_ != TxMode::kReadAhead) (void)wal_->awaitDurable();
}

Status SqlTransaction::beginTx() {
  return guarded("begin", [&]() -> Status {
    const bool writing = mode_ == TxMode::kWrite;
    const bool pg = d_ == Dialect::kPostgreSQL;
    connection().native->begin(writing ? (pg ? "BEGIN" : "BEGIN IMMEDIATE")
                                       : (pg ? "BEGIN READ ONLY" : "BEGIN DEFERRED"));
    open_ = true;
    return Status::ok();
  });
}

Result<StoreStatistics> SqlTransaction::statistics(TimePoint now) {
  return guarded("read statistics", [&]() -> Result<StoreStatistics> {
    StoreStatistics out;
    runSql("SELECT lifecycle, COUNT(*) FROM instances GROUP BY lifecycle ORDER BY lifecycle", {},
           [&](const Row& c) { out.instances_by_lifecycle.emplace_back(c.text(0), c.integer(1)); });
    runSql(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN sort_due < ? THEN 1 ELSE 0 END), 0) FROM "
        "tasks WHERE is_open = 1",
        {Int64{now}}, [&](const Row& c) {
          out.open_tasks = c.integer(0);
          out.overdue_tasks = c.integer(1);
        });
    runSql("SELECT COALESCE(MIN(due_at), 0) FROM timers WHERE due_at <= ?", {Int64{now}},
           [&](const Row& c) { out.oldest_due_timer = c.integer(0); });
    runSql("SELECT COUNT(*) FROM parked", {}, [&](const Row& c) { out.parked = c.integer(0); });
    return out;
  });
}

Status SqlTransaction::savepoint(const std::string& name) {
  return guarded("savepoint", [&]() -> Status {
    exec("SAVEPOINT " + name);
    return Status::ok();
  });
}

Status SqlTransaction::releaseSavepoint(const std::string& name) {
  return guarded("release savepoint", [&]() -> Status {
    exec("RELEASE SAVEPOINT " + name);
    return Status::ok();
  });
}

Status SqlTransaction::rollbackToSavepoint(const std::string& name) {
  return guarded("rollback to savepoint", [&]() -> Status {
    exec("ROLLBACK TO SAVEPOINT " + name);
    return Status::ok();
  });
}

Status SqlTransaction::commit() {
  const std::uint64_t n = wal_ && mode_ == TxMode::kWrite ? wal_->begin() : 0;
  Status st = guarded("commit", [&]() -> Status {
    connection().native->commit();
    open_ = false;
    // Back to the pool at once: a caller may keep the finished transaction in scope while
    // it starts another (SQLite's writer connection is one), and with pipelined sync the
    // next write transaction runs while this one syncs.
    c_.reset();
    return Status::ok();
  });
  if (!wal_) return st;
  settled_ = true;
  Status durable = Status::ok();
  if (n > 0) {
    durable = wal_->sync(n);
  } else if (mode_ != TxMode::kReadAhead) {
    durable = wal_->awaitDurable();
  }
  return st ? durable : st;
}

// Runs a migration script (used by the store while opening).
void SqlTransaction::execScript(const std::string& script) {
  for (const std::string& stmt : splitStatements(script)) exec(stmt);
}

// Statements without parameters are prepared once per connection.
void SqlTransaction::exec(const std::string& text) {
  connection().native->run(text, {});
}

// The version recorded in schema_version; 0 when none is (a new database).
Result<int> SqlTransaction::recordedSchemaVersion() {
  auto v = selectOne<std::int64_t>("read schema version", "SELECT version FROM schema_version", {},
                                   [](const Row& c) { return c.integer(0); });
  if (!v) return v.status();
  return static_cast<int>(v->value_or(0));
}

// The connection, while the transaction has not been committed (using it after is a bug).
Connection& SqlTransaction::connection() {
  if (!c_) throw std::logic_error("a statement on a transaction already committed");
  return *c_;
}

// text in this dialect, translated once per connection.
const std::string& SqlTransaction::sql(const std::string& text) {
  auto [it, fresh] = connection().translated.try_emplace(text);
  if (fresh) it->second = translate(d_, text);
  return it->second;
}

// Runs a statement over {ROWS}, each row an array of integers, booleans, strings and nulls:
// on PostgreSQL once, with rows as its JSON parameter; on SQLite once per row. on_row sees
// the result rows. Returns the rows changed.
std::size_t SqlTransaction::runBatch(
    const std::string& text, json::Array rows,
    const std::function<void(const NativeStatements::Row&)>& on_row) {
  Connection& c = connection();
  const std::string& statement = sql(text);
  if (d_ == Dialect::kPostgreSQL) {
    c.batch_rows = json::dump(json::Value(std::move(rows)));
    return c.native->run(statement, {std::string_view(c.batch_rows)}, on_row);
  }
  std::size_t changed = 0;
  std::vector<NativeStatements::Param> params;
  for (const json::Value& row : rows) {
    params.clear();
    for (const json::Value& v : row.asArray()) params.push_back(batchParam(v));
    changed += c.native->run(statement, params, on_row);
  }
  return changed;
}

// runBatch for a write, through writeSql on PostgreSQL; a write that does not change the
// rows expected throws ConflictError (when its answer arrives, if it was deferred).
void SqlTransaction::writeBatch(const std::string& text, json::Array rows,
                                std::optional<Expected> expected) {
  NativeStatements::Check check;
  if (expected) {
    check = [e = std::move(*expected)](std::size_t changed) {
      if (changed != e.rows) throw ConflictError(e.conflict);
    };
  }
  if (d_ == Dialect::kPostgreSQL) {
    writeSql(text, {json::dump(json::Value(std::move(rows)))}, std::move(check));
    return;
  }
  const std::size_t changed = runBatch(text, std::move(rows));
  if (check) check(changed);
}

// runSql for a write whose answer only check needs: handed to NativeStatements::defer
// while pipelining (PostgreSQL keeps it for the next round trip, SQLite runs it at once),
// run at once otherwise. Returns the rows it changed; 0 while pipelining (not known yet).
std::size_t SqlTransaction::writeSql(const std::string& text, const std::vector<SqlParam>& params,
                                     NativeStatements::Check check) {
  if (pipelining_) {
    connection().native->defer(sql(text), nativeParams(params), std::move(check));
    return 0;
  }
  const std::size_t changed = runSql(text, params, {});
  if (check) check(changed);
  return changed;
}

NativeStatements::Param SqlTransaction::batchParam(const json::Value& v) {
  if (v.isInt()) return v.asInt();
  if (v.isString()) return std::string_view(v.asString());
  if (v.isBool()) return std::int64_t{v.asBool() ? 1 : 0};
  if (v.isNull()) return std::monostate{};
  throw std::logic_error("a batch row value that is not an integer, boolean, string or null");
}

// Runs a write; returns the rows it changed, errors as Status naming what.
Result<int> SqlTransaction::changed(const char* what, const std::string& text,
                                    const std::vector<SqlParam>& params) {
  return guarded(what, [&]() -> Result<int> { return static_cast<int>(runSql(text, params, {})); });
}

// Runs a write through writeSql; returns the rows it changed (0 while pipelining), errors
// as Status naming what.
Result<int> SqlTransaction::written(const char* what, const std::string& text,
                                    const std::vector<SqlParam>& params) {
  return guarded(what, [&]() -> Result<int> { return static_cast<int>(writeSql(text, params)); });
}

// Appends an event for an instance to the inbox or the deferred table (same columns).
Status SqlTransaction::addEventRow(const std::string& table, const std::string& instance_id,
                                   const std::string& event, TimePoint now) {
  return guarded("add event to " + table, [&]() -> Status {
    writeSql("INSERT INTO " + table + " (instance_id, event, created_at) VALUES (?, ?, ?)",
             {instance_id, event, Int64{now}});
    return Status::ok();
  });
}

// Runs a statement with positional parameters and hands each result row to on_row;
// returns the rows a write changed.
std::size_t SqlTransaction::runSql(const std::string& text, const std::vector<SqlParam>& params,
                                   const std::function<void(const Row&)>& on_row) {
  return connection().native->run(sql(text), nativeParams(params), on_row);
}

// params as native statements take them (viewing params' strings).
std::vector<NativeStatements::Param> SqlTransaction::nativeParams(
    const std::vector<SqlParam>& params) {
  std::vector<NativeStatements::Param> bound;
  bound.reserve(params.size());
  for (const SqlParam& p : params) {
    if (const auto* i = std::get_if<std::int64_t>(&p)) {
      bound.emplace_back(*i);
    } else {
      bound.emplace_back(std::string_view(std::get<std::string>(p)));
    }
  }
  return bound;
}

std::vector<std::string> SqlTransaction::splitWords(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string w; ss >> w;) out.push_back(w);
  return out;
}

}  // namespace tramite::storage::sql
