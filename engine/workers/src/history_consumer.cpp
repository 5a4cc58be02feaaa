#include "tramite/workers/history_consumer.h"

namespace tramite::workers {

Result<ConsumerProgress> runConsumer(storage::Store& store, HistoryConsumer& consumer,
                                     const ConsumerRun& run) {
  const std::string name = consumer.name();
  ConsumerProgress progress;
  {
    auto tx = store.begin();
    if (!tx) return tx.status();
    auto leased = (*tx)->leaseConsumer(name, run.holder, run.now, run.now + run.lease_ms);
    if (!leased) return leased.status();
    if (Status st = (*tx)->commit(); !st) return st;
    progress.leased = *leased;
  }
  if (!progress.leased) return progress;
  for (;;) {
    auto tx = store.begin();
    if (!tx) return tx.status();
    storage::Transaction& t = **tx;
    auto from = t.consumerPosition(name);
    if (!from) return from.status();
    progress.position = *from;
    auto rows = t.ledgerRows(*from, run.batch);
    if (!rows) return rows.status();
    if (rows->empty()) return progress;
    const std::int64_t to = rows->back().index + 1;
    if (rows->front().index != *from || to - *from != static_cast<std::int64_t>(rows->size())) {
      return Status(
          ErrorCode::kInternal,
          "consumer " + name + ": the ledger has a gap after index " + std::to_string(*from));
    }
    if (Status st = consumer.apply(t, *rows); !st) return st;
    auto moved = t.advanceConsumer(name, *from, to);
    if (!moved) return moved.status();
    if (!*moved) return progress;  // another runner passed these rows: drop this batch
    if (Status st = t.commit(); !st) return st;
    progress.applied += static_cast<int>(rows->size());
    progress.position = to;
    if (static_cast<int>(rows->size()) < run.batch) return progress;
  }
}

}  // namespace tramite::workers
