// A transaction that passes every call to another one: the base of wrappers that change a
// few calls and leave the rest alone (leveldb's EnvWrapper, for a transaction). Group
// commit's overlay overrides only what it keeps in memory.
//
// Owns nothing: base must outlive the wrapper (or be replaced with setBase first). Not
// thread-safe, as no transaction is.
#pragma once

#include "tramite/storage/transaction.h"

namespace tramite::storage {

class ForwardingTransaction : public Transaction {
 public:
  explicit ForwardingTransaction(Transaction* base) : base_(base) {}

  Result<DefinitionRecord> addDefinition(const std::string& name, const std::string& sha256,
                                         const std::string& xml, TimePoint now) override {
    return base_->addDefinition(name, sha256, xml, now);
  }
  Result<std::optional<DefinitionRecord>> definition(const std::string& name,
                                                     std::int32_t version) override {
    return base_->definition(name, version);
  }
  Result<std::optional<DefinitionRecord>> definitionById(std::int64_t id) override {
    return base_->definitionById(id);
  }
  Result<std::vector<DefinitionRecord>> definitionVersions(const std::string& name) override {
    return base_->definitionVersions(name);
  }
  Result<std::optional<InstanceRecord>> instance(const std::string& id) override {
    return base_->instance(id);
  }
  Result<std::vector<InstanceRecord>> instances(const std::vector<std::string>& ids) override {
    return base_->instances(ids);
  }
  Status writeInstances(const std::vector<InstanceWrite>& writes) override {
    return base_->writeInstances(writes);
  }
  Result<std::int64_t> countInstances() override { return base_->countInstances(); }
  Result<std::vector<InstanceSummary>> searchInstances(const InstanceQuery& query) override {
    return base_->searchInstances(query);
  }
  Result<std::optional<std::string>> idempotentResult(const std::string& scope,
                                                      const std::string& key) override {
    return base_->idempotentResult(scope, key);
  }
  Status saveIdempotentResults(const std::vector<IdempotencyRecord>& records) override {
    return base_->saveIdempotentResults(records);
  }
  Result<std::int64_t> addTimer(const TimerRecord& timer) override {
    return base_->addTimer(timer);
  }
  Result<int> cancelTimers(const std::string& instance_id, const std::string& sendid) override {
    return base_->cancelTimers(instance_id, sendid);
  }
  Result<int> cancelAllTimers(const std::string& instance_id) override {
    return base_->cancelAllTimers(instance_id);
  }
  Result<std::vector<TimerRecord>> dueTimers(TimePoint now, int limit) override {
    return base_->dueTimers(now, limit);
  }
  Result<bool> claimTimer(std::int64_t id) override { return base_->claimTimer(id); }
  Result<std::vector<TimerRecord>> timersOf(const std::string& instance_id) override {
    return base_->timersOf(instance_id);
  }
  Result<std::optional<TimePoint>> nextTimerDue() override { return base_->nextTimerDue(); }
  Status enqueueInbox(const std::string& instance_id, const std::string& event,
                      TimePoint now) override {
    return base_->enqueueInbox(instance_id, event, now);
  }
  Result<std::vector<InboxRecord>> inbox(int limit) override { return base_->inbox(limit); }
  Result<bool> claimInbox(std::int64_t seq) override { return base_->claimInbox(seq); }
  Status parkQueued(const ParkedRecord& record) override { return base_->parkQueued(record); }
  Result<std::vector<ParkedRecord>> parkedRows(int limit) override {
    return base_->parkedRows(limit);
  }
  Status deferEvent(const std::string& instance_id, const std::string& event,
                    TimePoint now) override {
    return base_->deferEvent(instance_id, event, now);
  }
  Result<int> releaseDeferred(const std::string& instance_id) override {
    return base_->releaseDeferred(instance_id);
  }
  Status appendHistory(const std::vector<HistoryRecord>& rows) override {
    return base_->appendHistory(rows);
  }
  Result<std::vector<HistoryRecord>> history(const std::string& instance_id, std::int64_t after_seq,
                                             int limit) override {
    return base_->history(instance_id, after_seq, limit);
  }
  Status addOutbox(const OutboxRecord& record) override { return base_->addOutbox(record); }
  Result<std::vector<OutboxRecord>> pendingOutbox(const std::string& kind, int limit) override {
    return base_->pendingOutbox(kind, limit);
  }
  Result<std::vector<OutboxRecord>> dueOutbox(const std::string& kind, TimePoint now,
                                              int limit) override {
    return base_->dueOutbox(kind, now, limit);
  }
  Result<bool> markOutboxDone(std::int64_t id, TimePoint at) override {
    return base_->markOutboxDone(id, at);
  }
  Result<bool> retryOutbox(std::int64_t id, TimePoint next_attempt_at,
                           const std::string& error) override {
    return base_->retryOutbox(id, next_attempt_at, error);
  }
  Status replaceDirectory(const DirectoryRecords& directory) override {
    return base_->replaceDirectory(directory);
  }
  Result<DirectoryRecords> directory() override { return base_->directory(); }
  Result<std::optional<UserRecord>> user(const std::string& id) override { return base_->user(id); }
  Result<std::vector<SubstitutionRecord>> standingInFor(const std::string& substitute,
                                                        std::int64_t day) override {
    return base_->standingInFor(substitute, day);
  }
  Status writeTasks(const std::vector<TaskWrite>& writes) override {
    return base_->writeTasks(writes);
  }
  Result<std::optional<TaskRecord>> task(const std::string& id) override { return base_->task(id); }
  Result<std::vector<TaskRecord>> tasksOf(const std::string& instance_id) override {
    return base_->tasksOf(instance_id);
  }
  Result<std::vector<TaskRecord>> queryTasks(const TaskQuery& query) override {
    return base_->queryTasks(query);
  }
  Result<std::optional<CredentialRecord>> credential(const std::string& user) override {
    return base_->credential(user);
  }
  Status putCredential(const CredentialRecord& record) override {
    return base_->putCredential(record);
  }
  Result<LoginAttemptRecord> countLoginAttempt(const std::string& name, TimePoint now) override {
    return base_->countLoginAttempt(name, now);
  }
  Status lockLogin(const std::string& name, TimePoint until) override {
    return base_->lockLogin(name, until);
  }
  Status clearLoginAttempts(const std::string& name) override {
    return base_->clearLoginAttempts(name);
  }
  Status addInvitation(const std::string& secret_hash, const std::string& user,
                       TimePoint expires_at, TimePoint now) override {
    return base_->addInvitation(secret_hash, user, expires_at, now);
  }
  Result<std::optional<std::string>> takeInvitation(const std::string& secret_hash,
                                                    TimePoint now) override {
    return base_->takeInvitation(secret_hash, now);
  }
  Status addApiToken(const ApiTokenRecord& record) override { return base_->addApiToken(record); }
  Result<std::optional<ApiTokenRecord>> apiTokenByHash(const std::string& token_hash) override {
    return base_->apiTokenByHash(token_hash);
  }
  Result<std::vector<ApiTokenRecord>> apiTokens(const std::string& user) override {
    return base_->apiTokens(user);
  }
  Result<bool> revokeApiToken(const std::string& id, TimePoint at) override {
    return base_->revokeApiToken(id, at);
  }
  Result<audit::CompactRange> ledgerHead() override { return base_->ledgerHead(); }
  Result<std::vector<LedgerRow>> ledgerRows(std::int64_t from, int limit) override {
    return base_->ledgerRows(from, limit);
  }
  Result<std::vector<LedgerRow>> ledgerRowsOf(const std::string& instance_id) override {
    return base_->ledgerRowsOf(instance_id);
  }
  Result<std::vector<audit::Hash>> ledgerLeaves(std::uint64_t begin, std::uint64_t end) override {
    return base_->ledgerLeaves(begin, end);
  }
  Result<std::optional<audit::Hash>> ledgerNode(int level, std::uint64_t index) override {
    return base_->ledgerNode(level, index);
  }
  Result<std::vector<LedgerNode>> ledgerNodes() override { return base_->ledgerNodes(); }
  Status addCheckpoint(const audit::Checkpoint& checkpoint) override {
    return base_->addCheckpoint(checkpoint);
  }
  Result<std::vector<audit::Checkpoint>> checkpoints(std::uint64_t from_size, int limit) override {
    return base_->checkpoints(from_size, limit);
  }
  Result<std::optional<audit::Checkpoint>> latestCheckpoint() override {
    return base_->latestCheckpoint();
  }
  Result<DocumentRecord> addDocument(const DocumentRecord& record) override {
    return base_->addDocument(record);
  }
  Result<std::optional<DocumentRecord>> document(const std::string& id) override {
    return base_->document(id);
  }
  Result<std::vector<DocumentRecord>> documentsOf(const std::string& instance_id) override {
    return base_->documentsOf(instance_id);
  }
  Status addSignature(const SignatureRecord& record) override {
    return base_->addSignature(record);
  }
  Result<std::vector<SignatureRecord>> signaturesOf(const std::string& instance_id) override {
    return base_->signaturesOf(instance_id);
  }
  Status putBlob(const std::string& sha256, const std::string& bytes) override {
    return base_->putBlob(sha256, bytes);
  }
  Result<std::optional<std::string>> blob(const std::string& sha256) override {
    return base_->blob(sha256);
  }
  Result<std::int64_t> consumerPosition(const std::string& name) override {
    return base_->consumerPosition(name);
  }
  Result<bool> advanceConsumer(const std::string& name, std::int64_t from,
                               std::int64_t to) override {
    return base_->advanceConsumer(name, from, to);
  }
  Result<bool> leaseConsumer(const std::string& name, const std::string& holder, TimePoint now,
                             TimePoint until) override {
    return base_->leaseConsumer(name, holder, now, until);
  }
  Status addNotification(const NotificationRecord& record) override {
    return base_->addNotification(record);
  }
  Result<std::vector<NotificationRecord>> notificationsOf(const std::string& user, bool unread_only,
                                                          std::int64_t before_id,
                                                          int limit) override {
    return base_->notificationsOf(user, unread_only, before_id, limit);
  }
  Result<std::int64_t> unreadNotifications(const std::string& user) override {
    return base_->unreadNotifications(user);
  }
  Result<bool> markNotificationRead(const std::string& user, std::int64_t id,
                                    TimePoint at) override {
    return base_->markNotificationRead(user, id, at);
  }
  Result<StoreStatistics> statistics(TimePoint now) override { return base_->statistics(now); }
  Status savepoint(const std::string& name) override { return base_->savepoint(name); }
  Status releaseSavepoint(const std::string& name) override {
    return base_->releaseSavepoint(name);
  }
  Status rollbackToSavepoint(const std::string& name) override {
    return base_->rollbackToSavepoint(name);
  }
  Status commit() override { return base_->commit(); }
  void pipelineWrites(bool on) override { base_->pipelineWrites(on); }

 protected:
  Transaction* base() const { return base_; }
  // Calls after setBase(nullptr) that reach the base are a bug.
  void setBase(Transaction* base) { base_ = base; }

 private:
  Transaction* base_;
};

}  // namespace tramite::storage
