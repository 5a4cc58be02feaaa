#include "group_commit.h"

#include <algorithm>

#include "engine_internal.h"

namespace tramite::runtime::internal {

GroupCommitStats GroupCommit::stats() {
  MutexLock lock(mu_);
  return stats_;
}

Result<InstanceView> GroupCommit::run(Work work, std::string instance_id) {
  auto owned = std::make_shared<Request>();  // shared with the committer that wakes it
  Request& req = *owned;
  req.work = std::move(work);
  req.instance_id = std::move(instance_id);
  MutexLock lock(mu_);
  awaitTurn(req, lock);
  for (;;) {
    ++computing_;
    lock.unlock();
    if (!compute(req, /*use_recent=*/req.attempts == 0)) compute(req, false);
    lock.lock();
    --computing_;
    if (req.ready) {
      ready_.push_back(&req);
      if (gatheredEnough()) committer_cv_.notify_all();
      while (req.ready) {
        // Only with something to commit: this request may be in a batch being written,
        // and a committer with nothing to write would only take a write transaction.
        if (!ready_.empty() && committers_ < maxCommitters() && !gathering_) {
          commitReady(lock);
        } else {
          req.cv.wait(lock.native());
        }
      }
    } else if (gatheredEnough()) {
      committer_cv_.notify_all();  // a waiting committer need not wait for this one
    }
    if (!req.retry || ++req.attempts >= options_.max_attempts) break;
    req.retry = false;
    lock.unlock();
    backoff(req.attempts);  // let a rival commit
    lock.lock();
  }
  endTurn(req);
  lock.unlock();
  if (!req.committed) {
    // Answered from its read-ahead snapshot: not before what that showed is durable.
    if (Status st = store_.awaitDurable(); !st) return st;
  }
  return std::move(*req.result);
}

std::shared_ptr<GroupCommit::Request> GroupCommit::firstReady() const {
  return ready_.empty() ? nullptr : ready_.front()->shared_from_this();
}

int GroupCommit::maxCommitters() const {
  const int slots = store_.commitSlots();
  return slots > 0 ? slots : std::max(1, options_.commit_pipelines);
}

void GroupCommit::awaitTurn(Request& req, MutexLock& lock) {
  if (req.instance_id.empty()) return;
  auto [it, idle] = turns_.try_emplace(req.instance_id);
  if (idle) return;
  it->second.push_back(&req);
  req.cv.wait(lock.native(), [&] { return req.granted; });
}

void GroupCommit::endTurn(const Request& req) {
  if (req.instance_id.empty()) return;
  auto it = turns_.find(req.instance_id);
  if (it->second.empty()) {
    turns_.erase(it);
    return;
  }
  Request* next = it->second.front();
  it->second.pop_front();
  next->granted = true;
  next->cv.notify_one();
}

bool GroupCommit::compute(Request& req, bool use_recent) {
  req.writes.reset();
  req.in_write_phase = false;
  req.committed = false;
  auto snapshot = store_.begin(storage::TxMode::kReadAhead);
  if (!snapshot) {
    answer(req, snapshot.status(), /*final_answer=*/false);
    return true;
  }
  auto mine =
      std::make_unique<Overlay>(**snapshot, /*writable=*/false, use_recent ? &recent_ : nullptr);
  bool final_answer = false;
  Result<InstanceView> r = req.work(*mine, final_answer);
  mine->detach();
  snapshot->reset();
  if (mine->needsWriteTransaction()) {
    req.in_write_phase = true;
    req.ready = true;
    return true;
  }
  const bool nothing_to_write = mine->empty();
  if (mine->readRecent() && (!r || nothing_to_write || mine->readUncheckedRecent())) {
    return false;
  }
  answer(req, std::move(r), final_answer);
  if (!*req.result || nothing_to_write) return true;
  req.writes = std::move(mine);
  req.ready = true;
  return true;
}

void GroupCommit::answer(Request& req, Result<InstanceView> r, bool final_answer) {
  req.retry = !r && !final_answer && retryable(r.status());
  req.result = std::move(r);
}

// The caller's lock stays its own: mu_ is released and taken again here directly (the
// analysis follows a capability, not a lock passed by reference), and held again on return.
void GroupCommit::commitReady(MutexLock& lock) {
  ++committers_;
  gathering_ = true;
  mu_.unlock();
  Phases phases;
  auto tx = store_.begin(storage::TxMode::kWrite);
  mu_.lock();
  phases.next(stats_.taking_writer);
  committer_cv_.wait_for(lock.native(), options_.commit_delay,
                         [&]() TRAMITE_REQUIRES(mu_) { return gatheredEnough(); });
  phases.next(stats_.gathering);
  gathering_ = false;
  const auto max = maxBatch();
  // Shared with the callers, as they are woken after mu_ is released (below).
  std::vector<std::shared_ptr<Request>> batch;
  while (!ready_.empty() && batch.size() < max) {
    batch.push_back(firstReady());
    ready_.pop_front();
  }
  const auto rest = firstReady();  // a free slot may commit the rest
  mu_.unlock();
  if (rest) rest->cv.notify_one();
  Status st = tx ? write(std::move(tx).value(), batch, phases) : tx.status();
  if (!st) phases.next(phases.writing);  // failed before its commit: it was writing till now
  mu_.lock();
  stats_.writing += phases.writing;
  stats_.committing += phases.committing;
  ++stats_.batches;
  stats_.requests += batch.size();
  if (!st) ++stats_.failed;
  for (const auto& r : batch) {
    if (!st) answer(*r, st, false);
    r->committed = st.isOk();
    r->ready = false;
    r->writes.reset();
  }
  --committers_;
  const auto next = firstReady();  // to commit the next batch
  // Woken with mu_ released, so that they do not wake only to wait for it. batch and next
  // keep each alive meanwhile: its caller returns as soon as it sees its request landed.
  mu_.unlock();
  for (const auto& r : batch) r->cv.notify_one();
  if (next) next->cv.notify_one();
  mu_.lock();
}

Status GroupCommit::runInSavepoint(storage::Transaction& tx, Request& req) {
  const std::string sp = "req";  // sequential, never nested: one name, one statement
  if (Status st = tx.savepoint(sp); !st) return st;
  bool final_answer = false;
  Result<InstanceView> r = req.work(tx, final_answer);
  Status end = r ? tx.releaseSavepoint(sp) : tx.rollbackToSavepoint(sp);
  if (end && !r) end = tx.releaseSavepoint(sp);
  answer(req, std::move(r), final_answer);
  return end;
}

Status GroupCommit::write(std::unique_ptr<storage::Transaction> owned,
                          const std::vector<std::shared_ptr<Request>>& batch, Phases& phases) {
  if (batch.empty()) return Status::ok();
  storage::Transaction& tx = *owned;
  Overlay kept(tx, /*writable=*/false);
  std::vector<std::string> ids;
  for (const auto& req : batch) {
    if (!req->writes) continue;
    ids.insert(ids.end(), req->writes->keptInstances().begin(), req->writes->keptInstances().end());
  }
  if (Status st = kept.prefetch(ids); !st) return st;
  for (const auto& req : batch) {
    if (!req->writes) continue;
    // Checked in a layer of its own first, so a request that does not fit leaves kept as
    // it was.
    Overlay checked(kept, /*writable=*/false);
    if (Status st = req->writes->flushTo(checked); !st) {
      for (const std::string& id : req->writes->keptInstances()) recent_.forget(id);
      answer(*req, st, false);
      continue;
    }
    if (Status st = checked.flushTo(kept); !st) return st;
  }
  tx.pipelineWrites(true);  // a failure fails the batch anyway
  if (Status st = kept.flushTo(tx); !st) return st;
  tx.pipelineWrites(false);
  for (const auto& req : batch) {
    if (req->in_write_phase) {
      recent_.clear();  // it writes past kept, to instances no one names beforehand
      if (Status st = runInSavepoint(tx, *req); !st) return st;
    }
  }
  phases.next(phases.writing);
  Status st = tx.commit();
  phases.next(phases.committing);
  if (!st) return st;
  recent_.put(kept.keptRecords());
  return Status::ok();
}

}  // namespace tramite::runtime::internal
