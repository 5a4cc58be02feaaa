// A transaction that keeps its writes in memory above a base transaction, which answers the
// reads the overlay cannot. Group commit runs each request against its own overlay over a
// read snapshot, folds the overlays of the requests that succeeded into one, and writes that
// in a single short write transaction: instance rows are written with version checks, so a
// read that went stale meanwhile becomes a conflict (the batch is retried), never a lost
// update.
//
// Not thread-safe. Reads of history, timers and the inbox see the base only.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tramite/storage/store.h"

namespace tramite::runtime {

// The instance rows an engine committed last, so the next request for a busy instance starts
// from memory instead of a read that, after every commit, finds the database's page cache
// cold. Only a hint: a row another writer has changed since fails its version check at
// commit and is read again, and no answer but a write (checked at commit) may be given from
// it. Bounded: the oldest row leaves first. Thread-safe.
class RecentInstances {
 public:
  explicit RecentInstances(std::size_t capacity) : capacity_(capacity) {}

  std::optional<storage::InstanceRecord> get(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end() || !it->second) return std::nullopt;
    return it->second;
  }

  // Keeps records as committed (an older version never replaces a newer one).
  void put(std::vector<storage::InstanceRecord> records) {
    if (capacity_ == 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    for (storage::InstanceRecord& r : records) {
      auto [it, fresh] = rows_.try_emplace(r.id);
      if (fresh) order_.push_back(r.id);
      if (it->second && it->second->row_version > r.row_version) continue;
      it->second = std::move(r);
    }
    while (rows_.size() > capacity_) {
      rows_.erase(order_.front());
      order_.pop_front();
    }
  }

  void forget(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = rows_.find(id); it != rows_.end()) it->second.reset();
  }

  // Forgets every row (after a write that did not say which instances it changed).
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    rows_.clear();
    order_.clear();
  }

 private:
  std::size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, std::optional<storage::InstanceRecord>> rows_;
  std::deque<std::string> order_;  // the keys of rows_, oldest first
};

class Overlay final : public storage::Transaction {
 public:
  // base must outlive the overlay. Writes an overlay cannot keep (new definitions, claims)
  // go to base when writable, and otherwise fail and set needsWriteTransaction().
  // Reads of instances this overlay has not read yet look in recent first, when given (it
  // must outlive the overlay).
  Overlay(storage::Transaction& base, bool writable, RecentInstances* recent = nullptr)
      : base_(&base), recent_(recent), writable_(writable) {}

  // Forgets base, so its transaction can end while the kept writes wait for their flush.
  // After this, only what reads the overlay's own state may be called (flushTo, empty,
  // keptInstances, keptRecords, needsWriteTransaction, readRecent, readUncheckedRecent).
  void detach() { base_ = nullptr; }
  // The ids of the instances this overlay writes, in first write order.
  const std::vector<std::string>& keptInstances() const { return kept_order_; }
  // The instance rows this overlay writes, as they will be stored.
  std::vector<storage::InstanceRecord> keptRecords() const;
  // True when the overlay keeps no write at all (the work only read).
  bool empty() const;
  // True when a read was answered from recent.
  bool readRecent() const { return !from_recent_.empty(); }
  // True when a read was answered from recent for an instance this overlay does not write:
  // nothing at commit would check that the row was current.
  bool readUncheckedRecent() const;

  // True once the work asked for a write that needs a real write transaction.
  bool needsWriteTransaction() const { return needs_write_; }
  // Reads the given instances from base in one round trip and answers later reads of them.
  Status prefetch(const std::vector<std::string>& ids);
  // Writes everything kept to tx: instance rows, task rows, then timers, inbox, outbox and
  // deferred rows in the order they were written, then history and idempotency rows.
  Status flushTo(storage::Transaction& tx) const;

  Result<storage::DefinitionRecord> addDefinition(const std::string& name,
                                                  const std::string& sha256, const std::string& xml,
                                                  TimePoint now) override;
  Result<std::optional<storage::DefinitionRecord>> definition(const std::string& name,
                                                              std::int32_t version) override {
    return base_->definition(name, version);
  }
  Result<std::optional<storage::DefinitionRecord>> definitionById(std::int64_t id) override {
    return base_->definitionById(id);
  }
  Result<std::vector<storage::DefinitionRecord>> definitionVersions(
      const std::string& name) override {
    return base_->definitionVersions(name);
  }

  Result<std::optional<storage::InstanceRecord>> instance(const std::string& id) override;
  Result<std::vector<storage::InstanceRecord>> instances(
      const std::vector<std::string>& ids) override;
  Status writeInstances(const std::vector<storage::InstanceWrite>& writes) override;
  Result<std::int64_t> countInstances() override { return base_->countInstances(); }

  Result<std::optional<std::string>> idempotentResult(const std::string& scope,
                                                      const std::string& key) override;
  Status saveIdempotentResults(const std::vector<storage::IdempotencyRecord>& records) override;

  Result<std::int64_t> addTimer(const storage::TimerRecord& timer) override;
  Result<int> cancelTimers(const std::string& instance_id, const std::string& sendid) override;
  Result<int> cancelAllTimers(const std::string& instance_id) override;
  Result<std::vector<storage::TimerRecord>> dueTimers(TimePoint now, int limit) override {
    return base_->dueTimers(now, limit);
  }
  Result<bool> claimTimer(std::int64_t id) override;
  Result<std::vector<storage::TimerRecord>> timersOf(const std::string& instance_id) override {
    return base_->timersOf(instance_id);
  }
  Result<std::optional<TimePoint>> nextTimerDue() override { return base_->nextTimerDue(); }

  Status enqueueInbox(const std::string& instance_id, const std::string& event,
                      TimePoint now) override;
  Result<std::vector<storage::InboxRecord>> inbox(int limit) override {
    return base_->inbox(limit);
  }
  Result<bool> claimInbox(std::int64_t seq) override;

  Status appendHistory(const std::vector<storage::HistoryRecord>& rows) override;
  Result<std::vector<storage::HistoryRecord>> history(const std::string& instance_id,
                                                      std::int64_t after_seq, int limit) override {
    return base_->history(instance_id, after_seq, limit);
  }

  Status deferEvent(const std::string& instance_id, const std::string& event,
                    TimePoint now) override;
  Result<int> releaseDeferred(const std::string& instance_id) override;
  Status addOutbox(const storage::OutboxRecord& record) override;

  Status replaceDirectory(const storage::DirectoryRecords& directory) override;
  Result<storage::DirectoryRecords> directory() override { return base_->directory(); }
  Result<std::optional<storage::UserRecord>> user(const std::string& id) override {
    return base_->user(id);
  }
  Result<std::vector<storage::SubstitutionRecord>> standingInFor(const std::string& substitute,
                                                                 std::int64_t day) override {
    return base_->standingInFor(substitute, day);
  }

  // Tasks are kept like instances (version-checked, the first version read kept for the
  // flush); reads see kept tasks over base, which is read once per task and per instance. Queue
  // queries see base only, and need the write transaction once this overlay has task writes.
  Status writeTasks(const std::vector<storage::TaskWrite>& writes) override;
  Result<std::optional<storage::TaskRecord>> task(const std::string& id) override;
  Result<std::vector<storage::TaskRecord>> tasksOf(const std::string& instance_id) override;
  Result<std::vector<storage::TaskRecord>> queryTasks(const storage::TaskQuery& query) override;

  // Delivering the outbox and authentication are not engine work: reads pass through,
  // writes are refused.
  Result<std::vector<storage::OutboxRecord>> pendingOutbox(const std::string& kind,
                                                           int limit) override {
    return base_->pendingOutbox(kind, limit);
  }
  Result<bool> markOutboxDone(std::int64_t, TimePoint) override {
    return unsupported("markOutboxDone");
  }
  Result<std::optional<storage::CredentialRecord>> credential(const std::string& user) override {
    return base_->credential(user);
  }
  Status putCredential(const storage::CredentialRecord&) override {
    return unsupported("putCredential");
  }
  Result<storage::LoginAttemptRecord> countLoginAttempt(const std::string&, TimePoint) override {
    return unsupported("countLoginAttempt");
  }
  Status lockLogin(const std::string&, TimePoint) override { return unsupported("lockLogin"); }
  Status addInvitation(const std::string&, const std::string&, TimePoint, TimePoint) override {
    return unsupported("addInvitation");
  }
  Result<std::optional<std::string>> takeInvitation(const std::string&, TimePoint) override {
    return unsupported("takeInvitation");
  }
  Result<std::vector<storage::InstanceSummary>> searchInstances(
      const storage::InstanceQuery& query) override {
    return base_->searchInstances(query);
  }
  Status parkQueued(const storage::ParkedRecord&) override { return unsupported("parkQueued"); }
  Result<std::vector<storage::ParkedRecord>> parkedRows(int limit) override {
    return base_->parkedRows(limit);
  }
  Status clearLoginAttempts(const std::string&) override {
    return unsupported("clearLoginAttempts");
  }
  Status addApiToken(const storage::ApiTokenRecord&) override { return unsupported("addApiToken"); }
  Result<std::optional<storage::ApiTokenRecord>> apiTokenByHash(const std::string& hash) override {
    return base_->apiTokenByHash(hash);
  }
  Result<std::vector<storage::ApiTokenRecord>> apiTokens(const std::string& user) override {
    return base_->apiTokens(user);
  }
  Result<bool> revokeApiToken(const std::string&, TimePoint) override {
    return unsupported("revokeApiToken");
  }
  Result<storage::StoreStatistics> statistics(TimePoint now) override {
    return base_->statistics(now);
  }

  // The ledger is appended through appendHistory when the overlay is flushed; its reads pass
  // through (they do not see this overlay's history), and checkpoints are not engine work.
  Result<audit::CompactRange> ledgerHead() override { return base_->ledgerHead(); }
  Result<std::vector<storage::LedgerRow>> ledgerRows(std::int64_t from, int limit) override {
    return base_->ledgerRows(from, limit);
  }
  Result<std::vector<storage::LedgerRow>> ledgerRowsOf(const std::string& instance) override {
    return base_->ledgerRowsOf(instance);
  }
  Result<std::vector<audit::Hash>> ledgerLeaves(std::uint64_t begin, std::uint64_t end) override {
    return base_->ledgerLeaves(begin, end);
  }
  Result<std::optional<audit::Hash>> ledgerNode(int level, std::uint64_t index) override {
    return base_->ledgerNode(level, index);
  }
  Result<std::vector<storage::LedgerNode>> ledgerNodes() override { return base_->ledgerNodes(); }
  Status addCheckpoint(const audit::Checkpoint&) override { return unsupported("addCheckpoint"); }
  Result<std::vector<audit::Checkpoint>> checkpoints(std::uint64_t from_size, int limit) override {
    return base_->checkpoints(from_size, limit);
  }
  Result<std::optional<audit::Checkpoint>> latestCheckpoint() override {
    return base_->latestCheckpoint();
  }

  // Documents rendered by a step go to base when it is writable (rare, so the batch falls
  // back to a write transaction); reads pass through.
  Result<storage::DocumentRecord> addDocument(const storage::DocumentRecord& record) override {
    if (writable_) return base_->addDocument(record);
    return needsWrite("adding a document");
  }
  Result<std::optional<storage::DocumentRecord>> document(const std::string& id) override {
    return base_->document(id);
  }
  Result<std::vector<storage::DocumentRecord>> documentsOf(const std::string& instance) override {
    return base_->documentsOf(instance);
  }
  Status addSignature(const storage::SignatureRecord& record) override {
    if (writable_) return base_->addSignature(record);
    return needsWrite("adding a signature");
  }
  Result<std::vector<storage::SignatureRecord>> signaturesOf(const std::string& instance) override {
    return base_->signaturesOf(instance);
  }
  Status putBlob(const std::string& sha256, const std::string& bytes) override {
    if (writable_) return base_->putBlob(sha256, bytes);
    return needsWrite("storing a blob");
  }
  Result<std::optional<std::string>> blob(const std::string& sha256) override {
    return base_->blob(sha256);
  }

  // An overlay has no savepoints and is never committed: it is flushed.
  Status savepoint(const std::string&) override { return unsupported("savepoint"); }
  Status releaseSavepoint(const std::string&) override { return unsupported("savepoint"); }
  Status rollbackToSavepoint(const std::string&) override { return unsupported("savepoint"); }
  Status commit() override { return unsupported("commit"); }

 private:
  using Op = std::function<Status(storage::Transaction&)>;
  struct Kept {
    storage::InstanceRecord record;
    std::int64_t expected_version = 0;  // as read from base; 0 for an insert
  };
  static Status unsupported(const char* what);
  Status needsWrite(const char* what);
  // The instance as this overlay sees it: kept, prefetched, or read from base.
  Result<std::optional<storage::InstanceRecord>> lookup(const std::string& id);

  storage::Transaction* base_;  // null once detached
  RecentInstances* recent_;
  std::vector<std::string> from_recent_;  // the instances read from recent
  bool writable_;
  bool needs_write_ = false;
  std::unordered_map<std::string, std::optional<storage::InstanceRecord>> read_;
  std::unordered_map<std::string, Kept> kept_;
  std::vector<std::string> kept_order_;  // first write order, so flushes are deterministic
  std::unordered_map<std::string, storage::TaskWrite> tasks_;
  std::vector<std::string> task_order_;
  // Task rows as read from base, each read once: no task row of base changes while an
  // overlay reads it (the overlay keeps its own task writes until the flush, and what it
  // passes to a writable base is never a task).
  std::unordered_map<std::string, std::optional<storage::TaskRecord>> base_task_;
  std::unordered_map<std::string, std::vector<storage::TaskRecord>> base_tasks_of_;
  std::vector<Op> ops_;
  std::vector<storage::HistoryRecord> history_;
  std::vector<storage::IdempotencyRecord> idempotency_;
};

}  // namespace tramite::runtime
