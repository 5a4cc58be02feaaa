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

#include "tramite/storage/forwarding_transaction.h"
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

class Overlay final : public storage::ForwardingTransaction {
 public:
  // base must outlive the overlay. Writes an overlay cannot keep (new definitions, claims)
  // go to base when writable, and otherwise fail and set needsWriteTransaction().
  // Reads of instances this overlay has not read yet look in recent first, when given (it
  // must outlive the overlay).
  Overlay(storage::Transaction& base, bool writable, RecentInstances* recent = nullptr)
      : ForwardingTransaction(&base), recent_(recent), writable_(writable) {}

  // Forgets base, so its transaction can end while the kept writes wait for their flush.
  // After this, only what reads the overlay's own state may be called (flushTo, empty,
  // keptInstances, keptRecords, needsWriteTransaction, readRecent, readUncheckedRecent).
  void detach() { setBase(nullptr); }
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

  // What an overlay keeps in memory until the flush (see flushTo) and the reads that must
  // see it; every other call passes to base. Writes the overlay cannot keep and engine work
  // may ask for (a new definition, claims, the directory, documents) go to base when it is
  // writable, and otherwise fail and set needsWriteTransaction(). Other writes reach base as
  // they are: a read snapshot refuses them.
  Result<storage::DefinitionRecord> addDefinition(const std::string& name,
                                                  const std::string& sha256, const std::string& xml,
                                                  TimePoint now) override;

  Result<std::optional<storage::InstanceRecord>> instance(const std::string& id) override;
  Result<std::vector<storage::InstanceRecord>> instances(
      const std::vector<std::string>& ids) override;
  Status writeInstances(const std::vector<storage::InstanceWrite>& writes) override;

  Result<std::optional<std::string>> idempotentResult(const std::string& scope,
                                                      const std::string& key) override;
  Status saveIdempotentResults(const std::vector<storage::IdempotencyRecord>& records) override;

  Result<std::int64_t> addTimer(const storage::TimerRecord& timer) override;
  Result<int> cancelTimers(const std::string& instance_id, const std::string& sendid) override;
  Result<int> cancelAllTimers(const std::string& instance_id) override;
  Result<bool> claimTimer(std::int64_t id) override;

  Status enqueueInbox(const std::string& instance_id, const std::string& event,
                      TimePoint now) override;
  Result<bool> claimInbox(std::int64_t seq) override;
  Status deferEvent(const std::string& instance_id, const std::string& event,
                    TimePoint now) override;
  Result<int> releaseDeferred(const std::string& instance_id) override;

  // History is appended (and so ledgered) when the overlay is flushed; reads of history and
  // of the ledger see base only.
  Status appendHistory(const std::vector<storage::HistoryRecord>& rows) override;
  Status addOutbox(const storage::OutboxRecord& record) override;

  Status replaceDirectory(const storage::DirectoryRecords& directory) override;

  // Tasks are kept like instances (version-checked, the first version read kept for the
  // flush); reads see kept tasks over base, which is read once per task and per instance. Queue
  // queries see base only, and need the write transaction once this overlay has task writes.
  Status writeTasks(const std::vector<storage::TaskWrite>& writes) override;
  Result<std::optional<storage::TaskRecord>> task(const std::string& id) override;
  Result<std::vector<storage::TaskRecord>> tasksOf(const std::string& instance_id) override;
  Result<std::vector<storage::TaskRecord>> queryTasks(const storage::TaskQuery& query) override;

  Result<storage::DocumentRecord> addDocument(const storage::DocumentRecord& record) override;
  Status addSignature(const storage::SignatureRecord& record) override;
  Status putBlob(const std::string& sha256, const std::string& bytes) override;

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
