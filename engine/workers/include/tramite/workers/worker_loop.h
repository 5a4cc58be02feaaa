// The one home of a server's after-commit work: timers, deliveries, checkpoints and history
// consumers run as jobs of one loop, on one thread of their own, each when it is due.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tramite/clock.h"
#include "tramite/status.h"
#include "tramite/storage/store.h"
#include "tramite/workers/history_consumer.h"

namespace tramite::workers {

class WorkerLoop {
 public:
  using Job = std::function<Status()>;
  using ErrorSink = std::function<void(const std::string& job, const Status& status)>;

  // Jobs run at least every poll_ms (clock decides when a job is due; the thread waits on the
  // system's steady clock between polls). on_error hears every failed run (a job that fails
  // is tried again at its next turn).
  WorkerLoop(const Clock& clock, std::int64_t poll_ms, ErrorSink on_error);
  ~WorkerLoop();  // stops and joins
  WorkerLoop(const WorkerLoop&) = delete;
  WorkerLoop& operator=(const WorkerLoop&) = delete;

  // Adds a job run when every_ms have passed since its last run (0: at every poll), in the
  // order added. Only before start().
  void add(std::string name, std::int64_t every_ms, Job job);
  // Runs each job that is due now, in order, on the calling thread (the loop's thread calls
  // it at every poll; tests call it directly). Not concurrently with itself.
  void runDue();
  // Starts the thread. stop() ends it after the run in progress and joins; idempotent.
  void start();
  void stop();

 private:
  struct Entry {
    std::string name;
    std::int64_t every_ms;
    Job job;
    TimePoint last_run = 0;
    bool ran = false;
  };
  const Clock& clock_;
  std::int64_t poll_ms_;
  ErrorSink on_error_;
  std::vector<Entry> jobs_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// A job that runs consumer through runConsumer whenever it runs, as holder (see ConsumerRun).
WorkerLoop::Job consumerJob(storage::Store& store, HistoryConsumer& consumer, const Clock& clock,
                            std::string holder, std::int64_t lease_ms);

// A job that runs work only while holder holds the lease `name` (the same leases as
// consumers'), so that one server at a time does it.
WorkerLoop::Job leasedJob(storage::Store& store, std::string name, const Clock& clock,
                          std::string holder, std::int64_t lease_ms, WorkerLoop::Job work);

}  // namespace tramite::workers
