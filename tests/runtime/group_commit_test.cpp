// Group commit on its own, over a store that counts and can fail its commits (a wrapper of a
// real in-memory SQLite store through ForwardingTransaction: no engine, no chart). Many
// callers share few write transactions; a commit that fails is retried and every request
// lands exactly once; a request's conflict fails it alone.
#include "group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <thread>

#include "tramite/storage/forwarding_transaction.h"

namespace tramite::runtime::internal {
namespace {

// A store whose write transactions count their commits, and fail the next `fail_commits`
// of them with kUnavailable (after rolling back), as a lost connection would.
class CountingStore final : public storage::Store {
 public:
  explicit CountingStore(std::unique_ptr<storage::Store> inner) : inner_(std::move(inner)) {}

  Result<std::unique_ptr<storage::Transaction>> begin(storage::TxMode mode) override {
    auto tx = inner_->begin(mode);
    if (!tx) return tx.status();
    return std::unique_ptr<storage::Transaction>(
        std::make_unique<Counted>(std::move(tx).value(), mode == storage::TxMode::kWrite, *this));
  }
  const char* dialectName() const override { return inner_->dialectName(); }
  int commitSlots() const override { return inner_->commitSlots(); }
  Status awaitDurable() override { return inner_->awaitDurable(); }
  int schemaVersion() const override { return inner_->schemaVersion(); }

  std::atomic<int> commits{0};
  std::atomic<int> fail_commits{0};

 private:
  class Counted final : public storage::ForwardingTransaction {
   public:
    Counted(std::unique_ptr<storage::Transaction> owned, bool writing, CountingStore& store)
        : ForwardingTransaction(owned.get()),
          owned_(std::move(owned)),
          writing_(writing),
          store_(store) {}
    Status commit() override {
      if (writing_ && store_.fail_commits.fetch_sub(1) > 0) {
        owned_.reset();  // rolled back
        return Status(ErrorCode::kUnavailable, "connection lost at commit (injected)");
      }
      if (writing_) ++store_.commits;
      return base()->commit();
    }

   private:
    std::unique_ptr<storage::Transaction> owned_;
    bool writing_;
    CountingStore& store_;
  };

  std::unique_ptr<storage::Store> inner_;
};

storage::InstanceRecord row(const std::string& id, std::int64_t version) {
  return storage::InstanceRecord{id, 1, "K-" + id, "running", "{}", version, 1, 1, " a ", ""};
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto inner = storage::openStore("sqlite::memory:");
    ASSERT_TRUE(inner) << inner.status().toString();
    store_ = std::make_unique<CountingStore>(std::move(inner).value());
    auto tx = store_->begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx);
    auto d = (*tx)->addDefinition("d", "sha", "<scxml/>", 1);  // the instances' definition (id 1)
    ASSERT_TRUE(d && d->id == 1);
    ASSERT_TRUE((*tx)->commit());
    store_->commits = 0;
    options_.commit_delay = std::chrono::microseconds(2000);
  }

  // A request that inserts instance id (or, with version > 0, moves it to version + 1).
  GroupCommit::Work write(const std::string& id, std::int64_t version = 0) {
    return [id, version](storage::Transaction& tx, bool&) -> Result<InstanceView> {
      Status st =
          version == 0 ? tx.insertInstance(row(id, 1)) : tx.updateInstance(row(id, version));
      if (!st) return st;
      InstanceView v;
      v.id = id;
      return v;
    };
  }

  std::int64_t versionOf(const std::string& id) {
    auto tx = store_->begin(storage::TxMode::kRead);
    auto r = (*tx)->instance(id);
    return r && r->has_value() ? (*r)->row_version : 0;
  }

  std::unique_ptr<CountingStore> store_;
  EngineOptions options_;
};

TEST_F(GroupCommitTest, ManyCallersShareFewCommits) {
  GroupCommit gc(*store_, options_);
  constexpr int kCallers = 64;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      auto r = gc.run(write("i" + std::to_string(i)), "i" + std::to_string(i));
      if (r && r->id == "i" + std::to_string(i)) ++ok;
      if (!r) ADD_FAILURE() << r.status().toString();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kCallers);
  for (int i = 0; i < kCallers; ++i) EXPECT_EQ(versionOf("i" + std::to_string(i)), 1) << i;
  const GroupCommitStats stats = gc.stats();
  EXPECT_EQ(stats.requests, static_cast<std::uint64_t>(kCallers));
  EXPECT_EQ(static_cast<std::uint64_t>(store_->commits.load()), stats.batches);
  EXPECT_LT(stats.batches, static_cast<std::uint64_t>(kCallers)) << "no two requests shared";
  std::printf("%d requests in %llu write transactions\n", kCallers,
              static_cast<unsigned long long>(stats.batches));
}

TEST_F(GroupCommitTest, AFailedCommitIsRetriedAndEveryRequestLandsOnce) {
  GroupCommit gc(*store_, options_);
  ASSERT_TRUE(gc.run(write("shared"), "shared"));
  store_->fail_commits = 2;
  constexpr int kCallers = 16;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      const std::string id = "r" + std::to_string(i);
      if (gc.run(write(id), id)) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kCallers);
  EXPECT_LE(store_->fail_commits.load(), 0);  // both injected failures were hit
  for (int i = 0; i < kCallers; ++i) EXPECT_EQ(versionOf("r" + std::to_string(i)), 1) << i;
  EXPECT_GE(gc.stats().failed, 2u);
}

TEST_F(GroupCommitTest, RequestsOfOneInstanceGoInTurnAndAFailureLeavesNothing) {
  GroupCommit gc(*store_, options_);
  ASSERT_TRUE(gc.run(write("x"), "x"));
  // Each bump reads x and writes the next version: computed in parallel, they must apply one
  // after another (no update lost), while other instances' requests share their batches.
  auto bump = [](storage::Transaction& tx, bool&) -> Result<InstanceView> {
    auto current = tx.instance("x");
    if (!current) return current.status();
    if (Status st = tx.updateInstance(**current); !st) return st;
    return InstanceView{};
  };
  // A request that writes, then fails: none of what it wrote may land.
  auto failing = [](storage::Transaction& tx, bool& final_answer) -> Result<InstanceView> {
    if (Status st = tx.insertInstance(row("bad", 1)); !st) return st;
    final_answer = true;
    return Status(ErrorCode::kInvalidArgument, "refused after writing");
  };
  std::vector<std::thread> threads;
  std::atomic<int> bumped{0};
  std::atomic<int> others{0};
  std::atomic<int> refused{0};
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      if (gc.run(bump, "x")) ++bumped;
    });
    threads.emplace_back([&, i] {
      const std::string id = "o" + std::to_string(i);
      if (gc.run(write(id), id)) ++others;
    });
  }
  threads.emplace_back([&] {
    auto r = gc.run(failing, "bad");
    if (!r && r.status().code() == ErrorCode::kInvalidArgument) ++refused;
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(bumped.load(), 10);
  EXPECT_EQ(versionOf("x"), 11);
  EXPECT_EQ(others.load(), 10);
  EXPECT_EQ(refused.load(), 1);
  EXPECT_EQ(versionOf("bad"), 0) << "a failed request's writes landed";
}

}  // namespace
}  // namespace tramite::runtime::internal
