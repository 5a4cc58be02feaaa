// Ledger verification speed: a SQLite store filled with N history rows through the store
// (each appended to the ledger as the engine does, a checkpoint every 100,000 entries), then
// `tramite audit verify`'s work (audit::verifyLedger) timed over the whole store.
// Usage: bench_audit [ENTRIES] (default 1,000,000). Target: >= 1M entries verified per minute.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "tramite/ledger/ledger.h"

using namespace tramite;

int main(int argc, char** argv) {
  const std::int64_t entries = argc > 1 ? std::stoll(argv[1]) : 1'000'000;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tramite-bench-audit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  storage::StoreOptions options;
  options.sqlite_synchronous = "OFF";  // the fill is not what is measured
  auto store = storage::openStore("sqlite:" + (dir / "audit.db").string(), options);
  if (!store) {
    std::cerr << store.status().toString() << "\n";
    return 1;
  }
  auto signer = audit::Signer::fromPem(*audit::Signer::generatePem());
  auto verifier = audit::CheckpointVerifier::fromPem(signer->publicKeyPem());
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  std::int64_t written = 0;
  while (written < entries) {
    auto tx = (*store)->begin(storage::TxMode::kWrite);
    std::vector<storage::HistoryRecord> rows;
    for (int i = 0; i < 1000 && written < entries; ++i, ++written) {
      const std::string instance =
          "018fd125-6540-7ad5-bc85-" + std::to_string(100000 + written / 24);
      rows.push_back(storage::HistoryRecord{0, instance, 1'717'200'000'000 + written, "ana",
                                            written % 2 ? "enter" : "event",
                                            R"({"name":"approve","state":"revision"})"});
    }
    if (!(*tx)->appendHistory(rows) || !(*tx)->commit()) {
      std::cerr << "fill failed\n";
      return 1;
    }
    if (written % 100'000 == 0 || written == entries) {
      if (!audit::checkpointLedger(**store, *signer, written)) {
        std::cerr << "checkpoint failed\n";
        return 1;
      }
    }
  }
  const double fill = std::chrono::duration<double>(Clock::now() - t0).count();

  t0 = Clock::now();
  auto report = audit::verifyLedger(**store, &*verifier);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!report || !report->ok()) {
    std::cerr << "verification failed\n";
    return 1;
  }
  std::cout << "== audit ledger verification (SQLite, " << entries << " entries)\n"
            << "filled in " << fill << " s\n"
            << "verified " << report->entries << " entries and " << report->checkpoints
            << " signed checkpoints in " << seconds
            << " s = " << static_cast<std::int64_t>(report->entries / seconds * 60)
            << " entries/minute (target >= 1,000,000)\n";
  std::filesystem::remove_all(dir);
  return 0;
}
