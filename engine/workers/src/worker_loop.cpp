#include "tramite/workers/worker_loop.h"

#include <chrono>

namespace tramite::workers {

WorkerLoop::WorkerLoop(const Clock& clock, std::int64_t poll_ms, ErrorSink on_error)
    : clock_(clock), poll_ms_(poll_ms), on_error_(std::move(on_error)) {}

WorkerLoop::~WorkerLoop() {
  stop();
}

void WorkerLoop::add(std::string name, std::int64_t every_ms, Job job) {
  jobs_.push_back(Entry{std::move(name), every_ms, std::move(job)});
}

void WorkerLoop::runDue() {
  for (Entry& e : jobs_) {
    const TimePoint now = clock_.nowMs();
    if (e.ran && now - e.last_run < e.every_ms) continue;
    e.ran = true;
    e.last_run = now;
    Status st = e.job();
    if (!st && on_error_) on_error_(e.name, st);
  }
}

void WorkerLoop::start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      runDue();
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(poll_ms_), [this] { return stopping_; });
    }
  });
}

void WorkerLoop::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

WorkerLoop::Job consumerJob(storage::Store& store, HistoryConsumer& consumer, const Clock& clock,
                            std::string holder, std::int64_t lease_ms) {
  return [&store, &consumer, &clock, holder = std::move(holder), lease_ms]() -> Status {
    ConsumerRun run;
    run.holder = holder;
    run.now = clock.nowMs();
    run.lease_ms = lease_ms;
    return runConsumer(store, consumer, run).status();
  };
}

WorkerLoop::Job leasedJob(storage::Store& store, std::string name, const Clock& clock,
                          std::string holder, std::int64_t lease_ms, WorkerLoop::Job work) {
  return [&store, &clock, name = std::move(name), holder = std::move(holder), lease_ms,
          work = std::move(work)]() -> Status {
    const TimePoint now = clock.nowMs();
    auto tx = store.begin();
    if (!tx) return tx.status();
    auto leased = (*tx)->leaseConsumer(name, holder, now, now + lease_ms);
    if (!leased) return leased.status();
    if (Status st = (*tx)->commit(); !st) return st;
    return *leased ? work() : Status::ok();
  };
}

}  // namespace tramite::workers
