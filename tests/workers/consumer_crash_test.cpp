// The history consumer's crash test: a worker process runs the notification consumer one row
// per transaction and is killed with SIGKILL at random points, at least 5 times, then run to
// its end; each history row's notifications must then exist exactly once. On SQLite (a file)
// and on PostgreSQL (a real throwaway server).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "pg_server.h"
#include "tramite/json.h"
#include "tramite/storage/store.h"

namespace tramite::storage {
namespace {

constexpr int kRows = 300;
const char* const kLawyers[] = {"ana", "beto", "elena"};

pid_t spawnWorker(const std::string& uri) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(TRAMITE_CONSUMER_WORKER, TRAMITE_CONSUMER_WORKER, uri.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// The worker's exit code once it exits by itself within limit; -1 when it did not.
int waitWorker(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

std::int64_t position(Store& store) {
  auto tx = store.begin(TxMode::kRead);
  if (!tx) return -1;
  auto p = (*tx)->consumerPosition("notifications");
  return p ? *p : -1;
}

class ConsumerCrash : public ::testing::TestWithParam<std::string> {};

TEST_P(ConsumerCrash, KilledAtRandomPointsEachRowIsAppliedExactlyOnce) {
  const std::string uri = testing::freshStoreUri(GetParam(), "consumer_crash");
  if (uri.empty()) GTEST_SKIP() << "PostgreSQL is not available on this machine";
  auto opened = openStore(uri);
  ASSERT_TRUE(opened) << opened.status().toString();
  Store& store = **opened;
  {
    // Three lawyers, and kRows new tasks offered to their role.
    DirectoryRecords dir;
    dir.units = {{"gj", "Gerencia Jurídica", ""}};
    dir.roles = {{"abogado", "Abogado(a)"}};
    for (const char* who : kLawyers) dir.users.push_back({who, who, "gj", {"abogado"}, true, ""});
    auto tx = store.begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*tx)->replaceDirectory(dir));
    std::vector<HistoryRecord> rows;
    for (int i = 0; i < kRows; ++i) {
      const json::Value detail(
          json::Object{{"task", "t" + std::to_string(i)},
                       {"name", "redactar"},
                       {"op", "create"},
                       {"status", "ready"},
                       {"title", "Redactar"},
                       {"candidates", json::Array{json::Value("role:abogado")}}});
      rows.push_back(HistoryRecord{0, "i" + std::to_string(i), 1000 + i, "system", "task",
                                   json::dump(detail)});
    }
    ASSERT_TRUE((*tx)->appendHistory(rows));
    ASSERT_TRUE((*tx)->commit());
  }
  // Each kill waits until the worker has moved the cursor past where the last kill left it,
  // then a random few milliseconds more: it lands in the middle of the work, at a random
  // point of a transaction or between two.
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pause_us(0, 20'000);
  int kills = 0;
  std::vector<std::int64_t> killed_at;
  std::int64_t last = 0;
  while (kills < 8) {
    const pid_t pid = spawnWorker(uri);
    int status = 0;
    bool exited = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (position(store) <= last && std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    if (!exited) {
      std::this_thread::sleep_for(std::chrono::microseconds(pause_us(random)));
      exited = ::waitpid(pid, &status, WNOHANG) == pid;
    }
    if (exited) {
      // It reached the ledger's end before the kill: nothing is left to kill it in.
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the worker failed";
      break;
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ++kills;
    last = position(store);
    killed_at.push_back(last);
  }
  EXPECT_GE(kills, 5) << "the worker finished before 5 kills (positions " << killed_at.size()
                      << "): make it slower";
  // Some kills fell in the middle of the work, not only before it began.
  EXPECT_TRUE(std::any_of(killed_at.begin(), killed_at.end(),
                          [](std::int64_t p) { return p > 0 && p < kRows; }));
  ASSERT_EQ(waitWorker(spawnWorker(uri), std::chrono::seconds(120)), 0);
  EXPECT_EQ(position(store), kRows);
  auto tx = store.begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  for (const char* who : kLawyers) {
    std::map<std::int64_t, int> per_row;
    std::int64_t before = 0;
    for (;;) {
      auto page = (*tx)->notificationsOf(who, false, before, 200);
      ASSERT_TRUE(page) << page.status().toString();
      if (page->empty()) break;
      for (const NotificationRecord& n : *page) ++per_row[n.source_idx];
      before = page->back().id;
    }
    EXPECT_EQ(per_row.size(), static_cast<std::size_t>(kRows)) << who;
    for (const auto& [row, count] : per_row) {
      EXPECT_EQ(count, 1) << who << ": row " << row;
      EXPECT_TRUE(row >= 0 && row < kRows) << row;
    }
  }
  std::string positions;
  for (std::int64_t p : killed_at) positions += " " + std::to_string(p);
  std::printf("killed %d times, at cursor positions:%s (of %d)\n", kills, positions.c_str(), kRows);
}

INSTANTIATE_TEST_SUITE_P(Dialects, ConsumerCrash, ::testing::Values("sqlite", "postgresql"),
                         testing::DialectName());

}  // namespace
}  // namespace tramite::storage
