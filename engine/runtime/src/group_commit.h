// Group commit: the engine's requests computed in parallel and committed in shared write
// transactions. Thread safe: run() is called from any number of threads at once.
//
// Each request is computed on its caller's thread, in parallel with the others and with the
// write in progress: against its own read snapshot, in its own overlay (a failing request
// leaves nothing behind). What succeeded waits, ready, for a committer: the first ready
// caller that finds a committer slot free takes every ready request, folds their overlays
// into one and writes that in one short write transaction with versioned writes, committed
// once. A committer first waits (up to commit_delay) for requests still being computed, so
// concurrent callers share a commit instead of alternating between two half-full ones.
// Requests for one instance run one at a time, in arrival order. Requests that need a write
// transaction for their computation (a first inline <invoke>) run inside the write phase,
// each in a savepoint. A request that fails with a retryable error, or whose commit did, is
// computed again by its caller, keeping its turn on its instance.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "overlay.h"
#include "tramite/runtime/engine.h"
#include "tramite/storage/store.h"
#include "tramite/thread_annotations.h"

namespace tramite::runtime::internal {

class GroupCommit {
 public:
  using Work = std::function<Result<InstanceView>(storage::Transaction&, bool& final_answer)>;

  // store and options must outlive it.
  GroupCommit(storage::Store& store, const EngineOptions& options)
      : store_(store), options_(options), recent_(options.recent_instances) {}

  RecentInstances& recent() { return recent_; }

  GroupCommitStats stats() TRAMITE_EXCLUDES(mu_);

  // Computes work (with the instance instance_id read ahead, when not empty) and commits what
  // it wrote in a batch with others; the work's answer, once durable.
  Result<InstanceView> run(Work work, std::string instance_id) TRAMITE_EXCLUDES(mu_);

 private:
  // Owned by its caller's run() and, while being woken, by the committer that wakes it.
  struct Request : std::enable_shared_from_this<Request> {
    Work work;
    std::string instance_id;
    std::optional<Result<InstanceView>> result;
    std::unique_ptr<Overlay> writes;  // what the computation wrote, detached from its snapshot
    bool in_write_phase = false;      // to be computed inside the write transaction
    bool ready = false;               // waiting for a committer
    bool retry = false;
    bool committed = false;  // its last attempt was in a batch that committed
    bool granted = false;    // its instance's turn came
    int attempts = 0;
    std::condition_variable cv;  // signalled when its turn comes, when it landed, or to commit
  };

  // A committer's clock: next adds the time since the previous mark to a phase's total.
  struct Phases {
    std::chrono::steady_clock::time_point mark = std::chrono::steady_clock::now();
    std::chrono::nanoseconds writing{0};
    std::chrono::nanoseconds committing{0};
    void next(std::chrono::nanoseconds& total) {
      const auto now = std::chrono::steady_clock::now();
      total += now - mark;
      mark = now;
    }
  };

  // Called with mu_ held: the request first in line to be written, shared so that it can be
  // woken after mu_ is released; null when none is.
  std::shared_ptr<Request> firstReady() const TRAMITE_REQUIRES(mu_);

  std::size_t maxBatch() const { return static_cast<std::size_t>(options_.max_batch); }

  // Called with mu_ held: a gathering committer need wait no longer, as no request is being
  // computed or a full batch is ready.
  bool gatheredEnough() const TRAMITE_REQUIRES(mu_) {
    return computing_ == 0 || ready_.size() >= maxBatch();
  }

  int maxCommitters() const;

  // Called with mu_ held: waits until no earlier request for the same instance is running.
  void awaitTurn(Request& req, MutexLock& lock) TRAMITE_REQUIRES(mu_);

  // Called with mu_ held: hands the instance to the next request waiting for it.
  void endTurn(const Request& req) TRAMITE_REQUIRES(mu_);

  // Computes req against its own snapshot, reading instance rows from recent_ first when
  // use_recent. Sets result (and retry) for a request that is finished here (failed, or read
  // only), or sets ready. Returns false, having set neither, when remembered rows may have
  // decided the outcome without a version check at commit to catch a stale one: the request
  // failed or only read, or it read a remembered instance it does not write.
  bool compute(Request& req, bool use_recent);

  // Settles req's answer: retryable failures are marked for another attempt.
  static void answer(Request& req, Result<InstanceView> r, bool final_answer);

  // Called with mu_ held by a ready caller when a committer slot is free: takes the write
  // transaction (waiting for the one before, which may be syncing its commit meanwhile),
  // waits briefly for the requests still being computed, then writes every ready request
  // (up to max_batch) and wakes their callers. Returns with mu_ held, having released it
  // while taking the transaction, writing and waking.
  void commitReady(MutexLock& lock) TRAMITE_REQUIRES(mu_);

  // Writes the batch in tx, which ends here (rolled back unless committed). A request whose
  // writes no longer fit (an instance or task another request of the batch, or a rival,
  // changed since its snapshot) is answered with the conflict and retried alone; a failure
  // of the transaction itself is returned and fails the whole batch.
  Status write(std::unique_ptr<storage::Transaction> owned,
               const std::vector<std::shared_ptr<Request>>& batch, Phases& phases);

  // Runs one request directly in the write transaction, undoing its writes if it fails.
  static Status runInSavepoint(storage::Transaction& tx, Request& req);

  storage::Store& store_;
  const EngineOptions& options_;
  RecentInstances recent_;
  // Guards the members below, and the fields of the requests in ready_ and turns_ (which
  // Request cannot name).
  Mutex mu_;
  std::deque<Request*> ready_ TRAMITE_GUARDED_BY(mu_);
  // Instances with a request running: the requests waiting for their turn, in order.
  std::unordered_map<std::string, std::deque<Request*>> turns_ TRAMITE_GUARDED_BY(mu_);
  int computing_ TRAMITE_GUARDED_BY(mu_) = 0;
  int committers_ TRAMITE_GUARDED_BY(mu_) = 0;
  GroupCommitStats stats_ TRAMITE_GUARDED_BY(mu_);
  // A committer is taking its write transaction or waiting for requests being computed:
  // one gathers a batch at a time.
  bool gathering_ TRAMITE_GUARDED_BY(mu_) = false;
  std::condition_variable committer_cv_;  // a committer waiting for requests being computed
};

}  // namespace tramite::runtime::internal
