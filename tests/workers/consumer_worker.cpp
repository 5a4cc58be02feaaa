// A process that runs the notification consumer over a store until its cursor reaches the
// ledger's end, one row per transaction (so a kill lands between, or inside, many commits).
// Usage: consumer_worker STORE_URI. Exit 0 when done, 1 on an error (printed).
#include <cstdio>

#include "tramite/workers/notifications.h"

int main(int argc, char** argv) {
  using namespace tramite;
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer_worker STORE_URI\n");
    return 2;
  }
  auto store = storage::openStore(argv[1]);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.status().toString().c_str());
    return 1;
  }
  SystemClock clock;
  workers::NotificationConsumer consumer;
  workers::ConsumerRun run;
  run.holder = "crash-worker";
  run.batch = 1;
  for (;;) {
    run.now = clock.nowMs();
    auto progress = workers::runConsumer(**store, consumer, run);
    if (!progress) {
      std::fprintf(stderr, "%s\n", progress.status().toString().c_str());
      return 1;
    }
    if (progress->applied == 0) return 0;  // at the ledger's end
  }
}
