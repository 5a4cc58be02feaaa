// One SQL implementation of the store for two dialects (SQLite, PostgreSQL) over Poco::Data.
// Statements are written once with '?' placeholders; the PostgreSQL dialect numbers them.
#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <variant>

#include "migrations.h"
#include "native_statements.h"
#include "tramite/audit/entry.h"
#include "tramite/json.h"
#include "tramite/storage/store.h"
#include "tramite/text.h"
#include "wal_sync.h"

namespace tramite::storage {

namespace {

using namespace Poco::Data::Keywords;
using Poco::Int64;

enum class Dialect { kSQLite, kPostgreSQL };

void registerConnectors() {
  static std::once_flag once;
  std::call_once(once, [] {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::PostgreSQL::Connector::registerConnector();
  });
}

// ---- migrations (storage/schema, compiled in: migrations.h) --------------------------------

std::string base64Encode(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << bytes;
  encoder.close();
  return out.str();
}

// The bytes of base64 text; nothing when the text is not base64.
std::optional<std::string> base64Decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  std::string bytes(std::istreambuf_iterator<char>(decoder), {});
  if (decoder.bad()) return std::nullopt;
  return bytes;
}

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// A migration script's statements: split at each ';' outside a quoted string ('...', where
// '' is a quote inside one), so a function body may hold statements of its own; -- comments
// outside quotes are dropped.
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

// ---- errors ---------------------------------------------------------------------------------

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

// A versioned write found another version: thrown where the rows it changed are counted,
// which for a deferred write is the statement that carried it (see NativeStatements::defer).
class ConflictError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs f, turning any exception into a Status. f returns a Result<T> or Status.
template <typename F>
auto guarded(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ConflictError& e) {
    return Status(ErrorCode::kConflict, e.what());
  } catch (const std::exception& e) {
    return fromException(e, what);
  }
}

// ---- connections ----------------------------------------------------------------------------

// One database connection. Every statement runs on its native handle, prepared once per
// connection (see native_statements.h); the Poco session owns the handle.
struct Connection {
  explicit Connection(std::unique_ptr<Poco::Data::Session> s) : session(std::move(s)) {}
  std::unique_ptr<Poco::Data::Session> session;
  std::unique_ptr<NativeStatements> native;  // released before the session closes the handle

  // Statement texts as written (with ?, {ROWS}, {INT}) -> this dialect's text.
  std::unordered_map<std::string, std::string> translated;
  std::string batch_rows;  // the JSON parameter of the last batch statement
};

// Connections for exclusive use. With a dedicated writer (SQLite on a file), write
// transactions take turns on one connection of their own and reads share the others: SQLite
// admits one writer at a time anyway, and a connection discards its whole page cache when it
// finds that another connection has written since its last transaction, so the one writer's
// cache stays warm from commit to commit instead of being read again from the file.
class ConnectionPool {
 public:
  ConnectionPool(Dialect dialect, std::string connector, std::string connection, int size,
                 bool dedicated_writer, StoreOptions options)
      : dialect_(dialect),
        connector_(std::move(connector)),
        connection_(std::move(connection)),
        options_(std::move(options)) {
    readers_.max = size;
    writer_.max = dedicated_writer ? 1 : 0;
  }

  // A connection for exclusive use (for a write transaction when writing), returned to the
  // pool when the handle dies. Blocks while every connection it may use is taken; the writer
  // is waited for up to busy_timeout_ms, as SQLite waits for another process's write lock,
  // then this throws (a busy database).
  std::shared_ptr<Connection> acquire(bool writing) {
    const bool writer = writing && writer_.max > 0;
    Slots& slots = writer ? writer_ : readers_;
    std::unique_lock<std::mutex> lock(mu_);
    auto available = [&] { return !slots.free.empty() || slots.created < slots.max; };
    if (!writer) {
      slots.cv.wait(lock, available);
    } else if (!slots.cv.wait_for(lock, std::chrono::milliseconds(options_.busy_timeout_ms),
                                  available)) {
      throw std::runtime_error("database is locked: another write transaction is still open");
    }
    std::unique_ptr<Connection> s;
    if (!slots.free.empty()) {
      s = std::move(slots.free.back());
      slots.free.pop_back();
    } else {
      ++slots.created;
      lock.unlock();
      try {
        s = open();
      } catch (...) {
        std::lock_guard<std::mutex> relock(mu_);
        --slots.created;
        slots.cv.notify_one();
        throw;
      }
    }
    return std::shared_ptr<Connection>(s.release(), [this, &slots](Connection* p) {
      // A connection that failed (server restart, protocol error) is closed, not reused.
      bool healthy = false;
      try {
        healthy = p->session->isConnected();
      } catch (...) {
      }
      std::lock_guard<std::mutex> relock(mu_);
      if (healthy) {
        slots.free.emplace_back(p);
      } else {
        delete p;
        --slots.created;
      }
      slots.cv.notify_one();
    });
  }

  Dialect dialect() const { return dialect_; }

 private:
  std::unique_ptr<Connection> open() {
    auto s = std::make_unique<Poco::Data::Session>(connector_, connection_);
    if (dialect_ == Dialect::kSQLite) {
      *s << "PRAGMA journal_mode=WAL", now;
      *s << "PRAGMA synchronous=" + options_.sqlite_synchronous, now;
      *s << "PRAGMA busy_timeout=" + std::to_string(options_.busy_timeout_ms), now;
      *s << "PRAGMA foreign_keys=ON", now;
      *s << "PRAGMA mmap_size=" + std::to_string(options_.sqlite_mmap_bytes), now;
      *s << "PRAGMA cache_size=-" + std::to_string(options_.sqlite_cache_kib), now;
    } else {
      *s << "SET client_min_messages TO WARNING", now;
    }
    auto c = std::make_unique<Connection>(std::move(s));
    if (dialect_ == Dialect::kSQLite) {
      c->native = sqliteStatements(Poco::Data::SQLite::Utility::dbHandle(*c->session));
    } else {
      auto* impl = dynamic_cast<Poco::Data::PostgreSQL::SessionImpl*>(c->session->impl());
      if (!impl) throw std::logic_error("a PostgreSQL session without its connection handle");
      c->native = postgresStatements(static_cast<PGconn*>(impl->handle()));
    }
    return c;
  }

  struct Slots {
    int max = 0;
    int created = 0;
    std::vector<std::unique_ptr<Connection>> free;
    std::condition_variable cv;
  };

  Dialect dialect_;
  std::string connector_;
  std::string connection_;
  StoreOptions options_;
  std::mutex mu_;
  Slots readers_;
  Slots writer_;
};

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

// '?' placeholders become $1, $2, ... for PostgreSQL. {ROWS} is a table of the rows of a JSON
// array parameter (each row an array, read as j.value ->> N, in array order by j.key); SQLite
// runs such a statement per row instead (perRowStatement). {INT} is the 64-bit integer type.
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

// ---- transaction ----------------------------------------------------------------------------

// With pipelined sync (wal given), a transaction's end follows WalSync's rules: a commit
// syncs after handing its connection on, and every other end but a read-ahead's waits until
// what it could have seen is durable.
class SqlTransaction final : public Transaction {
 public:
  SqlTransaction(Dialect dialect, std::shared_ptr<Connection> connection, TxMode mode, WalSync* wal)
      : d_(dialect), c_(std::move(connection)), mode_(mode), wal_(wal) {}

  ~SqlTransaction() override {
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

  Status beginTx() {
    return guarded("begin", [&]() -> Status {
      const bool writing = mode_ == TxMode::kWrite;
      const bool pg = d_ == Dialect::kPostgreSQL;
      connection().native->begin(writing ? (pg ? "BEGIN" : "BEGIN IMMEDIATE")
                                         : (pg ? "BEGIN READ ONLY" : "BEGIN DEFERRED"));
      open_ = true;
      return Status::ok();
    });
  }

  Result<DefinitionRecord> addDefinition(const std::string& name, const std::string& sha256,
                                         const std::string& xml, TimePoint now) override {
    return guarded("add definition", [&]() -> Result<DefinitionRecord> {
      DefinitionRecord r{0, name, 0, sha256, xml, now};
      runSql("SELECT COALESCE(MAX(version), 0) + 1 FROM definitions WHERE name = ?", {name},
             [&](const Row& c) { r.version = static_cast<std::int32_t>(c.integer(0)); });
      runSql(
          "INSERT INTO definitions (name, version, sha256, xml, created_at) VALUES (?, ?, ?, ?, "
          "?) RETURNING id",
          {name, Int64{r.version}, sha256, xml, Int64{now}},
          [&](const Row& c) { r.id = c.integer(0); });
      return r;
    });
  }

  Result<std::optional<DefinitionRecord>> definition(const std::string& name,
                                                     std::int32_t version) override {
    if (version > 0) {
      return selectOne<DefinitionRecord>(
          "read definition", kDefinitionHeader + std::string(" WHERE name = ? AND version = ?"),
          {name, Int64{version}}, readDefinition);
    }
    return selectOne<DefinitionRecord>(
        "read definition",
        kDefinitionHeader + std::string(" WHERE name = ? ORDER BY version DESC LIMIT 1"), {name},
        readDefinition);
  }

  Result<std::optional<DefinitionRecord>> definitionById(std::int64_t id) override {
    return selectOne<DefinitionRecord>("read definition",
                                       kDefinitionColumns + std::string(" WHERE id = ?"),
                                       {Int64{id}}, readDefinition);
  }

  Result<std::vector<DefinitionRecord>> definitionVersions(const std::string& name) override {
    return selectAll<DefinitionRecord>(
        "list definitions", kDefinitionHeader + std::string(" WHERE name = ? ORDER BY version"),
        {name}, readDefinition);
  }

  Result<std::optional<InstanceRecord>> instance(const std::string& id) override {
    auto found = instances({id});
    if (!found) return found.status();
    if (found->empty()) return std::optional<InstanceRecord>();
    return std::optional<InstanceRecord>(std::move(found->front()));
  }

  Result<std::vector<InstanceRecord>> instances(const std::vector<std::string>& ids) override {
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

  Status writeInstances(const std::vector<InstanceWrite>& writes) override {
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

  Result<std::int64_t> countInstances() override {
    auto n = selectOne<std::int64_t>("count instances", "SELECT COUNT(*) FROM instances", {},
                                     [](const Row& c) { return c.integer(0); });
    if (!n) return n.status();
    return n->value_or(0);
  }

  Result<std::optional<std::string>> idempotentResult(const std::string& scope,
                                                      const std::string& key) override {
    return selectOne<std::string>("read idempotency key",
                                  "SELECT result FROM idempotency WHERE scope = ? AND key = ?",
                                  {scope, key}, [](const Row& c) { return c.text(0); });
  }

  Status saveIdempotentResults(const std::vector<IdempotencyRecord>& records) override {
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

  Result<std::int64_t> addTimer(const TimerRecord& t) override {
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

  Result<int> cancelTimers(const std::string& instance_id, const std::string& sendid) override {
    return written("cancel timers", "DELETE FROM timers WHERE instance_id = ? AND sendid = ?",
                   {instance_id, sendid});
  }

  Result<int> cancelAllTimers(const std::string& instance_id) override {
    return written("cancel timers", "DELETE FROM timers WHERE instance_id = ?", {instance_id});
  }

  Result<std::vector<TimerRecord>> dueTimers(TimePoint now, int limit) override {
    std::string text =
        std::string(kTimerColumns) + " WHERE due_at <= ? ORDER BY due_at, id LIMIT ?";
    if (d_ == Dialect::kPostgreSQL) text += " FOR UPDATE SKIP LOCKED";
    return selectAll<TimerRecord>("read due timers", text, {Int64{now}, Int64{limit}}, readTimer);
  }

  Result<bool> claimTimer(std::int64_t id) override {
    auto n = changed("claim timer", "DELETE FROM timers WHERE id = ?", {Int64{id}});
    if (!n) return n.status();
    return *n == 1;
  }

  Result<std::vector<TimerRecord>> timersOf(const std::string& instance_id) override {
    return selectAll<TimerRecord>(
        "read timers", std::string(kTimerColumns) + " WHERE instance_id = ? ORDER BY due_at, id",
        {instance_id}, readTimer);
  }

  Result<std::optional<TimePoint>> nextTimerDue() override {
    return selectOne<TimePoint>("read next timer",
                                "SELECT due_at FROM timers ORDER BY due_at LIMIT 1", {},
                                [](const Row& c) { return c.integer(0); });
  }

  Status enqueueInbox(const std::string& instance_id, const std::string& event,
                      TimePoint now) override {
    return addEventRow("inbox", instance_id, event, now);
  }

  Result<std::vector<InboxRecord>> inbox(int limit) override {
    std::string text = "SELECT seq, instance_id, event, created_at FROM inbox ORDER BY seq LIMIT ?";
    if (d_ == Dialect::kPostgreSQL) text += " FOR UPDATE SKIP LOCKED";
    return selectAll<InboxRecord>("read inbox", text, {Int64{limit}}, [](const Row& c) {
      return InboxRecord{c.integer(0), c.text(1), c.text(2), c.integer(3)};
    });
  }

  Result<bool> claimInbox(std::int64_t seq) override {
    auto n = changed("claim inbox event", "DELETE FROM inbox WHERE seq = ?", {Int64{seq}});
    if (!n) return n.status();
    return *n == 1;
  }

  Status appendHistory(const std::vector<HistoryRecord>& rows) override {
    return guarded("append history", [&]() -> Status {
      if (rows.empty()) return Status::ok();
      // Leaf hashes do not depend on the head: computed before it is locked.
      std::vector<audit::Hash> leaves;
      leaves.reserve(rows.size());
      for (const HistoryRecord& r : rows) {
        leaves.push_back(audit::entryLeafHash(
            audit::LedgerEntry{r.instance_id, r.at, r.actor, r.kind, r.detail}));
      }
      // The head row is read for update: appends take turns, so ledger order is commit order
      // and every row gets the next seq and the next leaf index.
      std::int64_t last_seq = 0;
      auto range = readLedgerHead(/*for_update=*/true, &last_seq);
      if (!range) return range.status();
      json::Array values;
      json::Array nodes;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const HistoryRecord& r = rows[i];
        values.emplace_back(json::Array{++last_seq, r.instance_id, r.at, r.actor, r.kind, r.detail,
                                        static_cast<std::int64_t>(range->size()),
                                        audit::toHex(leaves[i])});
        appendLeaf(*range, leaves[i], nodes);
      }
      writeBatch(
          "INSERT INTO history (seq, instance_id, at, actor, kind, detail, ledger_idx, leaf_hash) "
          "SELECT CAST(j.value ->> 0 AS {INT}), j.value ->> 1, CAST(j.value ->> 2 AS {INT}), "
          "j.value ->> 3, j.value ->> 4, j.value ->> 5, CAST(j.value ->> 6 AS {INT}), "
          "j.value ->> 7 FROM {ROWS} ORDER BY j.key",
          std::move(values));
      saveLedger(*range, std::move(nodes), last_seq);
      return Status::ok();
    });
  }

  Result<std::vector<HistoryRecord>> history(const std::string& instance_id, std::int64_t after_seq,
                                             int limit) override {
    return selectAll<HistoryRecord>(
        "read history",
        "SELECT seq, instance_id, at, actor, kind, detail FROM history WHERE instance_id = ? AND "
        "seq > ? ORDER BY seq LIMIT ?",
        {instance_id, Int64{after_seq}, Int64{limit}}, [](const Row& c) {
          return HistoryRecord{c.integer(0), c.text(1), c.integer(2),
                               c.text(3),    c.text(4), c.text(5)};
        });
  }

  // Migration 4: appends the rows written before the ledger existed, in seq order.
  void ledgerExistingHistory() {
    audit::CompactRange range;
    json::Array nodes;
    std::int64_t last_seq = 0;
    for (;;) {
      json::Array updates;
      runSql(
          "SELECT seq, instance_id, at, actor, kind, detail FROM history WHERE seq > ? ORDER BY "
          "seq LIMIT 10000",
          {Int64{last_seq}}, [&](const Row& c) {
            last_seq = c.integer(0);
            const audit::Hash leaf = audit::entryLeafHash(
                audit::LedgerEntry{c.text(1), c.integer(2), c.text(3), c.text(4), c.text(5)});
            updates.emplace_back(
                json::Array{last_seq, static_cast<std::int64_t>(range.size()), audit::toHex(leaf)});
            appendLeaf(range, leaf, nodes);
          });
      if (updates.empty()) break;
      runBatch(
          "UPDATE history SET ledger_idx = CAST(j.value ->> 1 AS {INT}), leaf_hash = j.value "
          "->> 2 FROM {ROWS} WHERE history.seq = CAST(j.value ->> 0 AS {INT})",
          std::move(updates));
    }
    saveLedger(range, std::move(nodes), last_seq);
  }

  // Appends a leaf to the tree's right edge, keeping the subtrees it completes that are
  // stored (as rows for ledger_nodes).
  static void appendLeaf(audit::CompactRange& range, const audit::Hash& leaf, json::Array& nodes) {
    range.append(leaf, [&](int level, std::uint64_t index, const audit::Hash& h) {
      if (level >= audit::kStoredLevel) {
        nodes.emplace_back(json::Array{level, static_cast<std::int64_t>(index), audit::toHex(h)});
      }
    });
  }

  // Stores the completed subtrees and the new head.
  void saveLedger(const audit::CompactRange& range, json::Array nodes, std::int64_t last_seq) {
    if (!nodes.empty()) {
      writeBatch(
          "INSERT INTO ledger_nodes (level, idx, hash) SELECT CAST(j.value ->> 0 AS {INT}), "
          "CAST(j.value ->> 1 AS {INT}), j.value ->> 2 FROM {ROWS}",
          std::move(nodes));
    }
    writeSql("UPDATE ledger_head SET size = ?, last_seq = ?, frontier = ? WHERE id = 1",
             {Int64{static_cast<std::int64_t>(range.size())}, Int64{last_seq}, range.toText()});
  }

  Result<audit::CompactRange> ledgerHead() override {
    return guarded("read the ledger head", [&] { return readLedgerHead(false, nullptr); });
  }

  // The head row: the tree's right edge, and the last history seq when last_seq is given.
  // for_update locks the row until the transaction ends (PostgreSQL; SQLite has one writer).
  Result<audit::CompactRange> readLedgerHead(bool for_update, std::int64_t* last_seq) {
    std::uint64_t size = 0;
    std::string frontier;
    runSql(std::string("SELECT size, last_seq, frontier FROM ledger_head WHERE id = 1") +
               (for_update && d_ == Dialect::kPostgreSQL ? " FOR UPDATE" : ""),
           {}, [&](const Row& c) {
             size = static_cast<std::uint64_t>(c.integer(0));
             if (last_seq) *last_seq = c.integer(1);
             frontier = c.text(2);
           });
    auto range = audit::CompactRange::fromText(size, frontier);
    if (!range) return Status(ErrorCode::kInternal, "ledger head: " + range.status().message());
    return range;
  }

  Result<std::vector<LedgerRow>> ledgerRowsOf(const std::string& instance_id) override {
    return selectAll<LedgerRow>("read an instance's ledger entries",
                                std::string(kLedgerColumns) + "WHERE instance_id = ? ORDER BY seq",
                                {instance_id}, readLedgerRow);
  }

  Result<std::vector<LedgerRow>> ledgerRows(std::int64_t from, int limit) override {
    return guarded("read the ledger", [&]() -> Result<std::vector<LedgerRow>> {
      std::vector<LedgerRow> out;
      auto read = [&](const Row& c) { out.push_back(readLedgerRow(c)); };
      const char* columns = kLedgerColumns;
      if (from < 0) {
        runSql(std::string(columns) + "WHERE ledger_idx IS NULL ORDER BY seq LIMIT ?",
               {Int64{limit}}, read);
      }
      const int left = limit - static_cast<int>(out.size());
      if (left > 0) {
        runSql(std::string(columns) + "WHERE ledger_idx >= ? ORDER BY ledger_idx LIMIT ?",
               {Int64{std::max<std::int64_t>(from, 0)}, Int64{left}}, read);
      }
      return out;
    });
  }

  Result<std::vector<audit::Hash>> ledgerLeaves(std::uint64_t begin, std::uint64_t end) override {
    return guarded("read ledger leaves", [&]() -> Result<std::vector<audit::Hash>> {
      std::vector<audit::Hash> out;
      Status bad;
      runSql(
          "SELECT leaf_hash FROM history WHERE ledger_idx >= ? AND ledger_idx < ? ORDER BY "
          "ledger_idx",
          {Int64{static_cast<std::int64_t>(begin)}, Int64{static_cast<std::int64_t>(end)}},
          [&](const Row& c) {
            auto h = audit::hashFromHex(c.text(0));
            if (h) {
              out.push_back(*h);
            } else {
              bad = h.status();
            }
          });
      if (!bad) return Status(ErrorCode::kInternal, "ledger leaf: " + bad.message());
      return out;
    });
  }

  Result<std::optional<audit::Hash>> ledgerNode(int level, std::uint64_t index) override {
    auto text = selectOne<std::string>("read a ledger node",
                                       "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?",
                                       {Int64{level}, Int64{static_cast<std::int64_t>(index)}},
                                       [](const Row& c) { return c.text(0); });
    if (!text) return text.status();
    if (!*text) return std::optional<audit::Hash>();
    auto h = audit::hashFromHex(**text);
    if (!h) return Status(ErrorCode::kInternal, "ledger node: " + h.status().message());
    return std::optional<audit::Hash>(*h);
  }

  Result<std::vector<LedgerNode>> ledgerNodes() override {
    return selectAll<LedgerNode>(
        "read ledger nodes", "SELECT level, idx, hash FROM ledger_nodes ORDER BY level, idx", {},
        [](const Row& c) {
          auto h = audit::hashFromHex(c.text(2));  // unreadable: zeros, which never match
          return LedgerNode{static_cast<int>(c.integer(0)),
                            static_cast<std::uint64_t>(c.integer(1)), h ? *h : audit::Hash{}};
        });
  }

  Status addCheckpoint(const audit::Checkpoint& cp) override {
    return guarded("add a checkpoint", [&]() -> Status {
      runSql(
          "INSERT INTO ledger_checkpoints (size, root, signed_at, key_id, signature, previous, "
          "tsa_token) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {Int64{static_cast<std::int64_t>(cp.size)}, audit::toHex(cp.root), Int64{cp.signed_at},
           cp.key_id, cp.signature, cp.previous, base64Encode(cp.timestamp)},
          {});
      return Status::ok();
    });
  }

  // An unreadable stored hash reads as zeros, which no recomputed hash matches.
  static audit::Checkpoint readCheckpoint(const NativeStatements::Row& c) {
    auto root = audit::hashFromHex(c.text(1));
    return audit::Checkpoint{static_cast<std::uint64_t>(c.integer(0)),
                             root ? *root : audit::Hash{},
                             c.integer(2),
                             c.text(3),
                             c.text(4),
                             c.text(5),
                             base64Decode(c.text(6)).value_or("unreadable base64")};
  }

  Result<std::vector<audit::Checkpoint>> checkpoints(std::uint64_t from_size, int limit) override {
    return selectAll<audit::Checkpoint>(
        "read checkpoints",
        "SELECT size, root, signed_at, key_id, signature, previous, tsa_token FROM "
        "ledger_checkpoints WHERE "
        "size >= ? "
        "ORDER BY size LIMIT ?",
        {Int64{static_cast<std::int64_t>(from_size)}, Int64{limit}}, readCheckpoint);
  }

  Result<std::optional<audit::Checkpoint>> latestCheckpoint() override {
    return selectOne<audit::Checkpoint>(
        "read the latest checkpoint",
        "SELECT size, root, signed_at, key_id, signature, previous, tsa_token FROM "
        "ledger_checkpoints ORDER "
        "BY size DESC LIMIT 1",
        {}, readCheckpoint);
  }

  Status deferEvent(const std::string& instance_id, const std::string& event,
                    TimePoint now) override {
    return addEventRow("deferred", instance_id, event, now);
  }

  Result<int> releaseDeferred(const std::string& instance_id) override {
    return guarded("release deferred events", [&]() -> Result<int> {
      writeSql(
          "INSERT INTO inbox (instance_id, event, created_at) SELECT instance_id, event, "
          "created_at FROM deferred WHERE instance_id = ? ORDER BY seq",
          {instance_id});
      return static_cast<int>(
          writeSql("DELETE FROM deferred WHERE instance_id = ?", {instance_id}));
    });
  }

  Status addOutbox(const OutboxRecord& r) override {
    return guarded("add outbox", [&]() -> Status {
      writeSql("INSERT INTO outbox (instance_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
               {r.instance_id, r.kind, r.payload, Int64{r.created_at}});
      return Status::ok();
    });
  }

  Result<std::vector<OutboxRecord>> pendingOutbox(const std::string& kind, int limit) override {
    return selectAll<OutboxRecord>(
        "read outbox",
        "SELECT id, instance_id, kind, payload, created_at FROM outbox WHERE kind = ? AND "
        "done_at IS NULL ORDER BY id LIMIT ?",
        {kind, Int64{limit}}, [](const Row& c) {
          return OutboxRecord{c.integer(0), c.text(1), c.text(2), c.text(3), c.integer(4)};
        });
  }

  Result<bool> markOutboxDone(std::int64_t id, TimePoint at) override {
    return guarded("mark outbox row done", [&]() -> Result<bool> {
      return runSql("UPDATE outbox SET done_at = ? WHERE id = ? AND done_at IS NULL",
                    {Int64{at}, Int64{id}}, {}) == 1;
    });
  }

  Status replaceDirectory(const DirectoryRecords& dir) override {
    return guarded("replace directory", [&]() -> Status {
      for (const char* table : {"substitutions", "users", "roles", "units"}) {
        exec(std::string("DELETE FROM ") + table);
      }
      json::Array units;
      for (const UnitRecord& u : dir.units) units.emplace_back(json::Array{u.id, u.name, u.area});
      json::Array roles;
      for (const RoleRecord& r : dir.roles) roles.emplace_back(json::Array{r.id, r.name});
      json::Array users;
      for (const UserRecord& u : dir.users) {
        users.emplace_back(
            json::Array{u.id, u.name, u.unit, join(u.roles, " "), std::int64_t{u.active ? 1 : 0}});
      }
      json::Array subs;
      for (const SubstitutionRecord& s : dir.substitutions) {
        subs.emplace_back(json::Array{s.user, s.substitute, s.from_day, s.to_day, s.reason});
      }
      runBatch(
          "INSERT INTO units (id, name, area) SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2 "
          "FROM {ROWS}",
          std::move(units));
      runBatch("INSERT INTO roles (id, name) SELECT j.value ->> 0, j.value ->> 1 FROM {ROWS}",
               std::move(roles));
      runBatch(
          "INSERT INTO users (id, name, unit, roles, active) SELECT j.value ->> 0, j.value ->> 1, "
          "j.value ->> 2, j.value ->> 3, CAST(j.value ->> 4 AS {INT}) FROM {ROWS}",
          std::move(users));
      runBatch(
          "INSERT INTO substitutions (user_id, substitute, from_day, to_day, reason) SELECT "
          "j.value ->> 0, j.value ->> 1, CAST(j.value ->> 2 AS {INT}), CAST(j.value ->> 3 AS "
          "{INT}), j.value ->> 4 FROM {ROWS}",
          std::move(subs));
      return Status::ok();
    });
  }

  Result<DirectoryRecords> directory() override {
    return guarded("read directory", [&]() -> Result<DirectoryRecords> {
      DirectoryRecords out;
      runSql("SELECT id, name, area FROM units ORDER BY id", {}, [&](const Row& c) {
        out.units.push_back(UnitRecord{c.text(0), c.text(1), c.text(2)});
      });
      runSql("SELECT id, name FROM roles ORDER BY id", {}, [&](const Row& c) {
        out.roles.push_back(RoleRecord{c.text(0), c.text(1)});
      });
      runSql(std::string(kUserColumns) + " ORDER BY id", {},
             [&](const Row& c) { out.users.push_back(readUser(c)); });
      runSql(
          "SELECT user_id, substitute, from_day, to_day, reason FROM substitutions ORDER BY "
          "user_id, from_day",
          {}, [&](const Row& c) { out.substitutions.push_back(readSubstitution(c)); });
      return out;
    });
  }

  Result<std::optional<UserRecord>> user(const std::string& id) override {
    return selectOne<UserRecord>("read user", std::string(kUserColumns) + " WHERE id = ?", {id},
                                 readUser);
  }

  Result<std::vector<SubstitutionRecord>> standingInFor(const std::string& substitute,
                                                        std::int64_t day) override {
    return selectAll<SubstitutionRecord>(
        "read substitutions",
        "SELECT user_id, substitute, from_day, to_day, reason FROM substitutions WHERE "
        "substitute = ? AND from_day <= ? AND to_day >= ? ORDER BY user_id",
        {substitute, day, day}, readSubstitution);
  }

  Status writeTasks(const std::vector<TaskWrite>& writes) override {
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

  Result<std::optional<TaskRecord>> task(const std::string& id) override {
    return selectOne<TaskRecord>(
        "read task", std::string(kTaskSelect) + " FROM tasks t WHERE t.id = ?", {id}, readTask);
  }

  Result<std::vector<TaskRecord>> tasksOf(const std::string& instance_id) override {
    return selectAll<TaskRecord>(
        "read tasks",
        std::string(kTaskSelect) +
            " FROM tasks t WHERE t.instance_id = ? ORDER BY t.created_at, t.id",
        {instance_id}, readTask);
  }

  Result<std::vector<TaskRecord>> queryTasks(const TaskQuery& q) override {
    std::vector<SqlParam> params;
    auto text = taskQuerySql(q, params);
    if (!text) return text.status();
    return guarded("query tasks", [&]() -> Result<std::vector<TaskRecord>> {
      std::vector<TaskRecord> out;
      runSql(*text, params, [&](const Row& c) { out.push_back(readTask(c)); });
      return out;
    });
  }

  Result<std::optional<CredentialRecord>> credential(const std::string& user) override {
    return selectOne<CredentialRecord>(
        "read credential",
        "SELECT user_id, password_hash, failures, locked_until, updated_at, session_epoch FROM "
        "credentials WHERE user_id = ?",
        {user}, [](const Row& c) {
          return CredentialRecord{c.text(0),    c.text(1),    c.integer(2),
                                  c.integer(3), c.integer(4), c.integer(5)};
        });
  }

  Result<std::vector<InstanceSummary>> searchInstances(const InstanceQuery& q) override {
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
  static std::string likePrefix(const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c == '%' || c == '_' || c == '!') out += '!';
      out += c;
    }
    return out;
  }
  static std::string placeholders(std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
    return out;
  }

  Status addInvitation(const std::string& secret_hash, const std::string& user,
                       TimePoint expires_at, TimePoint now) override {
    return guarded("add invitation", [&]() -> Status {
      runSql(
          "INSERT INTO invitations (secret_hash, user_id, expires_at, used_at, created_at) "
          "VALUES (?, ?, ?, 0, ?)",
          {secret_hash, user, Int64{expires_at}, Int64{now}}, {});
      return Status::ok();
    });
  }

  Result<std::optional<std::string>> takeInvitation(const std::string& secret_hash,
                                                    TimePoint now) override {
    return selectOne<std::string>(
        "take invitation",
        "UPDATE invitations SET used_at = ? WHERE secret_hash = ? AND used_at = 0 AND "
        "expires_at > ? RETURNING user_id",
        {Int64{now}, secret_hash, Int64{now}}, [](const Row& c) { return c.text(0); });
  }

  Status parkQueued(const ParkedRecord& r) override {
    return guarded("park a queued row", [&]() -> Status {
      runSql(
          "INSERT INTO parked (source, source_id, instance_id, payload, error, parked_at) VALUES "
          "(?, ?, ?, ?, ?, ?)",
          {r.source, Int64{r.source_id}, r.instance_id, r.payload, r.error, Int64{r.parked_at}},
          {});
      return Status::ok();
    });
  }

  Result<std::vector<ParkedRecord>> parkedRows(int limit) override {
    return selectAll<ParkedRecord>(
        "read parked rows",
        "SELECT id, source, source_id, instance_id, payload, error, parked_at FROM parked ORDER "
        "BY id LIMIT ?",
        {Int64{limit}}, [](const Row& c) {
          return ParkedRecord{c.integer(0), c.text(1), c.integer(2), c.text(3),
                              c.text(4),    c.text(5), c.integer(6)};
        });
  }

  Result<LoginAttemptRecord> countLoginAttempt(const std::string& name, TimePoint now) override {
    return guarded("count login attempt", [&]() -> Result<LoginAttemptRecord> {
      runSql(
          "INSERT INTO login_attempts (name, failures, locked_until, updated_at) VALUES (?, 0, "
          "0, ?) ON CONFLICT (name) DO NOTHING",
          {name, now}, {});
      LoginAttemptRecord out{name, 0, 0, false};
      // One statement: a concurrent attempt waits for this row, then sees the lock.
      runSql(
          "UPDATE login_attempts SET failures = failures + 1, updated_at = ? WHERE name = ? AND "
          "locked_until <= ? RETURNING failures, locked_until",
          {now, name, now}, [&](const Row& c) {
            out.failures = c.integer(0);
            out.locked_until = c.integer(1);
            out.counted = true;
          });
      if (out.counted) return out;
      runSql("SELECT failures, locked_until FROM login_attempts WHERE name = ?", {name},
             [&](const Row& c) {
               out.failures = c.integer(0);
               out.locked_until = c.integer(1);
             });
      return out;
    });
  }

  Status lockLogin(const std::string& name, TimePoint until) override {
    return guarded("lock login", [&]() -> Status {
      runSql("UPDATE login_attempts SET locked_until = ? WHERE name = ?", {until, name}, {});
      return Status::ok();
    });
  }

  Status clearLoginAttempts(const std::string& name) override {
    return guarded("clear login attempts", [&]() -> Status {
      runSql("DELETE FROM login_attempts WHERE name = ?", {name}, {});
      return Status::ok();
    });
  }

  Status putCredential(const CredentialRecord& r) override {
    return guarded("write credential", [&]() -> Status {
      runSql(
          "INSERT INTO credentials (user_id, password_hash, failures, locked_until, updated_at, "
          "session_epoch) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
          "password_hash = excluded.password_hash, failures = excluded.failures, locked_until = "
          "excluded.locked_until, updated_at = excluded.updated_at, session_epoch = "
          "excluded.session_epoch",
          {r.user, r.password_hash, r.failures, r.locked_until, r.updated_at, r.session_epoch}, {});
      return Status::ok();
    });
  }

  Status addApiToken(const ApiTokenRecord& r) override {
    return guarded("add API token", [&]() -> Status {
      runSql(
          "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, "
          "revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {r.id, r.user, r.name, r.token_hash, r.created_at, r.expires_at, r.revoked_at}, {});
      return Status::ok();
    });
  }

  Result<std::optional<ApiTokenRecord>> apiTokenByHash(const std::string& token_hash) override {
    return selectOne<ApiTokenRecord>("read API token",
                                     std::string(kTokenSelect) + " WHERE token_hash = ?",
                                     {token_hash}, readToken);
  }

  Result<std::vector<ApiTokenRecord>> apiTokens(const std::string& user) override {
    return selectAll<ApiTokenRecord>(
        "read API tokens",
        std::string(kTokenSelect) + " WHERE user_id = ? OR ? = '' ORDER BY created_at, id",
        {user, user}, readToken);
  }

  Result<bool> revokeApiToken(const std::string& id, TimePoint at) override {
    return guarded("revoke API token", [&]() -> Result<bool> {
      return runSql("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0",
                    {Int64{at}, id}, {}) == 1;
    });
  }

  Result<StoreStatistics> statistics(TimePoint now) override {
    return guarded("read statistics", [&]() -> Result<StoreStatistics> {
      StoreStatistics out;
      runSql(
          "SELECT lifecycle, COUNT(*) FROM instances GROUP BY lifecycle ORDER BY lifecycle", {},
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

  Result<DocumentRecord> addDocument(const DocumentRecord& record) override {
    return guarded("add document", [&]() -> Result<DocumentRecord> {
      DocumentRecord r = record;
      runSql("SELECT COALESCE(MAX(version), 0) FROM documents WHERE instance_id = ? AND name = ?",
             {r.instance_id, r.name},
             [&](const Row& c) { r.version = static_cast<std::int32_t>(c.integer(0) + 1); });
      runSql(
          "INSERT INTO documents (id, instance_id, task_id, name, version, sha256, content_type, "
          "size, filename, origin, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?)",
          {r.id, r.instance_id, r.task_id, r.name, Int64{r.version}, r.sha256, r.content_type,
           Int64{r.size}, r.filename, r.origin, r.created_by, Int64{r.created_at}},
          {});
      return r;
    });
  }

  Result<std::optional<DocumentRecord>> document(const std::string& id) override {
    return selectOne<DocumentRecord>(
        "read document", std::string(kDocumentSelect) + " WHERE id = ?", {id}, readDocument);
  }

  Result<std::vector<DocumentRecord>> documentsOf(const std::string& instance_id) override {
    return selectAll<DocumentRecord>(
        "read documents",
        std::string(kDocumentSelect) + " WHERE instance_id = ? ORDER BY name, version",
        {instance_id}, readDocument);
  }

  Status addSignature(const SignatureRecord& r) override {
    return guarded("add signature", [&]() -> Status {
      runSql(
          "INSERT INTO signatures (id, document_id, instance_id, signer, subject, issuer, serial, "
          "fingerprint, signing_time, timestamp_at, p7s_sha256, created_by, created_at) VALUES "
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {r.id, r.document_id, r.instance_id, r.signer, r.subject, r.issuer, r.serial,
           r.fingerprint, Int64{r.signing_time}, Int64{r.timestamp_at}, r.p7s_sha256, r.created_by,
           Int64{r.created_at}},
          {});
      return Status::ok();
    });
  }

  Result<std::vector<SignatureRecord>> signaturesOf(const std::string& instance_id) override {
    return selectAll<SignatureRecord>(
        "read signatures",
        "SELECT id, document_id, instance_id, signer, subject, issuer, serial, fingerprint, "
        "signing_time, timestamp_at, p7s_sha256, created_by, created_at FROM signatures WHERE "
        "instance_id = ? ORDER BY created_at, id",
        {instance_id}, [](const Row& c) {
          return SignatureRecord{c.text(0),  c.text(1),  c.text(2),    c.text(3),    c.text(4),
                                 c.text(5),  c.text(6),  c.text(7),    c.integer(8), c.integer(9),
                                 c.text(10), c.text(11), c.integer(12)};
        });
  }

  Status putBlob(const std::string& sha256, const std::string& bytes) override {
    return guarded("write blob", [&]() -> Status {
      runSql(
          "INSERT INTO blobs (sha256, size, content) VALUES (?, ?, ?) ON CONFLICT (sha256) DO "
          "NOTHING",
          {sha256, Int64{static_cast<std::int64_t>(bytes.size())}, base64Encode(bytes)}, {});
      return Status::ok();
    });
  }

  Result<std::optional<std::string>> blob(const std::string& sha256) override {
    return guarded("read blob", [&]() -> Result<std::optional<std::string>> {
      std::optional<std::string> out;
      Status bad;
      runSql("SELECT content FROM blobs WHERE sha256 = ?", {sha256}, [&](const Row& c) {
        out = base64Decode(c.text(0));
        if (!out) bad = Status(ErrorCode::kInternal, "blob " + sha256 + " is not base64");
      });
      if (!bad) return bad;
      return out;
    });
  }

  Status savepoint(const std::string& name) override {
    return guarded("savepoint", [&]() -> Status {
      exec("SAVEPOINT " + name);
      return Status::ok();
    });
  }
  Status releaseSavepoint(const std::string& name) override {
    return guarded("release savepoint", [&]() -> Status {
      exec("RELEASE SAVEPOINT " + name);
      return Status::ok();
    });
  }
  Status rollbackToSavepoint(const std::string& name) override {
    return guarded("rollback to savepoint", [&]() -> Status {
      exec("ROLLBACK TO SAVEPOINT " + name);
      return Status::ok();
    });
  }

  void pipelineWrites(bool on) override { pipelining_ = on; }

  Status commit() override {
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
  void execScript(const std::string& script) {
    for (const std::string& stmt : splitStatements(script)) exec(stmt);
  }

  // Statements without parameters are prepared once per connection.
  void exec(const std::string& text) { connection().native->run(text, {}); }

  // The version recorded in schema_version; 0 when none is (a new database).
  Result<int> recordedSchemaVersion() {
    auto v = selectOne<std::int64_t>("read schema version", "SELECT version FROM schema_version",
                                     {}, [](const Row& c) { return c.integer(0); });
    if (!v) return v.status();
    return static_cast<int>(v->value_or(0));
  }

 private:
  using SqlParam = std::variant<std::int64_t, std::string>;
  using Row = NativeStatements::Row;

  static constexpr const char* kDefinitionColumns =
      "SELECT id, name, version, sha256, xml, created_at FROM definitions";
  // The same columns with an empty xml: a document is a few KiB (SQLite overflow pages), and
  // lookups by name need only the id.
  static constexpr const char* kDefinitionHeader =
      "SELECT id, name, version, sha256, '', created_at FROM definitions";

  // The connection, while the transaction has not been committed (using it after is a bug).
  Connection& connection() {
    if (!c_) throw std::logic_error("a statement on a transaction already committed");
    return *c_;
  }

  // text in this dialect, translated once per connection.
  const std::string& sql(const std::string& text) {
    auto [it, fresh] = connection().translated.try_emplace(text);
    if (fresh) it->second = translate(d_, text);
    return it->second;
  }

  // Runs a statement over {ROWS}, each row an array of integers, booleans, strings and nulls:
  // on PostgreSQL once, with rows as its JSON parameter; on SQLite once per row. on_row sees
  // the result rows. Returns the rows changed.
  std::size_t runBatch(const std::string& text, json::Array rows,
                       const std::function<void(const NativeStatements::Row&)>& on_row = {}) {
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

  // The rows a versioned write must change, and the conflict's message when it does not.
  struct Expected {
    std::size_t rows;
    std::string conflict;
  };

  // runBatch for a write, through writeSql on PostgreSQL; a write that does not change the
  // rows expected throws ConflictError (when its answer arrives, if it was deferred).
  void writeBatch(const std::string& text, json::Array rows,
                  std::optional<Expected> expected = std::nullopt) {
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
  std::size_t writeSql(const std::string& text, const std::vector<SqlParam>& params,
                       NativeStatements::Check check = {}) {
    if (pipelining_) {
      connection().native->defer(sql(text), nativeParams(params), std::move(check));
      return 0;
    }
    const std::size_t changed = runSql(text, params, {});
    if (check) check(changed);
    return changed;
  }

  static NativeStatements::Param batchParam(const json::Value& v) {
    if (v.isInt()) return v.asInt();
    if (v.isString()) return std::string_view(v.asString());
    if (v.isBool()) return std::int64_t{v.asBool() ? 1 : 0};
    if (v.isNull()) return std::monostate{};
    throw std::logic_error("a batch row value that is not an integer, boolean, string or null");
  }

  // ---- generic reads (directory, tasks) ----

  static DefinitionRecord readDefinition(const Row& c) {
    return DefinitionRecord{c.integer(0), c.text(1), static_cast<std::int32_t>(c.integer(2)),
                            c.text(3),    c.text(4), c.integer(5)};
  }

  static constexpr const char* kTimerColumns =
      "SELECT id, instance_id, sendid, due_at, event FROM timers";
  static TimerRecord readTimer(const Row& c) {
    return TimerRecord{c.integer(0), c.text(1), c.text(2), c.integer(3), c.text(4)};
  }

  // Runs a write; returns the rows it changed, errors as Status naming what.
  Result<int> changed(const char* what, const std::string& text,
                      const std::vector<SqlParam>& params) {
    return guarded(what,
                   [&]() -> Result<int> { return static_cast<int>(runSql(text, params, {})); });
  }

  // Runs a write through writeSql; returns the rows it changed (0 while pipelining), errors
  // as Status naming what.
  Result<int> written(const char* what, const std::string& text,
                      const std::vector<SqlParam>& params) {
    return guarded(what, [&]() -> Result<int> { return static_cast<int>(writeSql(text, params)); });
  }

  // Appends an event for an instance to the inbox or the deferred table (same columns).
  Status addEventRow(const std::string& table, const std::string& instance_id,
                     const std::string& event, TimePoint now) {
    return guarded("add event to " + table, [&]() -> Status {
      writeSql("INSERT INTO " + table + " (instance_id, event, created_at) VALUES (?, ?, ?)",
               {instance_id, event, Int64{now}});
      return Status::ok();
    });
  }

  // The first row of a query read by read (nullopt for none), errors as Status naming what.
  template <typename T, typename Read>
  Result<std::optional<T>> selectOne(const char* what, const std::string& text,
                                     const std::vector<SqlParam>& params, Read read) {
    return guarded(what, [&]() -> Result<std::optional<T>> {
      std::optional<T> out;
      runSql(text, params, [&](const Row& c) {
        if (!out) out = read(c);
      });
      return out;
    });
  }
  // Every row of a query, read by read.
  template <typename T, typename Read>
  Result<std::vector<T>> selectAll(const char* what, const std::string& text,
                                   const std::vector<SqlParam>& params, Read read) {
    return guarded(what, [&]() -> Result<std::vector<T>> {
      std::vector<T> out;
      runSql(text, params, [&](const Row& c) { out.push_back(read(c)); });
      return out;
    });
  }

  // Runs a statement with positional parameters and hands each result row to on_row;
  // returns the rows a write changed.
  std::size_t runSql(const std::string& text, const std::vector<SqlParam>& params,
                     const std::function<void(const Row&)>& on_row) {
    return connection().native->run(sql(text), nativeParams(params), on_row);
  }

  // params as native statements take them (viewing params' strings).
  static std::vector<NativeStatements::Param> nativeParams(const std::vector<SqlParam>& params) {
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

  static std::vector<std::string> splitWords(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string w; ss >> w;) out.push_back(w);
    return out;
  }

  static constexpr const char* kUserColumns = "SELECT id, name, unit, roles, active FROM users";
  static constexpr const char* kTaskSelect =
      "SELECT t.id, t.instance_id, t.business_key, t.definition, t.state, t.name, t.kind, "
      "t.title, t.status, t.owner, t.priority, t.due_at, t.spec, t.data, t.result, t.principals, "
      "t.is_open, t.row_version, t.created_at, t.updated_at";
  // Tasks without a deadline sort after every dated one.
  static constexpr std::int64_t kNoDue = std::numeric_limits<std::int64_t>::max();

  static constexpr const char* kLedgerColumns =
      "SELECT COALESCE(ledger_idx, -1), seq, instance_id, at, actor, kind, detail, "
      "COALESCE(leaf_hash, '') FROM history ";
  static LedgerRow readLedgerRow(const Row& c) {
    return LedgerRow{
        c.integer(0),
        HistoryRecord{c.integer(1), c.text(2), c.integer(3), c.text(4), c.text(5), c.text(6)},
        c.text(7)};
  }

  static constexpr const char* kDocumentSelect =
      "SELECT id, instance_id, task_id, name, version, sha256, content_type, size, filename, "
      "origin, created_by, created_at FROM documents";
  static DocumentRecord readDocument(const Row& c) {
    return DocumentRecord{
        c.text(0),  c.text(1),    c.text(2),    c.text(3), static_cast<std::int32_t>(c.integer(4)),
        c.text(5),  c.text(6),    c.integer(7), c.text(8), c.text(9),
        c.text(10), c.integer(11)};
  }
  static constexpr const char* kTokenSelect =
      "SELECT id, user_id, name, token_hash, created_at, expires_at, revoked_at FROM api_tokens";
  static ApiTokenRecord readToken(const Row& c) {
    return ApiTokenRecord{c.text(0),    c.text(1),    c.text(2),   c.text(3),
                          c.integer(4), c.integer(5), c.integer(6)};
  }
  static UserRecord readUser(const Row& c) {
    return UserRecord{c.text(0), c.text(1), c.text(2), splitWords(c.text(3)), c.integer(4) != 0};
  }
  static SubstitutionRecord readSubstitution(const Row& c) {
    return SubstitutionRecord{c.text(0), c.text(1), c.integer(2), c.integer(3), c.text(4)};
  }
  static TaskRecord readTask(const Row& c) {
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
  Result<std::string> taskQuerySql(const TaskQuery& q, std::vector<SqlParam>& params) const {
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
        inner += (i ? " UNION " : "") + std::string("SELECT * FROM (") + *b + ") AS b" +
                 std::to_string(i);
      }
    }
    params.emplace_back(limit);
    return std::string(kTaskSelect) + " FROM (" + inner +
           ") AS u JOIN tasks t ON t.id = u.id ORDER BY " + (by_rank ? "u.rank, " : "") +
           "u.sort_due, u.id LIMIT ?";
  }

  // data.field OP value, compared by type: numbers numerically, strings and booleans exactly.
  Result<std::string> filterSql(const TaskFilter& f, std::vector<SqlParam>& p) const {
    static const char* const kOps[] = {"=", "!=", "<", "<=", ">", ">="};
    bool field_ok = !f.field.empty() && f.field.size() <= 64 &&
                    (std::islower(static_cast<unsigned char>(f.field[0])) || f.field[0] == '_');
    for (char ch : f.field) {
      field_ok = field_ok && (std::islower(static_cast<unsigned char>(ch)) ||
                              std::isdigit(static_cast<unsigned char>(ch)) || ch == '_');
    }
    if (!field_ok) {
      return Status(
          ErrorCode::kInvalidArgument,
          "a filter field is a data member name ([a-z_][a-z0-9_]*), not '" + f.field + "'");
    }
    if (std::find(std::begin(kOps), std::end(kOps), f.op) == std::end(kOps)) {
      return Status(ErrorCode::kInvalidArgument,
                    "filter operator '" + f.op + "' is not one of = != < <= > >=");
    }
    auto value = json::parse(f.value);
    if (!value || !(value->isNumber() || value->isString() || value->isBool())) {
      return Status(ErrorCode::kInvalidArgument, "the value of filter '" + f.field +
                                                     "' must be a JSON number, string or boolean");
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

  Dialect d_;
  std::shared_ptr<Connection> c_;
  TxMode mode_;
  WalSync* wal_;  // with pipelined sync; owned by the store
  bool open_ = false;
  bool pipelining_ = false;  // writes go through NativeStatements::defer
  bool settled_ = false;     // its end has synced or waited as WalSync requires
};

// ---- store ----------------------------------------------------------------------------------

class SqlStore final : public Store {
 public:
  // wal_path: the SQLite file's write-ahead log, for pipelined sync; empty without it.
  SqlStore(Dialect dialect, std::string connector, std::string connection, int pool_size,
           bool dedicated_writer, const StoreOptions& options, const std::string& wal_path)
      : wal_(wal_path.empty() ? nullptr
                              : std::make_unique<WalSync>(wal_path, options.sqlite_wal_sync)),
        pool_(dialect, std::move(connector), std::move(connection), pool_size, dedicated_writer,
              withPipelinedSync(options, wal_ != nullptr)) {}

  Result<std::unique_ptr<Transaction>> begin(TxMode mode) override {
    auto tx = beginSql(mode);
    if (!tx) return tx.status();
    return std::unique_ptr<Transaction>(std::move(tx).value());
  }

  int commitSlots() const override {
    if (pool_.dialect() == Dialect::kPostgreSQL) return 0;
    return wal_ ? 2 : 1;
  }

  Status awaitDurable() override { return wal_ ? wal_->awaitDurable() : Status::ok(); }

  const char* dialectName() const override {
    return pool_.dialect() == Dialect::kSQLite ? "sqlite" : "postgresql";
  }

  int schemaVersion() const override { return schema_version_; }

  Status migrate() {
    auto tx = beginSql(TxMode::kWrite);
    if (!tx) return tx.status();
    SqlTransaction& t = **tx;
    return guarded("migrate", [&]() -> Status {
      Dialect d = pool_.dialect();
      if (d == Dialect::kPostgreSQL) {
        // Engines starting together on one database migrate one at a time.
        t.exec("SELECT pg_advisory_xact_lock(7355608)");
      }
      t.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      auto recorded = t.recordedSchemaVersion();
      if (!recorded) return recorded.status();
      const int version = *recorded;
      if (version > kSchemaVersion) {
        return Status(ErrorCode::kFailedPrecondition,
                      "the database schema is version " + std::to_string(version) +
                          "; this build knows up to " + std::to_string(kSchemaVersion));
      }
      for (int v = version; v < kSchemaVersion; ++v) {
        t.execScript(d == Dialect::kSQLite ? kMigrations[v].sqlite : kMigrations[v].postgresql);
      }
      if (version > 0 && version < 4) t.ledgerExistingHistory();
      if (version == 0) {
        t.exec("INSERT INTO schema_version (version) VALUES (" + std::to_string(kSchemaVersion) +
               ")");
      } else {
        t.exec("UPDATE schema_version SET version = " + std::to_string(kSchemaVersion));
      }
      schema_version_ = kSchemaVersion;
      return t.commit();
    });
  }

 private:
  Result<std::unique_ptr<SqlTransaction>> beginSql(TxMode mode) {
    std::shared_ptr<Connection> session;
    try {
      session = pool_.acquire(mode == TxMode::kWrite);
    } catch (const std::exception& e) {
      return fromException(e, "connect");
    }
    auto tx =
        std::make_unique<SqlTransaction>(pool_.dialect(), std::move(session), mode, wal_.get());
    if (Status st = tx->beginTx(); !st) return st;
    return tx;
  }

  // SQLite's own sync in COMMIT is replaced by the store's after it.
  static StoreOptions withPipelinedSync(StoreOptions options, bool pipelined) {
    if (pipelined) options.sqlite_synchronous = "NORMAL";
    return options;
  }

  std::unique_ptr<WalSync> wal_;  // outlives the pool: transactions and connections use it
  ConnectionPool pool_;
  int schema_version_ = 0;
};

// postgresql://user:password@host:port/dbname -> libpq keyword string.
Result<std::string> libpqConnectionString(const std::string& uri) {
  std::string rest = uri.substr(uri.find(':') + 1);
  if (rest.rfind("//", 0) != 0) return rest;  // already "host=... port=..."
  rest = rest.substr(2);
  std::string user;
  std::string password;
  auto at = rest.find('@');
  if (at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = cred.find(':');
    user = cred.substr(0, colon);
    if (colon != std::string::npos) password = cred.substr(colon + 1);
  }
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string db = slash == std::string::npos ? "" : rest.substr(slash + 1);
  auto colon = hostport.rfind(':');
  std::string host = hostport.substr(0, colon);
  std::string port = colon == std::string::npos ? "5432" : hostport.substr(colon + 1);
  if (host.empty() || db.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "a PostgreSQL URI needs a host and a database: postgresql://user@host:port/db");
  }
  std::string out = "host=" + host + " port=" + port + " dbname=" + db;
  if (!user.empty()) out += " user=" + user;
  if (!password.empty()) out += " password=" + password;
  return out;
}

}  // namespace

std::string dataDirStoreUri(const std::string& data_dir) {
  return "sqlite:" + data_dir + "/tramite.db";
}

Result<std::unique_ptr<Store>> openStore(const std::string& uri, const StoreOptions& options) {
  registerConnectors();
  std::unique_ptr<SqlStore> store;
  if (uri.rfind("sqlite:", 0) == 0) {
    std::string path = uri.substr(7);
    if (path.empty()) return Status(ErrorCode::kInvalidArgument, "sqlite: needs a file path");
    // An in-memory database exists per connection: use exactly one, for reads and writes.
    const bool in_memory = path == ":memory:";
    const std::string synchronous = asciiLower(options.sqlite_synchronous);
    const bool pipelined = !in_memory && options.sqlite_pipelined_sync &&
                           (synchronous == "full" || synchronous == "2");
    store = std::make_unique<SqlStore>(Dialect::kSQLite, "SQLite", path,
                                       in_memory ? 1 : options.pool_size, !in_memory, options,
                                       pipelined ? path + "-wal" : "");
  } else if (uri.rfind("postgresql:", 0) == 0 || uri.rfind("postgres:", 0) == 0) {
    auto conn = libpqConnectionString(uri);
    if (!conn) return conn.status();
    store = std::make_unique<SqlStore>(Dialect::kPostgreSQL, "PostgreSQL", *conn, options.pool_size,
                                       /*dedicated_writer=*/false, options, "");
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "unknown store URI '" + uri + "' (use sqlite:PATH or postgresql://...)");
  }
  if (Status st = store->migrate(); !st) return st;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tramite::storage
