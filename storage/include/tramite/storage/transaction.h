// One transaction of the store, as facets per entity. A caller that needs one entity takes
// that facet (`storage::TaskFacet&`); the engine's steps take the whole Transaction, which is
// every facet plus the transaction's own control (savepoints, pipelining, commit).
//
// A facet is an interface only: it is never owned or deleted through (its destructor is
// protected), and a Transaction is used by one thread at a time. Expected failures are
// Status values: kConflict for a versioned write that lost or a taken key, kUnavailable when
// the database cannot be reached, kInternal for anything else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tramite/audit/checkpoint.h"
#include "tramite/clock.h"
#include "tramite/status.h"
#include "tramite/storage/records.h"

namespace tramite::storage {

// Definitions: versions are numbered 1, 2, ... per name.
class DefinitionFacet {
 public:
  virtual Result<DefinitionRecord> addDefinition(const std::string& name, const std::string& sha256,
                                                 const std::string& xml, TimePoint now) = 0;
  // A version of a name, without its XML (definitionById has it); version 0 means the latest.
  virtual Result<std::optional<DefinitionRecord>> definition(const std::string& name,
                                                             std::int32_t version) = 0;
  // A version with its XML.
  virtual Result<std::optional<DefinitionRecord>> definitionById(std::int64_t id) = 0;
  // All versions of a name, oldest first, without their XML.
  virtual Result<std::vector<DefinitionRecord>> definitionVersions(const std::string& name) = 0;

 protected:
  ~DefinitionFacet() = default;
};

// Instances. insertInstance: kConflict when the id exists. updateInstance: record.row_version
// is the version the caller read; the stored row gets row_version + 1; kConflict when the
// stored version differs (someone else wrote first). Both are writeInstances of one row.
class InstanceFacet {
 public:
  Status insertInstance(const InstanceRecord& record) { return writeInstances({{record, 0}}); }
  Status updateInstance(const InstanceRecord& record) {
    InstanceWrite write{record, record.row_version};
    ++write.record.row_version;
    return writeInstances({write});
  }
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

 protected:
  ~InstanceFacet() = default;
};

// Idempotency: the first result stored for (scope, key) wins; kConflict on a second save.
class IdempotencyFacet {
 public:
  virtual Result<std::optional<std::string>> idempotentResult(const std::string& scope,
                                                              const std::string& key) = 0;
  Status saveIdempotentResult(const std::string& scope, const std::string& key,
                              const std::string& result, TimePoint now) {
    return saveIdempotentResults({IdempotencyRecord{scope, key, result, now}});
  }
  virtual Status saveIdempotentResults(const std::vector<IdempotencyRecord>& records) = 0;

 protected:
  ~IdempotencyFacet() = default;
};

// Timers (delayed sends). claimTimer deletes a timer and says whether this transaction was
// the one that removed it, which makes firing exactly-once across engines.
class TimerFacet {
 public:
  virtual Result<std::int64_t> addTimer(const TimerRecord& timer) = 0;
  virtual Result<int> cancelTimers(const std::string& instance_id, const std::string& sendid) = 0;
  virtual Result<int> cancelAllTimers(const std::string& instance_id) = 0;
  // Due timers, earliest first; on PostgreSQL rows locked by other engines are skipped.
  virtual Result<std::vector<TimerRecord>> dueTimers(TimePoint now, int limit) = 0;
  virtual Result<bool> claimTimer(std::int64_t id) = 0;
  virtual Result<std::vector<TimerRecord>> timersOf(const std::string& instance_id) = 0;
  // Earliest due time of any timer, if there is one.
  virtual Result<std::optional<TimePoint>> nextTimerDue() = 0;

 protected:
  ~TimerFacet() = default;
};

// Events waiting for an instance: the inbox (events produced by other instances, processed
// in seq order), the events deferred while an instance is suspended, and the rows parked
// after failing for good.
class QueueFacet {
 public:
  virtual Status enqueueInbox(const std::string& instance_id, const std::string& event,
                              TimePoint now) = 0;
  virtual Result<std::vector<InboxRecord>> inbox(int limit) = 0;
  virtual Result<bool> claimInbox(std::int64_t seq) = 0;
  // Keeps a row taken out of the timers or the inbox (claim it first, in the same
  // transaction), and lists the parked rows, oldest first.
  virtual Status parkQueued(const ParkedRecord& record) = 0;
  virtual Result<std::vector<ParkedRecord>> parkedRows(int limit) = 0;
  // Events that arrive while an instance is suspended wait here, in order, until resume
  // moves them to the inbox.
  virtual Status deferEvent(const std::string& instance_id, const std::string& event,
                            TimePoint now) = 0;
  virtual Result<int> releaseDeferred(const std::string& instance_id) = 0;

 protected:
  ~QueueFacet() = default;
};

// History, appended in order; read back in seq order. Appending also appends each row to the
// audit ledger; on PostgreSQL it locks the ledger head until the transaction ends, so ledger
// order is commit order.
class HistoryFacet {
 public:
  virtual Status appendHistory(const std::vector<HistoryRecord>& rows) = 0;
  virtual Result<std::vector<HistoryRecord>> history(const std::string& instance_id,
                                                     std::int64_t after_seq, int limit) = 0;

 protected:
  ~HistoryFacet() = default;
};

// Work for after the commit (deliveries), written with the step that asks for it.
class OutboxFacet {
 public:
  virtual Status addOutbox(const OutboxRecord& record) = 0;
  // Outbox rows of a kind not yet delivered, oldest first.
  virtual Result<std::vector<OutboxRecord>> pendingOutbox(const std::string& kind, int limit) = 0;
  // Rows of a kind not yet delivered whose next attempt is due at now, earliest first.
  virtual Result<std::vector<OutboxRecord>> dueOutbox(const std::string& kind, TimePoint now,
                                                      int limit) = 0;
  // Marks a row delivered; false when it already was (another deliverer finished first).
  virtual Result<bool> markOutboxDone(std::int64_t id, TimePoint at) = 0;
  // A delivery failed: counts the attempt, keeps why, and sets when to try again; false when
  // the row was delivered meanwhile.
  virtual Result<bool> retryOutbox(std::int64_t id, TimePoint next_attempt_at,
                                   const std::string& error) = 0;

 protected:
  ~OutboxFacet() = default;
};

// Directory: replaces every unit, role, user and substitution at once.
class DirectoryFacet {
 public:
  virtual Status replaceDirectory(const DirectoryRecords& directory) = 0;
  virtual Result<DirectoryRecords> directory() = 0;
  virtual Result<std::optional<UserRecord>> user(const std::string& id) = 0;
  // The substitutions in force on day in which substitute acts for someone.
  virtual Result<std::vector<SubstitutionRecord>> standingInFor(const std::string& substitute,
                                                                std::int64_t day) = 0;

 protected:
  ~DirectoryFacet() = default;
};

// Tasks: inserts and versioned updates (kConflict as for writeInstances); a write also
// replaces the task's queue entries with record.principals.
class TaskFacet {
 public:
  virtual Status writeTasks(const std::vector<TaskWrite>& writes) = 0;
  virtual Result<std::optional<TaskRecord>> task(const std::string& id) = 0;
  // Every task of an instance, oldest first.
  virtual Result<std::vector<TaskRecord>> tasksOf(const std::string& instance_id) = 0;
  // A page of a queue (see TaskQuery). Errors: kInvalidArgument for a bad filter.
  virtual Result<std::vector<TaskRecord>> queryTasks(const TaskQuery& query) = 0;

 protected:
  ~TaskFacet() = default;
};

// Authentication: a user's credential (upserted whole), login throttling, invitations, API
// tokens by their hash.
class AuthFacet {
 public:
  virtual Result<std::optional<CredentialRecord>> credential(const std::string& user) = 0;
  virtual Status putCredential(const CredentialRecord& record) = 0;
  // Login throttling, atomic across concurrent attempts and servers: counts an attempt for
  // name unless it is locked at now (then counted is false and nothing changes), and returns
  // the row after. The row stays locked against concurrent counts until the transaction ends.
  virtual Result<LoginAttemptRecord> countLoginAttempt(const std::string& name, TimePoint now) = 0;
  virtual Status lockLogin(const std::string& name, TimePoint until) = 0;
  // A successful login: name's count starts again.
  virtual Status clearLoginAttempts(const std::string& name) = 0;
  // Invitations to set a first password: only the secret's SHA-256 is kept. takeInvitation
  // uses one up (atomically) and names its user; nullopt when it is unknown, used or expired.
  virtual Status addInvitation(const std::string& secret_hash, const std::string& user,
                               TimePoint expires_at, TimePoint now) = 0;
  virtual Result<std::optional<std::string>> takeInvitation(const std::string& secret_hash,
                                                            TimePoint now) = 0;
  // kConflict when the id or the hash exists.
  virtual Status addApiToken(const ApiTokenRecord& record) = 0;
  virtual Result<std::optional<ApiTokenRecord>> apiTokenByHash(const std::string& token_hash) = 0;
  // A user's tokens (every user's when user is empty), oldest first.
  virtual Result<std::vector<ApiTokenRecord>> apiTokens(const std::string& user) = 0;
  // Marks a token revoked at `at`; false when there is no such token in force.
  virtual Result<bool> revokeApiToken(const std::string& id, TimePoint at) = 0;

 protected:
  ~AuthFacet() = default;
};

// The audit ledger, read side (HistoryFacet::appendHistory writes it), and its checkpoints.
class LedgerFacet {
 public:
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

 protected:
  ~LedgerFacet() = default;
};

// Documents, their signatures, and blobs kept in the database.
class DocumentFacet {
 public:
  // Stores record as the next version of (instance_id, name) and returns it with its
  // version; kConflict when a concurrent writer took that version.
  virtual Result<DocumentRecord> addDocument(const DocumentRecord& record) = 0;
  virtual Result<std::optional<DocumentRecord>> document(const std::string& id) = 0;
  // Every version of every document of an instance, by name then version.
  virtual Result<std::vector<DocumentRecord>> documentsOf(const std::string& instance_id) = 0;
  // kConflict when the id exists.
  virtual Status addSignature(const SignatureRecord& record) = 0;
  // An instance's signatures, oldest first.
  virtual Result<std::vector<SignatureRecord>> signaturesOf(const std::string& instance_id) = 0;
  // Blobs kept in the database (the optional document store): content by SHA-256. Putting a
  // blob that exists does nothing.
  virtual Status putBlob(const std::string& sha256, const std::string& bytes) = 0;
  virtual Result<std::optional<std::string>> blob(const std::string& sha256) = 0;

 protected:
  ~DocumentFacet() = default;
};

// Durable history consumers (after-commit workers that read history in ledger order): each
// has a named cursor, the ledger index of the next row it will read, moved in the same
// transaction as the effects of the rows before it; and, where several servers share the
// database, a lease that says which of them runs it.
class ConsumerFacet {
 public:
  // The cursor of name; 0 (the ledger's first row) for a consumer never run.
  virtual Result<std::int64_t> consumerPosition(const std::string& name) = 0;
  // Moves the cursor of name from `from` to `to`; false, with nothing changed, when the
  // stored position is not `from` (another runner moved it: this one's work must roll back).
  virtual Result<bool> advanceConsumer(const std::string& name, std::int64_t from,
                                       std::int64_t to) = 0;
  // Takes or renews the lease of name for holder until `until`: true when holder now holds
  // it (it was free, expired at now, or already holder's). Committed on its own, before the
  // work it guards.
  virtual Result<bool> leaseConsumer(const std::string& name, const std::string& holder,
                                     TimePoint now, TimePoint until) = 0;

 protected:
  ~ConsumerFacet() = default;
};

// In-app notifications per user, written by the notification consumer.
class NotificationFacet {
 public:
  // kConflict when record.id exists.
  virtual Status addNotification(const NotificationRecord& record) = 0;
  // A user's notifications, newest first: those with id < before_id when it is > 0, only the
  // unread when unread_only, at most limit.
  virtual Result<std::vector<NotificationRecord>> notificationsOf(const std::string& user,
                                                                  bool unread_only,
                                                                  std::int64_t before_id,
                                                                  int limit) = 0;
  virtual Result<std::int64_t> unreadNotifications(const std::string& user) = 0;
  // Marks user's notification read at `at`; false when user has no such unread notification.
  virtual Result<bool> markNotificationRead(const std::string& user, std::int64_t id,
                                            TimePoint at) = 0;

 protected:
  ~NotificationFacet() = default;
};

class Transaction : public DefinitionFacet,
                    public InstanceFacet,
                    public IdempotencyFacet,
                    public TimerFacet,
                    public QueueFacet,
                    public HistoryFacet,
                    public OutboxFacet,
                    public DirectoryFacet,
                    public TaskFacet,
                    public AuthFacet,
                    public LedgerFacet,
                    public DocumentFacet,
                    public ConsumerFacet,
                    public NotificationFacet {
 public:
  virtual ~Transaction() = default;

  // Counts across entities for /metrics.
  virtual Result<StoreStatistics> statistics(TimePoint now) = 0;

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

}  // namespace tramite::storage
