// Durability acceptance tests, bounded in time:
//  - a worker process runs the crash-chain workload and is killed with SIGKILL at random
//    points several times, then run to completion; afterwards every acknowledged operation
//    is in history exactly once, no transition was applied twice, every due timer fired once;
//  - the same on PostgreSQL;
//  - two worker processes (two engines) on one PostgreSQL database sending to the same
//    instances: no lost update, no duplicate transition, each timer fired once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "files.h"
#include "pg_server.h"
#include "tramite/runtime/engine.h"

namespace tramite::runtime {
namespace {

constexpr int kInstances = 12;
constexpr int kNotes = 3;

// pipelined: SQLite with pipelined WAL sync instead of the default sync in COMMIT.
pid_t spawnWorker(const std::string& uri, const std::string& worker, const std::string& ack,
                  bool sign, bool pipelined = false) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string instances = std::to_string(kInstances);
    std::string notes = std::to_string(kNotes);
    const char* sign_arg = sign ? "1" : "0";
    ::execl(TRAMITE_CRASH_WORKER, TRAMITE_CRASH_WORKER, uri.c_str(), worker.c_str(),
            instances.c_str(), notes.c_str(), ack.c_str(), sign_arg,
            pipelined ? "pipelined" : static_cast<char*>(nullptr), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits for a worker to exit by itself (bounded); returns its exit status or -1.
int waitWorker(pid_t pid, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

std::set<std::string> readAcks(const std::string& file) {
  std::set<std::string> acks;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) acks.insert(line);
  return acks;
}

std::size_t countLines(const std::string& file) {
  std::ifstream in(file);
  std::size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

// Kills the worker `kills` times, each time once it has acknowledged a random number (1-25)
// of further operations, so every kill lands mid-workload; then lets it finish.
int crashAndRecover(const std::string& uri, const std::string& ack, int kills, int* killed,
                    bool pipelined = false) {
  std::mt19937 rng(std::random_device{}());
  *killed = 0;
  for (int i = 0; i < kills; ++i) {
    std::size_t target = countLines(ack) + 1 + rng() % 25;
    pid_t pid = spawnWorker(uri, "1", ack, true, pipelined);
    int status = 0;
    bool exited = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (countLines(ack) < target && std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 800));
    }
    if (exited) continue;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++*killed;
  }
  return waitWorker(spawnWorker(uri, "1", ack, true, pipelined), std::chrono::seconds(120));
}

struct Counts {
  std::map<std::string, int> events;  // by event name
  int transitions = 0;
  int timers = 0;
};

Counts countHistory(Engine& engine, const std::string& id) {
  Counts c;
  auto rows = engine.history(id);
  EXPECT_TRUE(rows) << rows.status().toString();
  for (const auto& r : *rows) {
    if (r.kind == "event") {
      auto v = json::parse(r.detail);
      ++c.events[v->find("name")->asString()];
    } else if (r.kind == "transition") {
      ++c.transitions;
    } else if (r.kind == "timer") {
      ++c.timers;
    }
  }
  return c;
}

// Every instance went through exactly the workload: nothing lost, nothing twice.
void verify(const std::string& uri, int workers, const std::set<std::string>& acks) {
  auto store = storage::openStore(uri);
  ASSERT_TRUE(store) << store.status().toString();
  ManualClock clock(0);
  Engine engine(std::shared_ptr<storage::Store>(std::move(store).value()), clock);
  const int notes = workers * kNotes;
  for (int i = 0; i < kInstances; ++i) {
    std::string id = "inst-" + std::to_string(i);
    auto v = engine.get(id);
    ASSERT_TRUE(v) << v.status().toString();
    EXPECT_EQ(v->lifecycle, "completed") << id;
    EXPECT_EQ(v->configuration, std::vector<std::string>{"signed"}) << id;
    EXPECT_EQ(v->data.find("reminders")->asInt(), 1) << id;
    EXPECT_EQ(v->data.find("notes")->asInt(), notes) << id;
    Counts c = countHistory(engine, id);
    EXPECT_EQ(c.events["submit"], 1) << id;
    EXPECT_EQ(c.events["approve"], 3) << id;
    EXPECT_EQ(c.events["note"], notes) << id;
    EXPECT_EQ(c.events["sign"], 1) << id;
    EXPECT_EQ(c.events["remind"], 1) << id;
    EXPECT_EQ(c.timers, 1) << id;
    EXPECT_EQ(c.transitions, 1 + 3 + notes + 1 + 1)
        << id;  // submit, approvals, notes, sign, remind
    EXPECT_TRUE(acks.count(id + " start")) << id;
  }
  EXPECT_TRUE(acks.count("- done"));
}

std::string tempFile(const std::string& name) {
  const std::string f = testing::processTempDir().file(name);
  std::filesystem::remove(f);
  return f;
}

// The crash test on one store: six kills mid-run, then everything acknowledged is there once.
void survivesRepeatedSigkill(const std::string& uri, const std::string& label,
                             bool pipelined = false) {
  const std::string ack = tempFile(label + ".acks");
  int killed = 0;
  ASSERT_EQ(crashAndRecover(uri, ack, 6, &killed, pipelined), 0);
  std::cout << label << ": worker killed " << killed << " times mid-run\n";
  EXPECT_EQ(killed, 6);
  verify(uri, 1, readAcks(ack));
}

TEST(Crash, SQLiteSurvivesRepeatedSigkill) {
  survivesRepeatedSigkill("sqlite:" + tempFile("crash.db"), "sqlite");
}

// The same with the WAL synced after each commit hands the writer on (pipelined sync).
TEST(Crash, SQLitePipelinedSyncSurvivesRepeatedSigkill) {
  survivesRepeatedSigkill("sqlite:" + tempFile("crash-pipelined.db"), "sqlite-pipelined",
                          /*pipelined=*/true);
}

TEST(Crash, PostgreSQLSurvivesRepeatedSigkill) {
  auto* pg = testing::PostgresServer::shared();
  if (!pg) GTEST_SKIP() << "PostgreSQL is not available on this machine";
  survivesRepeatedSigkill(pg->createDatabase("crash"), "postgresql");
}

TEST(Crash, TwoEnginesOnOnePostgreSQLDatabase) {
  auto* pg = testing::PostgresServer::shared();
  if (!pg) GTEST_SKIP() << "PostgreSQL is not available on this machine";
  std::string uri = pg->createDatabase("twoengines");
  std::string ack = tempFile("two.acks");
  pid_t a = spawnWorker(uri, "1", ack, false);
  pid_t b = spawnWorker(uri, "2", ack, false);
  ASSERT_EQ(waitWorker(a, std::chrono::seconds(120)), 0);
  ASSERT_EQ(waitWorker(b, std::chrono::seconds(120)), 0);
  // Both engines' notes are in; one of them signs (re-running its idempotent workload).
  ASSERT_EQ(waitWorker(spawnWorker(uri, "1", ack, true), std::chrono::seconds(120)), 0);
  verify(uri, 2, readAcks(ack));
}

}  // namespace
}  // namespace tramite::runtime
