// The SQL implementation's transaction, shared by its files: sql_transaction.cpp (statements,
// batches, commit), one sql_<entity>.cpp per facet of storage::Transaction, and sql_store.cpp
// (connections, migrations, openStore). Internal to tramite_storage.
#pragma once

#include <Poco/Data/Session.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "native_statements.h"
#include "tramite/json.h"
#include "tramite/storage/store.h"
#include "wal_sync.h"

namespace tramite::storage::sql {

enum class Dialect { kSQLite, kPostgreSQL };

// An exception from a database call as a Status naming what was being done: kConflict for
// unique violations, serialization failures and deadlocks, kUnavailable for a lost or busy
// connection, kInternal otherwise.
Status fromException(const std::exception& e, const std::string& what);

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

// '?' placeholders become $1, $2, ... for PostgreSQL. {ROWS} is a table of the rows of a JSON
// array parameter (each row an array, read as j.value ->> N, in array order by j.key); SQLite
// runs such a statement per row instead. {INT} is the 64-bit integer type.
std::string translate(Dialect d, std::string sql);

// A migration script's statements: split at each ';' outside a quoted string ('...', where
// '' is a quote inside one), so a function body may hold statements of its own; -- comments
// outside quotes are dropped.
std::vector<std::string> splitStatements(const std::string& script);

std::string base64Encode(const std::string& bytes);
// The bytes of base64 text; nothing when the text is not base64.
std::optional<std::string> base64Decode(const std::string& text);

// With pipelined sync (wal given), a transaction's end follows WalSync's rules: a commit
// syncs after handing its connection on, and every other end but a read-ahead's waits until
// what it could have seen is durable.
class SqlTransaction final : public Transaction {
 public:
  SqlTransaction(Dialect dialect, std::shared_ptr<Connection> connection, TxMode mode, WalSync* wal)
      : d_(dialect), c_(std::move(connection)), mode_(mode), wal_(wal) {}
  ~SqlTransaction() override;
  Status beginTx();
  Result<DefinitionRecord> addDefinition(const std::string& name, const std::string& sha256,
                                         const std::string& xml, TimePoint now) override;
  Result<std::optional<DefinitionRecord>> definition(const std::string& name,
                                                     std::int32_t version) override;
  Result<std::optional<DefinitionRecord>> definitionById(std::int64_t id) override;
  Result<std::vector<DefinitionRecord>> definitionVersions(const std::string& name) override;
  Result<std::optional<InstanceRecord>> instance(const std::string& id) override;
  Result<std::vector<InstanceRecord>> instances(const std::vector<std::string>& ids) override;
  Status writeInstances(const std::vector<InstanceWrite>& writes) override;
  Result<std::int64_t> countInstances() override;
  Result<std::optional<std::string>> idempotentResult(const std::string& scope,
                                                      const std::string& key) override;
  Status saveIdempotentResults(const std::vector<IdempotencyRecord>& records) override;
  Result<std::int64_t> addTimer(const TimerRecord& t) override;
  Result<int> cancelTimers(const std::string& instance_id, const std::string& sendid) override;
  Result<int> cancelAllTimers(const std::string& instance_id) override;
  Result<std::vector<TimerRecord>> dueTimers(TimePoint now, int limit) override;
  Result<bool> claimTimer(std::int64_t id) override;
  Result<std::vector<TimerRecord>> timersOf(const std::string& instance_id) override;
  Result<std::optional<TimePoint>> nextTimerDue() override;
  Status enqueueInbox(const std::string& instance_id, const std::string& event,
                      TimePoint now) override;
  Result<std::vector<InboxRecord>> inbox(int limit) override;
  Result<bool> claimInbox(std::int64_t seq) override;
  Status appendHistory(const std::vector<HistoryRecord>& rows) override;
  Result<std::vector<HistoryRecord>> history(const std::string& instance_id, std::int64_t after_seq,
                                             int limit) override;
  // Migration 4: appends the rows written before the ledger existed, in seq order.
  void ledgerExistingHistory();
  // Appends a leaf to the tree's right edge, keeping the subtrees it completes that are
  // stored (as rows for ledger_nodes).
  static void appendLeaf(audit::CompactRange& range, const audit::Hash& leaf, json::Array& nodes);
  // Stores the completed subtrees and the new head.
  void saveLedger(const audit::CompactRange& range, json::Array nodes, std::int64_t last_seq);
  Result<audit::CompactRange> ledgerHead() override;
  // The head row: the tree's right edge, and the last history seq when last_seq is given.
  // for_update locks the row until the transaction ends (PostgreSQL; SQLite has one writer).
  Result<audit::CompactRange> readLedgerHead(bool for_update, std::int64_t* last_seq);
  Result<std::vector<LedgerRow>> ledgerRowsOf(const std::string& instance_id) override;
  Result<std::vector<LedgerRow>> ledgerRows(std::int64_t from, int limit) override;
  Result<std::vector<audit::Hash>> ledgerLeaves(std::uint64_t begin, std::uint64_t end) override;
  Result<std::optional<audit::Hash>> ledgerNode(int level, std::uint64_t index) override;
  Result<std::vector<LedgerNode>> ledgerNodes() override;
  Status addCheckpoint(const audit::Checkpoint& cp) override;
  // An unreadable stored hash reads as zeros, which no recomputed hash matches.
  static audit::Checkpoint readCheckpoint(const NativeStatements::Row& c);
  Result<std::vector<audit::Checkpoint>> checkpoints(std::uint64_t from_size, int limit) override;
  Result<std::optional<audit::Checkpoint>> latestCheckpoint() override;
  Status deferEvent(const std::string& instance_id, const std::string& event,
                    TimePoint now) override;
  Result<int> releaseDeferred(const std::string& instance_id) override;
  Status addOutbox(const OutboxRecord& r) override;
  Result<std::vector<OutboxRecord>> pendingOutbox(const std::string& kind, int limit) override;
  Result<bool> markOutboxDone(std::int64_t id, TimePoint at) override;
  Result<std::vector<OutboxRecord>> dueOutbox(const std::string& kind, TimePoint now,
                                              int limit) override;
  Result<bool> retryOutbox(std::int64_t id, TimePoint next_attempt_at,
                           const std::string& error) override;

  Result<std::int64_t> consumerPosition(const std::string& name) override;
  Result<bool> advanceConsumer(const std::string& name, std::int64_t from,
                               std::int64_t to) override;
  Result<bool> leaseConsumer(const std::string& name, const std::string& holder, TimePoint now,
                             TimePoint until) override;

  Status addNotification(const NotificationRecord& record) override;
  Result<std::vector<NotificationRecord>> notificationsOf(const std::string& user, bool unread_only,
                                                          std::int64_t before_id,
                                                          int limit) override;
  Result<std::int64_t> unreadNotifications(const std::string& user) override;
  Result<bool> markNotificationRead(const std::string& user, std::int64_t id,
                                    TimePoint at) override;
  Status replaceDirectory(const DirectoryRecords& dir) override;
  Result<DirectoryRecords> directory() override;
  Result<std::optional<UserRecord>> user(const std::string& id) override;
  Result<std::vector<SubstitutionRecord>> standingInFor(const std::string& substitute,
                                                        std::int64_t day) override;
  Status writeTasks(const std::vector<TaskWrite>& writes) override;
  Result<std::optional<TaskRecord>> task(const std::string& id) override;
  Result<std::vector<TaskRecord>> tasksOf(const std::string& instance_id) override;
  Result<std::vector<TaskRecord>> queryTasks(const TaskQuery& q) override;
  Result<std::optional<CredentialRecord>> credential(const std::string& user) override;
  Result<std::vector<InstanceSummary>> searchInstances(const InstanceQuery& q) override;
  // LIKE's wildcards and the escape character in text, escaped with '!'.
  static std::string likePrefix(const std::string& text);
  static std::string placeholders(std::size_t n);
  Status addInvitation(const std::string& secret_hash, const std::string& user,
                       TimePoint expires_at, TimePoint now) override;
  Result<std::optional<std::string>> takeInvitation(const std::string& secret_hash,
                                                    TimePoint now) override;
  Status parkQueued(const ParkedRecord& r) override;
  Result<std::vector<ParkedRecord>> parkedRows(int limit) override;
  Result<LoginAttemptRecord> countLoginAttempt(const std::string& name, TimePoint now) override;
  Status lockLogin(const std::string& name, TimePoint until) override;
  Status clearLoginAttempts(const std::string& name) override;
  Status putCredential(const CredentialRecord& r) override;
  Status addApiToken(const ApiTokenRecord& r) override;
  Result<std::optional<ApiTokenRecord>> apiTokenByHash(const std::string& token_hash) override;
  Result<std::vector<ApiTokenRecord>> apiTokens(const std::string& user) override;
  Result<bool> revokeApiToken(const std::string& id, TimePoint at) override;
  Result<StoreStatistics> statistics(TimePoint now) override;
  Result<DocumentRecord> addDocument(const DocumentRecord& record) override;
  Result<std::optional<DocumentRecord>> document(const std::string& id) override;
  Result<std::vector<DocumentRecord>> documentsOf(const std::string& instance_id) override;
  Status addSignature(const SignatureRecord& r) override;
  Result<std::vector<SignatureRecord>> signaturesOf(const std::string& instance_id) override;
  Status putBlob(const std::string& sha256, const std::string& bytes) override;
  Result<std::optional<std::string>> blob(const std::string& sha256) override;
  Status savepoint(const std::string& name) override;
  Status releaseSavepoint(const std::string& name) override;
  Status rollbackToSavepoint(const std::string& name) override;
  void pipelineWrites(bool on) override { pipelining_ = on; }
  Status commit() override;
  // Runs a migration script (used by the store while opening).
  void execScript(const std::string& script);
  // Statements without parameters are prepared once per connection.
  void exec(const std::string& text);
  // The version recorded in schema_version; 0 when none is (a new database).
  Result<int> recordedSchemaVersion();

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
  Connection& connection();
  // text in this dialect, translated once per connection.
  const std::string& sql(const std::string& text);
  // Runs a statement over {ROWS}, each row an array of integers, booleans, strings and nulls:
  // on PostgreSQL once, with rows as its JSON parameter; on SQLite once per row. on_row sees
  // the result rows. Returns the rows changed.
  std::size_t runBatch(const std::string& text, json::Array rows,
                       const std::function<void(const NativeStatements::Row&)>& on_row = {});
  // The rows a versioned write must change, and the conflict's message when it does not.
  struct Expected {
    std::size_t rows;
    std::string conflict;
  };
  // runBatch for a write, through writeSql on PostgreSQL; a write that does not change the
  // rows expected throws ConflictError (when its answer arrives, if it was deferred).
  void writeBatch(const std::string& text, json::Array rows,
                  std::optional<Expected> expected = std::nullopt);
  // runSql for a write whose answer only check needs: handed to NativeStatements::defer
  // while pipelining (PostgreSQL keeps it for the next round trip, SQLite runs it at once),
  // run at once otherwise. Returns the rows it changed; 0 while pipelining (not known yet).
  std::size_t writeSql(const std::string& text, const std::vector<SqlParam>& params,
                       NativeStatements::Check check = {});
  static NativeStatements::Param batchParam(const json::Value& v);
  // ---- generic reads (directory, tasks) ----

  static DefinitionRecord readDefinition(const Row& c);
  static constexpr const char* kTimerColumns =
      "SELECT id, instance_id, sendid, due_at, event FROM timers";
  static TimerRecord readTimer(const Row& c);
  // Runs a write; returns the rows it changed, errors as Status naming what.
  Result<int> changed(const char* what, const std::string& text,
                      const std::vector<SqlParam>& params);
  // Runs a write through writeSql; returns the rows it changed (0 while pipelining), errors
  // as Status naming what.
  Result<int> written(const char* what, const std::string& text,
                      const std::vector<SqlParam>& params);
  // Appends an event for an instance to the inbox or the deferred table (same columns).
  Status addEventRow(const std::string& table, const std::string& instance_id,
                     const std::string& event, TimePoint now);
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
                     const std::function<void(const Row&)>& on_row);
  // params as native statements take them (viewing params' strings).
  static std::vector<NativeStatements::Param> nativeParams(const std::vector<SqlParam>& params);
  static std::vector<std::string> splitWords(const std::string& text);
  static constexpr const char* kUserColumns =
      "SELECT id, name, unit, roles, active, email FROM users";
  static constexpr const char* kTaskSelect =
      "SELECT t.id, t.instance_id, t.business_key, t.definition, t.state, t.name, t.kind, "
      "t.title, t.status, t.owner, t.priority, t.due_at, t.spec, t.data, t.result, t.principals, "
      "t.is_open, t.row_version, t.created_at, t.updated_at";
  // Tasks without a deadline sort after every dated one.
  static constexpr std::int64_t kNoDue = std::numeric_limits<std::int64_t>::max();
  static constexpr const char* kLedgerColumns =
      "SELECT COALESCE(ledger_idx, -1), seq, instance_id, at, actor, kind, detail, "
      "COALESCE(leaf_hash, '') FROM history ";
  static LedgerRow readLedgerRow(const Row& c);
  static constexpr const char* kDocumentSelect =
      "SELECT id, instance_id, task_id, name, version, sha256, content_type, size, filename, "
      "origin, created_by, created_at FROM documents";
  static DocumentRecord readDocument(const Row& c);
  static constexpr const char* kTokenSelect =
      "SELECT id, user_id, name, token_hash, created_at, expires_at, revoked_at FROM api_tokens";
  static ApiTokenRecord readToken(const Row& c);
  static UserRecord readUser(const Row& c);
  static SubstitutionRecord readSubstitution(const Row& c);
  static TaskRecord readTask(const Row& c);
  // The SQL of a queue page. Each principal's queue is read as its own index range, cut at
  // the page size, and the union of those short lists is sorted again: the work is bounded by
  // principals x limit however many tasks are stored.
  Result<std::string> taskQuerySql(const TaskQuery& q, std::vector<SqlParam>& params) const;
  // data.field OP value, compared by type: numbers numerically, strings and booleans exactly.
  Result<std::string> filterSql(const TaskFilter& f, std::vector<SqlParam>& p) const;
  Dialect d_;
  std::shared_ptr<Connection> c_;
  TxMode mode_;
  WalSync* wal_;  // with pipelined sync; owned by the store
  bool open_ = false;
  bool pipelining_ = false;  // writes go through NativeStatements::defer
  bool settled_ = false;     // its end has synced or waited as WalSync requires
};

}  // namespace tramite::storage::sql
