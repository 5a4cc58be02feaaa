// Durable storage behind narrow interfaces. One SQL implementation over Poco::Data with two
// dialects: SQLite (embedded default) and PostgreSQL (scale-out). Everything an engine step
// writes goes through one Transaction, so a step commits whole or not at all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tramite/audit/checkpoint.h"
#include "tramite/clock.h"
#include "tramite/status.h"
#include "tramite/storage/records.h"

namespace tramite::storage {

class Transaction {
 public:
  virtual ~Transaction() = default;

  // Definitions: versions are numbered 1, 2, ... per name.
  virtual Result<DefinitionRecord> addDefinition(const std::string& name, const std::string& sha256,
                                                 const std::string& xml, TimePoint now) = 0;
  // A version of a name, without its XML (definitionById has it); version 0 means the latest.
  virtual Result<std::optional<DefinitionRecord>> definition(const std::string& name,
                                                             std::int32_t version) = 0;
  // A version with its XML.
  virtual Result<std::optional<DefinitionRecord>> definitionById(std::int64_t id) = 0;
  // All versions of a name, oldest first, without their XML.
  virtual Result<std::vector<DefinitionRecord>> definitionVersions(const std::string& name) = 0;

  // Instances. insertInstance: kConflict when the id exists. updateInstance: record.row_version
  // is the version the caller read; the stored row gets row_version + 1; kConflict when the
  // stored version differs (someone else wrote first). Both are writeInstances of one row.
  Status insertInstance(const InstanceRecord& record) { return writeInstances({{record, 0}}); }
  Status updateInstance(const InstanceRecord& record);
  virtual Result<std::optional<InstanceRecord>> instance(const std::string& id) = 0;
  // The instances among ids that exist, in no particular order (one round trip).
  virtual Result<std::vector<InstanceRecord>> instances(const std::vector<std::string>& ids) = 0;
  // Inserts (expected_version 0) and versioned updates of many instances in few statements
  // (group commit writes a whole batch this way). Updates store record as it is, including
  // its row_version, where the stored row still has expected_version. kConflict when an
  // insert finds its id taken or an update finds another version; the transaction must then
  // be rolled back.
  virtual Status writeInstances(const std::vector<InstanceWrite>& writes) = 0;
  virtual Result<std::int64_t> countInstances() = 0;
  // Instances matching query, newest first. Errors: kInvalidArgument (limit out of 1..500).
  virtual Result<std::vector<InstanceSummary>> searchInstances(const InstanceQuery& query) = 0;

  // Idempotency: the first result stored for (scope, key) wins; kConflict on a second save.
  virtual Result<std::optional<std::string>> idempotentResult(const std::string& scope,
                                                              const std::string& key) = 0;
  Status saveIdempotentResult(const std::string& scope, const std::string& key,
                              const std::string& result, TimePoint now) {
    return saveIdempotentResults({IdempotencyRecord{scope, key, result, now}});
  }
  virtual Status saveIdempotentResults(const std::vector<IdempotencyRecord>& records) = 0;

  // Timers (delayed sends). claimTimer deletes a timer and says whether this transaction was
  // the one that removed it, which makes firing exactly-once across engines.
  virtual Result<std::int64_t> addTimer(const TimerRecord& timer) = 0;
  virtual Result<int> cancelTimers(const std::string& instance_id, const std::string& sendid) = 0;
  virtual Result<int> cancelAllTimers(const std::string& instance_id) = 0;
  // Due timers, earliest first; on PostgreSQL rows locked by other engines are skipped.
  virtual Result<std::vector<TimerRecord>> dueTimers(TimePoint now, int limit) = 0;
  virtual Result<bool> claimTimer(std::int64_t id) = 0;
  virtual Result<std::vector<TimerRecord>> timersOf(const std::string& instance_id) = 0;
  // Earliest due time of any timer, if there is one.
  virtual Result<std::optional<TimePoint>> nextTimerDue() = 0;

  // Inbox: events for instances produced by other instances, processed in seq order.
  virtual Status enqueueInbox(const std::string& instance_id, const std::string& event,
                              TimePoint now) = 0;
  virtual Result<std::vector<InboxRecord>> inbox(int limit) = 0;
  virtual Result<bool> claimInbox(std::int64_t seq) = 0;
  // Keeps a row taken out of the timers or the inbox (claim it first, in the same
  // transaction), and lists the parked rows, oldest first.
  virtual Status parkQueued(const ParkedRecord& record) = 0;
  virtual Result<std::vector<ParkedRecord>> parkedRows(int limit) = 0;

  // History, appended in order; read back in seq order. Appending also appends each row to
  // the audit ledger; on PostgreSQL it locks the ledger head until the transaction ends, so
  // ledger order is commit order.
  virtual Status appendHistory(const std::vector<HistoryRecord>& rows) = 0;
  virtual Result<std::vector<HistoryRecord>> history(const std::string& instance_id,
                                                     std::int64_t after_seq, int limit) = 0;

  // Events that arrive while an instance is suspended wait here, in order, until resume
  // moves them to the inbox.
  virtual Status deferEvent(const std::string& instance_id, const std::string& event,
                            TimePoint now) = 0;
  virtual Result<int> releaseDeferred(const std::string& instance_id) = 0;

  virtual Status addOutbox(const OutboxRecord& record) = 0;
  // Outbox rows of a kind not yet delivered, oldest first.
  virtual Result<std::vector<OutboxRecord>> pendingOutbox(const std::string& kind, int limit) = 0;
  // Marks a row delivered; false when it already was (another deliverer finished first).
  virtual Result<bool> markOutboxDone(std::int64_t id, TimePoint at) = 0;

  // Directory: replaces every unit, role, user and substitution at once.
  virtual Status replaceDirectory(const DirectoryRecords& directory) = 0;
  virtual Result<DirectoryRecords> directory() = 0;
  virtual Result<std::optional<UserRecord>> user(const std::string& id) = 0;
  // The substitutions in force on day in which substitute acts for someone.
  virtual Result<std::vector<SubstitutionRecord>> standingInFor(const std::string& substitute,
                                                                std::int64_t day) = 0;

  // Tasks: inserts and versioned updates (kConflict as for writeInstances); a write also
  // replaces the task's queue entries with record.principals.
  virtual Status writeTasks(const std::vector<TaskWrite>& writes) = 0;
  virtual Result<std::optional<TaskRecord>> task(const std::string& id) = 0;
  // Every task of an instance, oldest first.
  virtual Result<std::vector<TaskRecord>> tasksOf(const std::string& instance_id) = 0;
  // A page of a queue (see TaskQuery). Errors: kInvalidArgument for a bad filter.
  virtual Result<std::vector<TaskRecord>> queryTasks(const TaskQuery& query) = 0;

  // Authentication: a user's credential (upserted whole), API tokens by their hash.
  virtual Result<std::optional<CredentialRecord>> credential(const std::string& user) = 0;
  virtual Status putCredential(const CredentialRecord& record) = 0;
  // Login throttling, atomic across concurrent attempts and servers: counts an attempt for
  // name unless it is locked at now (then counted is false and nothing changes), and returns
  // the row after. The row stays locked against concurrent counts until the transaction ends.
  virtual Result<LoginAttemptRecord> countLoginAttempt(const std::string& name, TimePoint now) = 0;
  virtual Status lockLogin(const std::string& name, TimePoint until) = 0;
  // Invitations to set a first password: only the secret's SHA-256 is kept. takeInvitation
  // uses one up (atomically) and names its user; nullopt when it is unknown, used or expired.
  virtual Status addInvitation(const std::string& secret_hash, const std::string& user,
                               TimePoint expires_at, TimePoint now) = 0;
  virtual Result<std::optional<std::string>> takeInvitation(const std::string& secret_hash,
                                                            TimePoint now) = 0;
  // A successful login: name's count starts again.
  virtual Status clearLoginAttempts(const std::string& name) = 0;
  // kConflict when the id or the hash exists.
  virtual Status addApiToken(const ApiTokenRecord& record) = 0;
  virtual Result<std::optional<ApiTokenRecord>> apiTokenByHash(const std::string& token_hash) = 0;
  // A user's tokens (every user's when user is empty), oldest first.
  virtual Result<std::vector<ApiTokenRecord>> apiTokens(const std::string& user) = 0;
  // Marks a token revoked at `at`; false when there is no such token in force.
  virtual Result<bool> revokeApiToken(const std::string& id, TimePoint at) = 0;

  virtual Result<StoreStatistics> statistics(TimePoint now) = 0;

  // The audit ledger, read side (appendHistory writes it).
  // The head: the tree's size and right edge.
  virtual Result<audit::CompactRange> ledgerHead() = 0;
  // Rows with ledger index >= from in index order, at most limit; then, when from < 0, the
  // rows without an index (in seq order) come first.
  virtual Result<std::vector<LedgerRow>> ledgerRows(std::int64_t from, int limit) = 0;
  // The rows of one instance with their ledger indexes, in seq order.
  virtual Result<std::vector<LedgerRow>> ledgerRowsOf(const std::string& instance_id) = 0;
  // The stored leaf hashes of indexes [begin, end), in order (fewer when rows are missing).
  virtual Result<std::vector<audit::Hash>> ledgerLeaves(std::uint64_t begin, std::uint64_t end) = 0;
  // A stored complete subtree (levels >= audit::kStoredLevel), if there is one.
  virtual Result<std::optional<audit::Hash>> ledgerNode(int level, std::uint64_t index) = 0;
  // Every stored complete subtree, by level then index.
  virtual Result<std::vector<LedgerNode>> ledgerNodes() = 0;
  // Signed checkpoints; kConflict when one of that size exists.
  virtual Status addCheckpoint(const audit::Checkpoint& checkpoint) = 0;
  // Checkpoints of size >= from_size, smallest first, at most limit.
  virtual Result<std::vector<audit::Checkpoint>> checkpoints(std::uint64_t from_size,
                                                             int limit) = 0;
  virtual Result<std::optional<audit::Checkpoint>> latestCheckpoint() = 0;

  // Documents: addDocument stores record as the next version of (instance_id, name) and
  // returns it with its version; kConflict when a concurrent writer took that version.
  virtual Result<DocumentRecord> addDocument(const DocumentRecord& record) = 0;
  virtual Result<std::optional<DocumentRecord>> document(const std::string& id) = 0;
  // Every version of every document of an instance, by name then version.
  virtual Result<std::vector<DocumentRecord>> documentsOf(const std::string& instance_id) = 0;
  // kConflict when the id exists.
  virtual Status addSignature(const SignatureRecord& record) = 0;
  // An instance's signatures, oldest first.
  virtual Result<std::vector<SignatureRecord>> signaturesOf(const std::string& instance_id) = 0;
  // Blobs kept in the database (the optional document store): content by SHA-256. Putting
  // a blob that exists does nothing.
  virtual Status putBlob(const std::string& sha256, const std::string& bytes) = 0;
  virtual Result<std::optional<std::string>> blob(const std::string& sha256) = 0;

  // Nested units inside one transaction (group commit isolates each request in one).
  virtual Status savepoint(const std::string& name) = 0;
  virtual Status releaseSavepoint(const std::string& name) = 0;
  virtual Status rollbackToSavepoint(const std::string& name) = 0;

  // While on, writes may go to the database without waiting for its answer (PostgreSQL sends
  // them with the next statement that needs one, in one round trip; SQLite runs them at
  // once). Their failures, conflicts included, are then returned by a later call or by
  // commit(), and the transaction can only be rolled back: for writes whose failure fails the
  // whole transaction (group commit's batch). Meanwhile the ids and changed-row counts that
  // writes return (addTimer, cancelTimers, cancelAllTimers, releaseDeferred) read as 0.
  virtual void pipelineWrites(bool on) { (void)on; }

  virtual Status commit() = 0;
};

inline Status Transaction::updateInstance(const InstanceRecord& record) {
  InstanceWrite write{record, record.row_version};
  ++write.record.row_version;
  return writeInstances({write});
}

struct StoreOptions {
  // SQLite: PRAGMA synchronous (FULL keeps every commit durable across power loss).
  std::string sqlite_synchronous = "FULL";
  // SQLite on a file with synchronous=FULL: each commit syncs the write-ahead log itself,
  // after handing the write lock to the next transaction, instead of inside SQLite's COMMIT
  // (which then runs at synchronous=NORMAL), so that the next transaction writes during the
  // sync. commit() still returns only once the commit is durable, and no transaction but a
  // kReadAhead ends before every commit it could have seen is durable. Off by default: the
  // engine measured no faster with it and dearer per event (its batches are smaller); it may
  // pay where a sync is slow and many requests wait (bench/README.md).
  bool sqlite_pipelined_sync = false;
  // How pipelined sync makes the WAL's data durable, given its file descriptor: returns 0, or
  // -1 with errno set. fdatasync when empty (tests substitute their own).
  std::function<int(int)> sqlite_wal_sync;
  int busy_timeout_ms = 10'000;
  // SQLite: memory-mapped I/O is off by default: with a growing file every connection
  // remaps, and the unmapping and page faults cost a third of the engine's task throughput
  // (bench_http: 1,183 -> 1,642 completions/s without it). Reads go through each
  // connection's page cache instead, of sqlite_cache_kib.
  std::int64_t sqlite_mmap_bytes = 0;
  std::int64_t sqlite_cache_kib = 32 * 1024;
  // Connections for reads, and for writes on PostgreSQL; SQLite on a file has one more, its
  // only writer.
  int pool_size = 8;
};

enum class TxMode {
  kWrite,  // takes the write lock up front (SQLite: BEGIN IMMEDIATE)
  kRead,   // reads a consistent snapshot without blocking writers; writes are a bug
  // Reads like kRead, but may end before the commits it saw are durable (SQLite with
  // pipelined sync): for computing writes whose own commit makes what they read durable.
  // Anything else learned from it may be shown only after Store::awaitDurable().
  kReadAhead,
};

// Thread-safe: begin() may be called from any thread; each transaction uses its own
// connection from a pool.
class Store {
 public:
  virtual ~Store() = default;
  virtual Result<std::unique_ptr<Transaction>> begin(TxMode mode = TxMode::kWrite) = 0;
  virtual const char* dialectName() const = 0;
  // How many write transactions are worth having in flight at once: callers that batch
  // writes then serialise them themselves instead of waiting on the database lock. SQLite:
  // 1, as it admits one writer; 2 with pipelined sync (one writing while the one before it
  // syncs). 0 when the database admits concurrent writers and the caller chooses.
  virtual int commitSlots() const = 0;
  // Returns once every commit begun so far is durable (at once where commit() is durable
  // before others can read it). Thread-safe. Errors: kUnavailable when the log cannot be
  // synced.
  virtual Status awaitDurable() = 0;
  // Schema version after migrations.
  virtual int schemaVersion() const = 0;
};

// Opens (creating if needed) and migrates a store. URIs:
//   sqlite:/path/to/file.db      sqlite::memory: (tests)
//   postgresql://user@host:port/dbname   (libpq keyword strings also accepted after
//   "postgresql:" as "postgresql:host=... port=...")
// Errors: kInvalidArgument for an unknown scheme; kUnavailable when the database cannot
// be opened; kFailedPrecondition when its schema is newer than this build knows.
Result<std::unique_ptr<Store>> openStore(const std::string& uri, const StoreOptions& options = {});

// The URI of a data directory's embedded store (the default of `tramite serve --data-dir`).
std::string dataDirStoreUri(const std::string& data_dir);

}  // namespace tramite::storage
