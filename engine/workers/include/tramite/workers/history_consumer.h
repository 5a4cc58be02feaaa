// Durable history consumers: work that follows a commit and reads what happened from history,
// in ledger order (which is commit order), through a named cursor. The cursor moves in the
// same transaction as the effects of the rows it passes, so a crash at any point leaves both
// as they were at the last commit: each row's effect is applied exactly once. Where several
// servers share one database, a lease names the one that runs each consumer; it passes to
// another when its holder stops renewing it (dies), and the cursor's compare-and-set keeps a
// holder whose lease lapsed mid-batch from applying anything twice.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tramite/clock.h"
#include "tramite/status.h"
#include "tramite/storage/store.h"

namespace tramite::workers {

// What a consumer does with history. Implementations need not be thread-safe: a runner calls
// one at a time.
class HistoryConsumer {
 public:
  virtual ~HistoryConsumer() = default;
  // The cursor's name; stable across versions (a new name starts from the ledger's first row).
  virtual std::string name() const = 0;
  // Applies the effects of rows (consecutive, in ledger order) through tx, the transaction
  // that then moves the cursor past them. An error rolls the batch back; it is tried again
  // by the next run (a row that can never be applied holds the consumer there, visibly).
  virtual Status apply(storage::Transaction& tx, const std::vector<storage::LedgerRow>& rows) = 0;
};

struct ConsumerRun {
  std::string holder;              // this runner (e.g. host:pid), unique among servers
  TimePoint now = 0;               // the runner's clock
  std::int64_t lease_ms = 30'000;  // how long a lease lasts without renewal
  int batch = 256;                 // rows per transaction
};

struct ConsumerProgress {
  bool leased = false;        // false: another holder runs this consumer now
  int applied = 0;            // rows whose effects this run committed
  std::int64_t position = 0;  // the cursor after the run
};

// One run: takes or renews the lease (its own short transaction), then applies batches until
// the cursor reaches the ledger's end, each batch in one transaction with the cursor's move.
// A batch whose cursor another runner moved meanwhile is rolled back and the run ends.
// Errors: the store's, and the consumer's from apply (nothing of that batch is kept).
Result<ConsumerProgress> runConsumer(storage::Store& store, HistoryConsumer& consumer,
                                     const ConsumerRun& run);

}  // namespace tramite::workers
