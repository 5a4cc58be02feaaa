// One contract suite for every store dialect: SQLite (a temporary file) and PostgreSQL (a
// real throwaway server started by the test binary).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include "files.h"
#include "pg_server.h"
#include "tramite/storage/store.h"

namespace tramite::storage {
namespace {

InstanceRecord newInstance(const std::string& id, std::int64_t def) {
  return InstanceRecord{id, def, "EXP-" + id, "running", "{}", 1, 1000, 1000, " a ", ""};
}

// Adds a version of definition name in a transaction of its own; its id.
std::int64_t addDefinitionTo(Store& store, const std::string& name) {
  auto t = store.begin(TxMode::kWrite);
  if (!t) throw std::runtime_error("begin failed: " + t.status().toString());
  auto d = (*t)->addDefinition(name, "abc", "<scxml/>", 5);
  EXPECT_TRUE(d);
  EXPECT_TRUE((*t)->commit());
  return d->id;
}

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = testing::freshStoreUri(GetParam(), "contract");
    if (uri_.empty()) GTEST_SKIP() << "PostgreSQL is not available on this machine";
    auto s = openStore(uri_);
    ASSERT_TRUE(s) << s.status().toString();
    store_ = std::move(s).value();
  }
  // A new transaction; aborts the test binary's current test with a clear message if the
  // store cannot start one (so no test dereferences a null transaction).
  std::unique_ptr<Transaction> tx() {
    auto t = store_->begin();
    if (!t) throw std::runtime_error("begin failed: " + t.status().toString());
    return std::move(t).value();
  }
  std::int64_t addDefinition(const std::string& name) { return addDefinitionTo(*store_, name); }
  std::string uri_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContract, MigratesOnceAndReopens) {
  EXPECT_EQ(store_->schemaVersion(), 11);
  EXPECT_STREQ(store_->dialectName(), GetParam().c_str());
  addDefinition("keep");
  store_.reset();
  auto again = openStore(uri_);
  ASSERT_TRUE(again) << again.status().toString();
  auto t = (*again)->begin();
  ASSERT_TRUE(t);
  auto d = (*t)->definition("keep", 0);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->has_value());
}

TEST_P(StoreContract, DefinitionsAreNumberedPerName) {
  auto t = tx();
  auto a1 = t->addDefinition("compras", "h1", "<a/>", 10);
  auto a2 = t->addDefinition("compras", "h2", "<b/>", 11);
  auto b1 = t->addDefinition("juridico", "h3", "<c/>", 12);
  ASSERT_TRUE(a1 && a2 && b1);
  EXPECT_EQ(a1->version, 1);
  EXPECT_EQ(a2->version, 2);
  EXPECT_EQ(b1->version, 1);
  ASSERT_TRUE(t->commit());
  auto r = tx();
  auto latest = r->definition("compras", 0);
  ASSERT_TRUE(latest && latest->has_value());
  EXPECT_EQ((*latest)->version, 2);
  EXPECT_EQ((*latest)->xml, "") << "a lookup by name leaves the document out";
  auto first = r->definition("compras", 1);
  EXPECT_EQ((*first)->sha256, "h1");
  auto byId = r->definitionById(b1->id);
  EXPECT_EQ((*byId)->name, "juridico");
  EXPECT_EQ((*byId)->xml, "<c/>");
  EXPECT_EQ((*r->definitionById((*latest)->id))->xml, "<b/>");
  EXPECT_FALSE(r->definition("nope", 0)->has_value());
  auto versions = r->definitionVersions("compras");
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[1].version, 2);
  EXPECT_TRUE((*versions)[1].xml.empty());
}

TEST_P(StoreContract, InstancesUseOptimisticVersions) {
  std::int64_t def = addDefinition("d");
  {
    auto t = tx();
    ASSERT_TRUE(t->insertInstance(newInstance("i1", def)));
    ASSERT_TRUE(t->commit());
  }
  {
    auto t = tx();
    Status dup = t->insertInstance(newInstance("i1", def));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.code(), ErrorCode::kConflict) << dup.toString();
  }
  InstanceRecord stale;
  {
    auto t1 = tx();
    auto rec = t1->instance("i1");
    ASSERT_TRUE(rec && rec->has_value());
    InstanceRecord r = **rec;
    EXPECT_EQ(r.business_key, "EXP-i1");
    stale = r;
    r.session = R"({"v":1})";
    r.updated_at = 2000;
    ASSERT_TRUE(t1->updateInstance(r));
    ASSERT_TRUE(t1->commit());
  }

  auto t2 = tx();
  Status st = t2->updateInstance(stale);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::kConflict);
  auto now = t2->instance("i1");
  EXPECT_EQ((*now)->row_version, 2);
  EXPECT_EQ((*now)->session, R"({"v":1})");
  EXPECT_EQ(*t2->countInstances(), 1);
}

TEST_P(StoreContract, BatchWritesCheckEveryVersion) {
  std::int64_t def = addDefinition("d");
  {
    auto t = tx();
    ASSERT_TRUE(t->writeInstances({{newInstance("a", def), 0}, {newInstance("b", def), 0}}));
    ASSERT_TRUE(t->commit());
  }
  {
    auto t = tx();
    auto both = t->instances({"a", "b", "missing"});
    ASSERT_TRUE(both) << both.status().toString();
    ASSERT_EQ(both->size(), 2u);
    InstanceRecord a = (*both)[0].id == "a" ? (*both)[0] : (*both)[1];
    InstanceRecord b = (*both)[0].id == "a" ? (*both)[1] : (*both)[0];
    a.session = R"({"a":3})";
    a.row_version = 3;
    b.session = R"({"b":2})";
    b.row_version = 2;
    ASSERT_TRUE(t->writeInstances({{a, 1}, {b, 1}}));
    ASSERT_TRUE(t->commit());
  }
  {
    // One stale version in a batch makes the whole write a conflict.
    auto t = tx();
    InstanceRecord a = **t->instance("a");
    InstanceRecord b = **t->instance("b");
    EXPECT_EQ(a.row_version, 3);
    EXPECT_EQ(b.session, R"({"b":2})");
    a.row_version = 4;
    b.row_version = 2;
    Status st = t->writeInstances({{a, 3}, {b, 1}});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.code(), ErrorCode::kConflict) << st.toString();
  }
  auto t = tx();
  EXPECT_EQ((*t->instance("a"))->row_version, 3);
  Status dup = t->writeInstances({{newInstance("c", def), 0}, {newInstance("a", def), 0}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.code(), ErrorCode::kConflict);
}

// Pipelined writes report their failures by a later call at the latest, and a transaction
// with a failed one commits nothing: not the stale update, nor what was written around it.
TEST_P(StoreContract, PipelinedWritesFailTheirTransactionAndCommitNothing) {
  std::int64_t def = addDefinition("d");
  {
    auto t = tx();
    t->pipelineWrites(true);
    ASSERT_TRUE(t->writeInstances({{newInstance("a", def), 0}, {newInstance("b", def), 0}}));
    ASSERT_TRUE(t->appendHistory({HistoryRecord{0, "a", 1000, "ana", "started", "{}"}}));
    ASSERT_TRUE(t->saveIdempotentResult("scope", "k1", "first", 1000));
    ASSERT_TRUE(t->commit());
  }
  InstanceRecord a;
  {
    auto t = tx();
    a = **t->instance("a");
    ASSERT_EQ(a.row_version, 1);
    EXPECT_EQ(t->history("a", 0, 10)->size(), 1u);
  }
  const auto expectConflictLeavesNothing = [&](bool end_with_commit) {
    auto t = tx();
    t->pipelineWrites(true);
    InstanceRecord fresh = newInstance(end_with_commit ? "c" : "d", def);
    InstanceRecord stale = a;
    stale.session = R"({"stale":true})";
    stale.row_version = 7;
    // The insert is fine, the update expects version 5 and finds 1.
    // SQLite answers at once; PostgreSQL with the next statement that waits for an answer.
    // As the contract asks, the transaction is dropped (rolled back) at its first failure.
    Status failed = t->writeInstances({{fresh, 0}, {stale, 5}});
    if (failed && !end_with_commit) {
      failed = t->appendHistory({HistoryRecord{0, "a", 2000, "ana", "approved", "{}"}});
    }
    if (failed) failed = t->commit();
    ASSERT_FALSE(failed) << "a stale versioned write was accepted";
    EXPECT_EQ(failed.code(), ErrorCode::kConflict) << failed.toString();
  };
  expectConflictLeavesNothing(/*end_with_commit=*/true);
  expectConflictLeavesNothing(/*end_with_commit=*/false);
  {
    // A failing insert (a taken idempotency key) fails its transaction the same way.
    auto t = tx();
    t->pipelineWrites(true);
    Status failed = t->saveIdempotentResult("scope", "k1", "second", 3000);
    if (failed) failed = t->commit();
    EXPECT_FALSE(failed);
  }
  auto t = tx();
  EXPECT_EQ(*t->countInstances(), 2);
  EXPECT_EQ((*t->instance("a"))->row_version, 1);
  EXPECT_EQ(t->history("a", 0, 10)->size(), 1u);
  EXPECT_EQ(*t->idempotentResult("scope", "k1"), std::optional<std::string>("first"));
  // The connections are usable again.
  t->pipelineWrites(true);
  a.session = R"({"v":2})";
  a.row_version = 2;
  ASSERT_TRUE(t->writeInstances({{a, 1}}));
  ASSERT_TRUE(t->commit());
  EXPECT_EQ((*tx()->instance("a"))->session, R"({"v":2})");
}

TEST_P(StoreContract, UncommittedWorkIsRolledBack) {
  std::int64_t def = addDefinition("d");
  {
    auto t = tx();
    ASSERT_TRUE(t->insertInstance(newInstance("gone", def)));
  }  // destroyed without commit
  auto t = tx();
  EXPECT_FALSE(t->instance("gone")->has_value());
}

TEST_P(StoreContract, ACommittedTransactionHoldsNoConnection) {
  std::int64_t def = addDefinition("d");
  auto first = tx();
  ASSERT_TRUE(first->insertInstance(newInstance("a", def)));
  ASSERT_TRUE(first->commit());
  // first is still in scope: the next writer must not wait for it (SQLite has one writer).
  auto second = tx();
  ASSERT_TRUE(second->insertInstance(newInstance("b", def)));
  ASSERT_TRUE(second->commit());
  auto late = first->instance("a");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.status().code(), ErrorCode::kInternal) << late.status().toString();
}

TEST_P(StoreContract, AnOpenWriteKeepsTheNextSQLiteWriterWaitingThenBusy) {
  StoreOptions options;
  options.busy_timeout_ms = 200;
  auto opened = openStore(uri_, options);
  ASSERT_TRUE(opened) << opened.status().toString();
  auto open_write = (*opened)->begin(TxMode::kWrite);
  ASSERT_TRUE(open_write);
  auto next = (*opened)->begin(TxMode::kWrite);
  if (GetParam() == "sqlite") {
    ASSERT_FALSE(next);
    EXPECT_EQ(next.status().code(), ErrorCode::kUnavailable) << next.status().toString();
  } else {
    EXPECT_TRUE(next) << next.status().toString();  // row locks: writers wait per row
  }
  ASSERT_TRUE((*open_write)->commit());
  EXPECT_TRUE((*opened)->begin(TxMode::kWrite));
}

TEST_P(StoreContract, SavepointsUndoOnlyTheirPart) {
  std::int64_t def = addDefinition("d");
  auto t = tx();
  ASSERT_TRUE(t->insertInstance(newInstance("a", def)));
  ASSERT_TRUE(t->savepoint("req1"));
  ASSERT_TRUE(t->insertInstance(newInstance("b", def)));
  ASSERT_TRUE(t->rollbackToSavepoint("req1"));
  ASSERT_TRUE(t->releaseSavepoint("req1"));
  ASSERT_TRUE(t->commit());
  auto r = tx();
  EXPECT_TRUE(r->instance("a")->has_value());
  EXPECT_FALSE(r->instance("b")->has_value());
}

TEST_P(StoreContract, ReadTransactionsDoNotBlockAWriter) {
  std::int64_t def = addDefinition("d");
  auto writer = tx();
  ASSERT_TRUE(writer->insertInstance(newInstance("w", def)));
  // While the writer holds its transaction, a reader still sees the last committed state.
  auto reader = store_->begin(TxMode::kRead);
  ASSERT_TRUE(reader) << reader.status().toString();
  auto seen = (*reader)->instance("w");
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->has_value());
  EXPECT_TRUE((*reader)->definitionById(def)->has_value());
  reader->reset();
  ASSERT_TRUE(writer->commit());
}

TEST_P(StoreContract, FirstIdempotentResultWins) {
  auto t = tx();
  EXPECT_FALSE(t->idempotentResult("i1", "k1")->has_value());
  ASSERT_TRUE(t->saveIdempotentResult("i1", "k1", "first", 1));
  ASSERT_TRUE(t->commit());
  {
    auto t2 = tx();  // SQLite has one writer: close each transaction before the next
    Status again = t2->saveIdempotentResult("i1", "k1", "second", 2);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.code(), ErrorCode::kConflict);
  }
  {
    auto t4 = tx();
    ASSERT_TRUE(t4->saveIdempotentResults({{"i1", "k2", "two", 3}, {"i2", "k1", "other", 3}}));
    ASSERT_TRUE(t4->commit());
  }
  auto t3 = tx();
  EXPECT_EQ(**t3->idempotentResult("i1", "k1"), "first");
  EXPECT_EQ(**t3->idempotentResult("i1", "k2"), "two");
  EXPECT_EQ(**t3->idempotentResult("i2", "k1"), "other");
  EXPECT_FALSE(t3->idempotentResult("i2", "k2")->has_value());
}

TEST_P(StoreContract, TimersAreDueInOrderAndClaimedOnce) {
  auto t = tx();
  auto late = t->addTimer(TimerRecord{0, "i1", "late", 300, R"({"name":"late"})"});
  auto early = t->addTimer(TimerRecord{0, "i1", "early", 100, R"({"name":"early"})"});
  auto other = t->addTimer(TimerRecord{0, "i2", "x", 200, "{}"});
  ASSERT_TRUE(late && early && other);
  ASSERT_TRUE(t->commit());

  auto r = tx();
  EXPECT_EQ(**r->nextTimerDue(), 100);
  auto due = r->dueTimers(250, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].sendid, "early");
  EXPECT_EQ((*due)[1].sendid, "x");
  EXPECT_EQ((*due)[0].event, R"({"name":"early"})");
  EXPECT_TRUE(*r->claimTimer(*early));
  EXPECT_FALSE(*r->claimTimer(*early));
  ASSERT_TRUE(r->commit());

  auto c = tx();
  EXPECT_EQ(*c->cancelTimers("i1", "late"), 1);
  EXPECT_EQ(*c->cancelTimers("i1", "late"), 0);
  EXPECT_EQ(c->timersOf("i2")->size(), 1u);
  EXPECT_EQ(*c->cancelAllTimers("i2"), 1);
  ASSERT_TRUE(c->commit());
  EXPECT_FALSE(tx()->nextTimerDue()->has_value());
}

TEST_P(StoreContract, ConcurrentClaimsOfOneTimerLetExactlyOneWin) {
  std::int64_t id = 0;
  {
    auto t = tx();
    id = *t->addTimer(TimerRecord{0, "i", "s", 1, "{}"});
    ASSERT_TRUE(t->commit());
  }
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto t = store_->begin();
      if (!t) return;
      auto claimed = (*t)->claimTimer(id);
      if (claimed && *claimed && (*t)->commit()) ++wins;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
}

TEST_P(StoreContract, HistoryKeepsOrderAndPages) {
  std::vector<HistoryRecord> rows;
  for (int i = 0; i < 5; ++i) {
    rows.push_back(
        HistoryRecord{0, "i1", 100 + i, "ana", "event", R"({"n":)" + std::to_string(i) + "}"});
  }
  rows.push_back(HistoryRecord{0, "i2", 1, "luis", "event", "{}"});
  auto t = tx();
  ASSERT_TRUE(t->appendHistory(rows));
  ASSERT_TRUE(t->commit());
  auto r = tx();
  auto all = r->history("i1", 0, 100);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 5u);
  for (std::size_t i = 1; i < all->size(); ++i) EXPECT_LT((*all)[i - 1].seq, (*all)[i].seq);
  EXPECT_EQ((*all)[3].detail, R"({"n":3})");
  EXPECT_EQ((*all)[0].actor, "ana");
  auto page = r->history("i1", (*all)[1].seq, 2);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, (*all)[2].seq);
}

TEST_P(StoreContract, InboxIsOrderedAndClaimedOnce) {
  auto t = tx();
  ASSERT_TRUE(t->enqueueInbox("parent", R"({"name":"done.invoke.x"})", 1));
  ASSERT_TRUE(t->enqueueInbox("child", R"({"name":"go"})", 2));
  ASSERT_TRUE(t->addOutbox(OutboxRecord{0, "parent", "notification", "{}", 3, 0, 0, ""}));
  ASSERT_TRUE(t->commit());
  auto r = tx();
  auto items = r->inbox(10);
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].instance_id, "parent");
  EXPECT_TRUE(*r->claimInbox((*items)[0].seq));
  EXPECT_FALSE(*r->claimInbox((*items)[0].seq));
  ASSERT_TRUE(r->commit());
  EXPECT_EQ(tx()->inbox(10)->size(), 1u);
}

TEST_P(StoreContract, DeferredEventsMoveToTheInboxInOrder) {
  auto t = tx();
  ASSERT_TRUE(t->deferEvent("i1", "first", 1));
  ASSERT_TRUE(t->deferEvent("i2", "other", 2));
  ASSERT_TRUE(t->deferEvent("i1", "second", 3));
  EXPECT_EQ(*t->releaseDeferred("i1"), 2);
  EXPECT_EQ(*t->releaseDeferred("i1"), 0);
  auto items = t->inbox(10);
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].event, "first");
  EXPECT_EQ((*items)[1].event, "second");
  ASSERT_TRUE(t->commit());
}

TEST_P(StoreContract, TextRoundTripsExactly) {
  std::int64_t def = addDefinition("d");
  InstanceRecord r = newInstance("ñ-1", def);
  r.business_key = "EXP-2024/UACI-Nº 0017 «compra»";
  r.session = std::string(200000, 'x') + "\"'\\\n\t€";
  auto t = tx();
  ASSERT_TRUE(t->insertInstance(r));
  ASSERT_TRUE(t->commit());
  auto back = tx()->instance("ñ-1");
  ASSERT_TRUE(back && back->has_value());
  EXPECT_EQ((*back)->business_key, r.business_key);
  EXPECT_EQ((*back)->session, r.session);
}

TEST_P(StoreContract, DirectoryIsReplacedWhole) {
  DirectoryRecords dir;
  dir.units = {{"gj", "Gerencia Jurídica", "Subdirección Administrativa"}};
  dir.roles = {{"abogado", "Abogado"}, {"jefe_juridico", "Jefe jurídico"}};
  dir.users = {{"ana", "Ana López", "gj", {"abogado", "jefe_juridico"}, true, ""},
               {"beto", "Beto Ruiz", "gj", {"abogado"}, false, ""}};
  dir.substitutions = {{"ana", "beto", 100, 110, "vacaciones"}};
  {
    auto t = tx();
    ASSERT_TRUE(t->replaceDirectory(dir));
    ASSERT_TRUE(t->commit());
  }
  auto t = tx();
  auto ana = t->user("ana");
  ASSERT_TRUE(ana && ana->has_value());
  EXPECT_EQ((*ana)->name, "Ana López");
  EXPECT_EQ((*ana)->roles, (std::vector<std::string>{"abogado", "jefe_juridico"}));
  auto beto = t->user("beto");
  ASSERT_TRUE(beto && beto->has_value());
  EXPECT_FALSE((*beto)->active);
  EXPECT_FALSE(t->user("nadie")->has_value());
  EXPECT_EQ(t->standingInFor("beto", 99)->size(), 0u);
  EXPECT_EQ(t->standingInFor("beto", 100)->size(), 1u);
  EXPECT_EQ(t->standingInFor("beto", 110)->front().user, "ana");
  EXPECT_EQ(t->standingInFor("beto", 111)->size(), 0u);
  EXPECT_EQ(t->standingInFor("ana", 105)->size(), 0u);
  dir.users.pop_back();
  dir.substitutions.clear();
  ASSERT_TRUE(t->replaceDirectory(dir));
  auto all = t->directory();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->users.size(), 1u);
  EXPECT_EQ(all->units.size(), 1u);
  EXPECT_EQ(all->roles.size(), 2u);
  EXPECT_TRUE(all->substitutions.empty());
}

TaskRecord newTask(const std::string& id, const std::vector<std::string>& principals, TimePoint due,
                   std::int32_t priority, const std::string& data = "{}") {
  TaskRecord t;
  t.id = id;
  t.instance_id = "i-" + id;
  t.business_key = "EXP-" + id;
  t.definition = "legal-review";
  t.state = "draft";
  t.name = "draft";
  t.kind = "task";
  t.title = "Draft " + id;
  t.status = "ready";
  t.priority = priority;
  t.due_at = due;
  t.spec = "{}";
  t.data = data;
  t.result = "{}";
  t.principals = principals;
  t.created_at = 1;
  t.updated_at = 1;
  return t;
}

TaskQuery queueOf(std::vector<std::string> principals) {
  TaskQuery q;
  q.principals = std::move(principals);
  return q;
}

std::vector<std::string> idsOf(const std::vector<TaskRecord>& tasks) {
  std::vector<std::string> out;
  for (const auto& t : tasks) out.push_back(t.id);
  return out;
}

TEST_P(StoreContract, TasksUseOptimisticVersionsAndKeepTheirQueueEntries) {
  auto t = tx();
  TaskRecord a = newTask("a", {"role:abogado", "unit:gj"}, 500, 5);
  ASSERT_TRUE(t->writeTasks({{a, 0}}));
  ASSERT_TRUE(t->commit());
  EXPECT_EQ(tx()->writeTasks({{a, 0}}).code(), ErrorCode::kConflict);  // duplicate id
  t = tx();
  auto read = t->task("a");
  ASSERT_TRUE(read && read->has_value());
  EXPECT_EQ((*read)->principals, a.principals);
  EXPECT_EQ((*read)->due_at, 500);
  EXPECT_TRUE((*read)->open);
  // Claimed: now only in the owner's queue.
  TaskRecord claimed = **read;
  claimed.status = "reserved";
  claimed.owner = "ana";
  claimed.principals = {"owner:ana"};
  claimed.row_version = 2;
  ASSERT_TRUE(t->writeTasks({{claimed, 1}}));
  ASSERT_TRUE(t->commit());
  EXPECT_EQ(tx()->writeTasks({{claimed, 1}}).code(), ErrorCode::kConflict);  // stale version
  t = tx();
  EXPECT_TRUE(t->queryTasks(queueOf({"role:abogado"}))->empty());
  EXPECT_EQ(idsOf(*t->queryTasks(queueOf({"owner:ana"}))), std::vector<std::string>{"a"});
  // Completed: in no queue, still readable.
  claimed.status = "completed";
  claimed.open = false;
  claimed.row_version = 3;
  ASSERT_TRUE(t->writeTasks({{claimed, 2}}));
  EXPECT_TRUE(t->queryTasks(queueOf({"owner:ana"}))->empty());
  EXPECT_TRUE(t->queryTasks(TaskQuery{})->empty());
  auto of = t->tasksOf("i-a");
  ASSERT_TRUE(of);
  ASSERT_EQ(of->size(), 1u);
  EXPECT_EQ(of->front().status, "completed");
  EXPECT_FALSE(of->front().open);
}

TEST_P(StoreContract, QueuesSortFilterAndPage) {
  auto t = tx();
  std::vector<TaskWrite> writes;
  // Five tasks seen by role:abogado, two of them also by user:ana; one without a deadline.
  writes.push_back(
      {newTask("t1", {"role:abogado"}, 300, 5, R"({"amount": 1500, "method": "LG"})"), 0});
  writes.push_back({newTask("t2", {"role:abogado", "user:ana"}, 100, 2,
                            R"({"amount": 90000.5, "method": "LP"})"),
                    0});
  writes.push_back({newTask("t3", {"role:abogado"}, 0, 9, R"({"amount": 20, "method": "LG"})"), 0});
  writes.push_back(
      {newTask("t4", {"user:ana", "role:abogado"}, 200, 9, R"({"amount": 50000, "urgent": true})"),
       0});
  writes.push_back({newTask("t5", {"role:abogado"}, 200, 1, R"({"method": "CD"})"), 0});
  writes.push_back({newTask("t6", {"unit:gcp"}, 50, 5), 0});
  ASSERT_TRUE(t->writeTasks(writes));
  ASSERT_TRUE(t->commit());
  t = tx();
  using V = std::vector<std::string>;
  TaskQuery q = queueOf({"role:abogado"});
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t2", "t4", "t5", "t1", "t3"}));
  // A task seen through two principals appears once.
  q.principals = {"role:abogado", "user:ana"};
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t2", "t4", "t5", "t1", "t3"}));
  q.sort = TaskSort::kPriority;
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t4", "t3", "t1", "t2", "t5"}));
  // Keyset pages of two, in both orders.
  for (TaskSort sort : {TaskSort::kDue, TaskSort::kPriority}) {
    TaskQuery page = queueOf({"role:abogado", "user:ana"});
    page.sort = sort;
    page.limit = 2;
    V all;
    for (int i = 0; i < 5; ++i) {
      auto got = t->queryTasks(page);
      ASSERT_TRUE(got) << got.status().toString();
      if (got->empty()) break;
      for (const auto& r : *got) all.push_back(r.id);
      page.after_id = got->back().id;
      page.after_due = got->back().due_at;
      page.after_priority = got->back().priority;
    }
    EXPECT_EQ(all, sort == TaskSort::kDue ? (V{"t2", "t4", "t5", "t1", "t3"})
                                          : (V{"t4", "t3", "t1", "t2", "t5"}));
  }
  // Overdue (due before 250) and due soon (due in [150, 350)); undated tasks are never due.
  q = queueOf({"role:abogado"});
  q.due_before = 250;
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t2", "t4", "t5"}));
  q.due_from = 150;
  q.due_before = 350;
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t4", "t5", "t1"}));
  // Filters on business data: numbers numerically, strings and booleans exactly.
  q = queueOf({"role:abogado"});
  q.filters = {{"amount", ">=", "1500"}};
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t2", "t4", "t1"}));
  q.filters = {{"amount", "<", "50000"}, {"method", "=", "\"LG\""}};
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t1", "t3"}));
  q.filters = {{"urgent", "=", "true"}};
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t4"}));
  q.filters = {{"method", "!=", "\"LG\""}};
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t2", "t5"}));
  // Every open task (auditors, the compliance office), with a definition filter.
  q = TaskQuery{};
  EXPECT_EQ(idsOf(*t->queryTasks(q)), (V{"t6", "t2", "t4", "t5", "t1", "t3"}));
  q.definition = "other";
  EXPECT_TRUE(t->queryTasks(q)->empty());
  // Bad filters are refused, never spliced into SQL.
  q = queueOf({"role:abogado"});
  q.filters = {{"amount'; DROP TABLE tasks; --", "=", "1"}};
  EXPECT_EQ(t->queryTasks(q).status().code(), ErrorCode::kInvalidArgument);
  q.filters = {{"amount", "LIKE", "1"}};
  EXPECT_EQ(t->queryTasks(q).status().code(), ErrorCode::kInvalidArgument);
  q.filters = {{"amount", "=", "[1]"}};
  EXPECT_EQ(t->queryTasks(q).status().code(), ErrorCode::kInvalidArgument);
}

// Issue 26, item 19: instances found by process, business key prefix, lifecycle, state,
// unit, creation time and participation, newest first, a keyset page at a time.
TEST_P(StoreContract, InstancesAreSearchedByTheirFacets) {
  const std::int64_t review = addDefinition("revision");
  const std::int64_t other = addDefinition("compras");
  {
    auto t = tx();
    for (int i = 0; i < 5; ++i) {
      InstanceRecord r = newInstance("r" + std::to_string(i), review);
      r.business_key = "GJ-2024-" + std::to_string(i);
      r.created_at = 1000 + i;
      r.states = i % 2 ? " revision " : " asignacion ";
      r.unit = i < 3 ? "gj" : "uac";
      ASSERT_TRUE(t->insertInstance(r));
    }
    InstanceRecord p = newInstance("p0", other);
    p.business_key = "GJ_2024%";  // LIKE's wildcards are text here
    ASSERT_TRUE(t->insertInstance(p));
    ASSERT_TRUE(t->appendHistory({HistoryRecord{0, "r1", 1, "ana", "event", "{}"}}));
    ASSERT_TRUE(t->commit());
  }
  auto t = tx();
  const auto ids = [&](InstanceQuery q) {
    auto found = t->searchInstances(q);
    EXPECT_TRUE(found) << found.status().toString();
    std::vector<std::string> out;
    for (const InstanceSummary& i : *found) out.push_back(i.id);
    return out;
  };
  using V = std::vector<std::string>;
  InstanceQuery q;
  q.definition = "revision";
  EXPECT_EQ(ids(q), (V{"r4", "r3", "r2", "r1", "r0"}));
  q.state = "revision";
  EXPECT_EQ(ids(q), (V{"r3", "r1"}));
  q.state.clear();
  q.unit = "uac";
  EXPECT_EQ(ids(q), (V{"r4", "r3"}));
  q = {};
  q.business_key = "GJ_2024";
  EXPECT_EQ(ids(q), (V{"p0"}));
  q.business_key = "GJ-2024-";
  q.created_from = 1001;
  q.created_before = 1004;
  EXPECT_EQ(ids(q), (V{"r3", "r2", "r1"}));
  q = {};
  q.participants = {"ana"};
  EXPECT_EQ(ids(q), (V{"r1"}));
  q = {};
  q.definition = "revision";
  q.limit = 2;
  EXPECT_EQ(ids(q), (V{"r4", "r3"}));
  q.after_created = 1003;
  q.after_id = "r3";
  EXPECT_EQ(ids(q), (V{"r2", "r1"}));
  q.limit = 0;
  EXPECT_EQ(t->searchInstances(q).status().code(), ErrorCode::kInvalidArgument);
}

// Failed logins are counted by the name tried; a lock stops the counting until it ends.
TEST_P(StoreContract, LoginAttemptsCountUntilLocked) {
  auto t = tx();
  auto first = t->countLoginAttempt("nadie", 100);
  ASSERT_TRUE(first) << first.status().toString();
  EXPECT_TRUE(first->counted);
  EXPECT_EQ(first->failures, 1);
  EXPECT_EQ(t->countLoginAttempt("nadie", 110)->failures, 2);
  ASSERT_TRUE(t->lockLogin("nadie", 1000));
  auto locked = t->countLoginAttempt("nadie", 500);
  ASSERT_TRUE(locked);
  EXPECT_FALSE(locked->counted);
  EXPECT_EQ(locked->failures, 2);
  EXPECT_EQ(locked->locked_until, 1000);
  EXPECT_EQ(t->countLoginAttempt("nadie", 1000)->failures, 3);  // the lock has ended
  ASSERT_TRUE(t->clearLoginAttempts("nadie"));
  EXPECT_EQ(t->countLoginAttempt("nadie", 1001)->failures, 1);
  ASSERT_TRUE(t->commit());
}

TEST_P(StoreContract, CredentialsAndApiTokens) {
  {
    auto t = tx();
    EXPECT_FALSE(t->credential("ana")->has_value());
    ASSERT_TRUE(t->putCredential({"ana", "$argon2id$v=19$x", 0, 0, 10}));
    ASSERT_TRUE(t->putCredential({"ana", "$argon2id$v=19$y", 3, 5000, 20}));  // an upsert
    ASSERT_TRUE(t->addApiToken({"tok-1", "svc", "tablero", "hash-1", 100, 0, 0}));
    ASSERT_TRUE(t->addApiToken({"tok-2", "ana", "script", "hash-2", 200, 9000, 0}));
    ASSERT_TRUE(t->commit());
  }
  {
    auto t = tx();
    auto c = t->credential("ana");
    ASSERT_TRUE(c && c->has_value());
    EXPECT_EQ((*c)->password_hash, "$argon2id$v=19$y");
    EXPECT_EQ((*c)->failures, 3);
    EXPECT_EQ((*c)->locked_until, 5000);
    // The same hash twice is a conflict.
    EXPECT_EQ(t->addApiToken({"tok-3", "ana", "dup", "hash-1", 300, 0, 0}).code(),
              ErrorCode::kConflict);
  }
  auto t = tx();
  auto found = t->apiTokenByHash("hash-2");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->id, "tok-2");
  EXPECT_EQ((*found)->expires_at, 9000);
  EXPECT_EQ(t->apiTokens("")->size(), 2u);
  EXPECT_EQ(t->apiTokens("svc")->front().name, "tablero");
  EXPECT_TRUE(*t->revokeApiToken("tok-1", 700));
  EXPECT_FALSE(*t->revokeApiToken("tok-1", 800));  // already revoked
  EXPECT_FALSE(*t->revokeApiToken("nope", 800));
  EXPECT_EQ((*t->apiTokenByHash("hash-1"))->revoked_at, 700);
  EXPECT_FALSE(t->apiTokenByHash("hash-9")->has_value());
}

TEST_P(StoreContract, StatisticsCountInstancesTasksAndLateTimers) {
  const std::int64_t def = addDefinition("stats");
  auto t = tx();
  InstanceRecord a = newInstance("a", def);
  InstanceRecord b = newInstance("b", def);
  b.lifecycle = "completed";
  ASSERT_TRUE(t->writeInstances({{a, 0}, {b, 0}}));
  TaskRecord late;
  late.id = "t1";
  late.instance_id = "a";
  late.status = "ready";
  late.due_at = 1000;
  late.principals = {"role:abogado"};
  TaskRecord later = late;
  later.id = "t2";
  later.due_at = 5000;
  TaskRecord closed = late;
  closed.id = "t3";
  closed.open = false;
  ASSERT_TRUE(t->writeTasks({{late, 0}, {later, 0}, {closed, 0}}));
  ASSERT_TRUE(t->addTimer({0, "a", "s1", 1500, "{}"}));
  ASSERT_TRUE(t->addTimer({0, "a", "s2", 4000, "{}"}));
  auto s = t->statistics(2000);
  ASSERT_TRUE(s) << s.status().toString();
  using Counts = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(s->instances_by_lifecycle, (Counts{{"completed", 1}, {"running", 1}}));
  EXPECT_EQ(s->open_tasks, 2);
  EXPECT_EQ(s->overdue_tasks, 1);
  EXPECT_EQ(s->oldest_due_timer, 1500);
  EXPECT_EQ(t->statistics(1000)->oldest_due_timer, 0);  // nothing due yet
}

TEST_P(StoreContract, DocumentsAreVersionedPerNameWithTheirSignatures) {
  auto t = tx();
  DocumentRecord d{"d1",
                   "i1",
                   "",
                   "acta_apertura_ofertas",
                   0,
                   "aa",
                   "application/pdf",
                   10,
                   "acta.pdf",
                   "upload",
                   "ana_lopez",
                   100};
  auto v1 = t->addDocument(d);
  ASSERT_TRUE(v1) << v1.status().toString();
  EXPECT_EQ(v1->version, 1);
  d.id = "d2";
  d.sha256 = "bb";
  auto v2 = t->addDocument(d);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->version, 2);
  d.id = "d3";
  d.name = "informe";
  d.task_id = "t1";
  auto other = t->addDocument(d);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->version, 1);
  d.id = "d4";
  d.instance_id = "i2";
  ASSERT_TRUE(t->addDocument(d));
  d.id = "d1";  // a taken id
  auto taken = t->addDocument(d);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.status().code(), ErrorCode::kConflict);
  t.reset();  // the failed insert spoilt the transaction on PostgreSQL

  t = tx();
  ASSERT_TRUE(t->addDocument(
      {"d1", "i1", "", "acta", 0, "aa", "text/plain", 3, "a.txt", "template", "system", 100}));
  ASSERT_TRUE(t->addDocument(
      {"d2", "i1", "", "acta", 0, "bb", "text/plain", 4, "a.txt", "upload", "ana_lopez", 101}));
  ASSERT_TRUE(t->addDocument({"d3", "i1", "t1", "informe", 0, "cc", "application/pdf", 5, "i.pdf",
                              "upload", "ana_lopez", 102}));
  SignatureRecord sig{"s1", "d2",    "i1", "ana_lopez", "UID=ana_lopez", "CN=CA", "0A",
                      "ff", 101'000, 0,    "dd",        "ana_lopez",     103};
  ASSERT_TRUE(t->addSignature(sig));
  sig.id = "s2";
  sig.signer = "seal";
  sig.timestamp_at = 104'000;
  sig.created_at = 104;
  ASSERT_TRUE(t->addSignature(sig));
  ASSERT_TRUE(t->putBlob("aa", std::string("\0\x01binary\xff", 9)));
  ASSERT_TRUE(t->putBlob("aa", "ignored: the first blob stays"));
  ASSERT_TRUE(t->commit());

  t = tx();
  auto docs = t->documentsOf("i1");
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[0].name + "/" + std::to_string((*docs)[0].version), "acta/1");
  EXPECT_EQ((*docs)[1].name + "/" + std::to_string((*docs)[1].version), "acta/2");
  EXPECT_EQ((*docs)[2].task_id, "t1");
  EXPECT_EQ((*docs)[2].content_type, "application/pdf");
  EXPECT_EQ((*docs)[2].size, 5);
  auto one = t->document("d2");
  ASSERT_TRUE(one && one->has_value());
  EXPECT_EQ((*one)->origin, "upload");
  EXPECT_EQ((*one)->created_at, 101);
  auto none = t->document("nope");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto sigs = t->signaturesOf("i1");
  ASSERT_TRUE(sigs);
  ASSERT_EQ(sigs->size(), 2u);
  EXPECT_EQ((*sigs)[0].signer, "ana_lopez");
  EXPECT_EQ((*sigs)[0].signing_time, 101'000);
  EXPECT_EQ((*sigs)[1].timestamp_at, 104'000);
  auto blob = t->blob("aa");
  ASSERT_TRUE(blob && blob->has_value());
  EXPECT_EQ(**blob, std::string("\0\x01binary\xff", 9));
  auto missing = t->blob("zz");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

INSTANTIATE_TEST_SUITE_P(Dialects, StoreContract, ::testing::Values("sqlite", "postgresql"),
                         testing::DialectName());

TEST_P(StoreContract, SaysHowManyCommitsToKeepInFlight) {
  // SQLite: its one writer (syncing inside COMMIT by default); PostgreSQL: the caller's say.
  EXPECT_EQ(store_->commitSlots(), GetParam() == "sqlite" ? 1 : 0);
  EXPECT_TRUE(store_->awaitDurable());
}

// A WAL sync for pipelined-sync tests: records which file it syncs, can be held shut (a slow
// disk) or made to fail.
struct HeldSync {
  std::mutex mu;
  std::condition_variable cv;
  bool shut = false;
  int fail_errno = 0;
  int entered = 0;
  std::vector<ino_t> inodes;

  int operator()(int fd) {
    std::unique_lock<std::mutex> lock(mu);
    struct stat st {};
    ::fstat(fd, &st);
    inodes.push_back(st.st_ino);
    ++entered;
    cv.notify_all();
    cv.wait(lock, [&] { return !shut; });
    if (fail_errno != 0) {
      errno = fail_errno;
      return -1;
    }
    return ::fdatasync(fd);
  }
  void hold(bool on) {
    std::lock_guard<std::mutex> lock(mu);
    shut = on;
    cv.notify_all();
  }
  // False when fewer than n syncs began within 10 s.
  bool awaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered >= n; });
  }
};

class PipelinedSync : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open(bool pipelined = true, const std::string& synchronous = "FULL") {
    StoreOptions options;
    options.busy_timeout_ms = 2'000;
    options.sqlite_synchronous = synchronous;
    options.sqlite_pipelined_sync = pipelined;
    options.sqlite_wal_sync = [held = held_](int fd) { return (*held)(fd); };
    auto s = openStore("sqlite:" + path(), options);
    if (!s) throw std::runtime_error(s.status().toString());
    return std::move(s).value();
  }
  std::string path() const { return dir_.path() + "/pipelined.db"; }
  static Status insert(Store& store, const std::string& id, std::int64_t def) {
    auto t = store.begin(TxMode::kWrite);
    if (!t) return t.status();
    if (Status st = (*t)->insertInstance(newInstance(id, def)); !st) return st;
    return (*t)->commit();
  }
  // An insert on a thread of its own.
  struct BackgroundInsert {
    std::atomic<bool> done{false};
    Status status;
    std::thread thread;
  };
  static void startInsert(BackgroundInsert& b, Store& store, std::string id, std::int64_t def) {
    b.thread = std::thread([&b, &store, id = std::move(id), def] {
      b.status = insert(store, id, def);
      b.done = true;
    });
  }
  testing::TempDir dir_;
  std::shared_ptr<HeldSync> held_ = std::make_shared<HeldSync>();
};

TEST_F(PipelinedSync, ACommitReturnsAfterItsSyncWhileTheNextWriterGoesOn) {
  auto store = open();
  const std::int64_t def = addDefinitionTo(*store, "d");
  const int before = held_->entered;
  held_->hold(true);  // a slow disk: every sync waits until released

  BackgroundInsert first;
  startInsert(first, *store, "a", def);
  const bool first_syncing = held_->awaitEntered(before + 1);
  // The writer connection was handed on: a second write runs and commits meanwhile (with
  // the writer still taken it would be refused after busy_timeout_ms, never reaching a sync).
  BackgroundInsert second;
  startInsert(second, *store, "b", def);
  const bool second_syncing = held_->awaitEntered(before + 2);
  const bool done_early = first.done || second.done;

  bool read_ahead_saw_both = false;
  if (auto ahead = store->begin(TxMode::kReadAhead)) {  // ends at once
    read_ahead_saw_both =
        (*ahead)->instance("a")->has_value() && (*ahead)->instance("b")->has_value();
    EXPECT_TRUE((*ahead)->commit());
  }
  // An ordinary read that could have seen them ends only once they are durable.
  std::atomic<bool> read_done{false};
  std::thread reader([&] {
    auto r = store->begin(TxMode::kRead);
    EXPECT_TRUE(r && (*r)->instance("b")->has_value());
    r->reset();
    read_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const bool read_done_early = read_done;

  held_->hold(false);
  first.thread.join();
  second.thread.join();
  reader.join();
  EXPECT_TRUE(first_syncing);
  EXPECT_TRUE(second_syncing) << second.status.toString();
  EXPECT_FALSE(done_early);
  EXPECT_TRUE(read_ahead_saw_both);
  EXPECT_FALSE(read_done_early);
  EXPECT_TRUE(first.status) << first.status.toString();
  EXPECT_TRUE(second.status) << second.status.toString();
  EXPECT_TRUE(store->awaitDurable());

  // What was synced is the database's write-ahead log.
  struct stat wal {};
  ASSERT_EQ(::stat((path() + "-wal").c_str(), &wal), 0);
  std::lock_guard<std::mutex> lock(held_->mu);
  ASSERT_GE(held_->inodes.size(), 3u);
  for (ino_t inode : held_->inodes) EXPECT_EQ(inode, wal.st_ino);
}

TEST_F(PipelinedSync, AFailedSyncFailsItsCommitAndEveryLaterOne) {
  auto store = open();
  const std::int64_t def = addDefinitionTo(*store, "d");
  held_->fail_errno = EIO;
  Status failed = insert(*store, "a", def);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.code(), ErrorCode::kUnavailable);
  EXPECT_NE(failed.message().find("could not be synced"), std::string::npos) << failed.message();

  held_->fail_errno = 0;  // the disk seems fine again, but what it dropped is not known
  EXPECT_EQ(insert(*store, "b", def).code(), ErrorCode::kUnavailable);
  auto r = store->begin(TxMode::kRead);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->commit().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store->awaitDurable().code(), ErrorCode::kUnavailable);

  // A restarted server starts from the log as it is on disk.
  store.reset();
  auto reopened = open();
  EXPECT_TRUE(insert(*reopened, "c", def));
}

TEST_F(PipelinedSync, SyncingALogRemovedWhileOpenFails) {
  auto store = open();
  const std::int64_t def = addDefinitionTo(*store, "d");
  ASSERT_EQ(::unlink((path() + "-wal").c_str()), 0);
  Status st = insert(*store, "a", def);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("removed while open"), std::string::npos) << st.message();
}

TEST_F(PipelinedSync, KeepsTwoCommitsInFlight) {
  EXPECT_EQ(open()->commitSlots(), 2);  // one writing while the one before it syncs
}

TEST_F(PipelinedSync, IsOffWhenDisabledOrBelowFull) {
  for (auto [pipelined, synchronous] :
       {std::pair<bool, const char*>{false, "FULL"}, {true, "NORMAL"}}) {
    auto store = open(pipelined, synchronous);
    EXPECT_EQ(store->commitSlots(), 1);
    EXPECT_TRUE(insert(*store, std::string("x-") + synchronous + (pipelined ? "p" : ""),
                       addDefinitionTo(*store, "d")));
  }
  EXPECT_EQ(held_->entered, 0);  // SQLite synced (or not) inside its commits
}

// A batch statement's rows are few: PostgreSQL joins them to a table through its index, not
// by hashing after a sequential scan of the whole table (which it did with
// jsonb_array_elements, estimated at 100 rows, up to tables of tens of thousands of rows).
TEST(PostgresPlans, BatchRowsAreJoinedThroughTheIndex) {
  const std::string uri = testing::freshStoreUri("postgresql", "plans");
  if (uri.empty()) GTEST_SKIP() << "PostgreSQL is not available on this machine";
  auto store = openStore(uri);
  ASSERT_TRUE(store) << store.status().toString();
  const std::string database = uri.substr(uri.rfind('/') + 1);
  auto* pg = testing::PostgresServer::shared();
  // Fails (psql exits non-zero) when the plan scans the table.
  const auto scansInstances = [&](const std::string& statement) {
    return !pg->psql(database,
                     "DO $$ DECLARE line text; BEGIN FOR line IN EXPLAIN " + statement +
                         " LOOP IF line LIKE '%Seq Scan on instances%' THEN RAISE EXCEPTION "
                         "'%', line; END IF; END LOOP; END $$");
  };
  const std::string rows = "tramite_rows(CAST('[[\"i5\", 2]]' AS jsonb)) AS j(value, key)";
  const std::string select =
      "SELECT id FROM instances WHERE id IN (SELECT j.value ->> 0 FROM " + rows + ")";
  const std::string update = "UPDATE instances SET row_version = 2 FROM " + rows +
                             " WHERE instances.id = j.value ->> 0 AND instances.row_version = 1";
  // An empty table, as a statement prepared at the start of a new database sees it.
  EXPECT_FALSE(scansInstances(select));
  EXPECT_FALSE(scansInstances(update));
  ASSERT_TRUE(pg->psql(database,
                       "INSERT INTO definitions (name, version, sha256, xml, created_at) VALUES "
                       "('d', 1, '', '', 0);"
                       "INSERT INTO instances SELECT 'i' || g, 1, 'k', 'running', '{}', 1, 0, 0 "
                       "FROM generate_series(1, 5000) g;"
                       "ANALYZE instances"));
  EXPECT_FALSE(scansInstances(select));
  EXPECT_FALSE(scansInstances(update));
  // The check itself finds a scan where there is one.
  EXPECT_TRUE(
      scansInstances("SELECT id FROM instances WHERE id IN (SELECT j.value ->> 0 FROM "
                     "jsonb_array_elements(CAST('[[\"i5\"]]' AS jsonb)) AS j(value))"));
}

// tramite_rows is PL/pgSQL (migration 8), whose query each session plans once: as a SQL
// function that is not inlined, it was parsed and planned again at every call. A database
// made by version 7 gets it when next opened.
TEST(PostgresPlans, BatchRowsFunctionIsPlpgsqlAfterUpgrade) {
  const std::string uri = testing::freshStoreUri("postgresql", "rows_function");
  if (uri.empty()) GTEST_SKIP() << "PostgreSQL is not available on this machine";
  const std::string database = uri.substr(uri.rfind('/') + 1);
  auto* pg = testing::PostgresServer::shared();
  // psql fails when the function is not in that language.
  const auto isIn = [&](const std::string& language) {
    return pg->psql(database,
                    "DO $$ BEGIN IF (SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid "
                    "= p.prolang WHERE p.proname = 'tramite_rows') <> '" +
                        language + "' THEN RAISE EXCEPTION 'not %', '" + language +
                        "'; END IF; END $$");
  };
  {
    auto store = openStore(uri);
    ASSERT_TRUE(store) << store.status().toString();
    EXPECT_TRUE(isIn("plpgsql"));
  }
  // Back to version 7, as that build left it.
  ASSERT_TRUE(
      pg->psql(database,
               "CREATE OR REPLACE FUNCTION tramite_rows(rows jsonb) RETURNS TABLE (value "
               "jsonb, key bigint) LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 1 AS "
               "'SELECT value, ordinality FROM jsonb_array_elements(rows) WITH "
               "ORDINALITY'; DROP TABLE login_attempts; DROP TABLE parked; DROP TABLE "
               "invitations; ALTER TABLE ledger_checkpoints DROP COLUMN previous; ALTER TABLE "
               "ledger_checkpoints DROP COLUMN tsa_token; DROP INDEX "
               "instances_created; ALTER TABLE instances DROP "
               "COLUMN states; ALTER TABLE instances DROP COLUMN unit; ALTER TABLE "
               "credentials DROP COLUMN session_epoch; DROP TABLE consumers; DROP TABLE "
               "notifications; ALTER TABLE outbox DROP COLUMN attempts; ALTER TABLE outbox "
               "DROP COLUMN next_attempt_at; ALTER TABLE outbox DROP COLUMN last_error; ALTER "
               "TABLE users DROP COLUMN email; UPDATE schema_version SET version = 7"));
  ASSERT_TRUE(isIn("sql"));
  auto store = openStore(uri);
  ASSERT_TRUE(store) << store.status().toString();
  EXPECT_EQ((*store)->schemaVersion(), 11);
  EXPECT_TRUE(isIn("plpgsql"));
  // The rows of its array, numbered from 1.
  EXPECT_TRUE(pg->psql(database,
                       "DO $$ BEGIN IF (SELECT string_agg((value ->> 0) || key, ',' ORDER BY key) "
                       "FROM tramite_rows('[[\"a\"], [\"b\"]]')) <> 'a1,b2' THEN RAISE "
                       "EXCEPTION 'wrong rows'; END IF; END $$"));
}

// A process that dies without stopping its throwaway server (a crash, a kill, a timeout)
// leaves neither the server nor its directory behind: its watchdog cleans up.
TEST(ThrowawayPostgres, AKilledOwnerLeavesNoServerBehind) {
  if (!testing::PostgresServer::shared()) GTEST_SKIP() << "PostgreSQL is not available";
  // The child runs code that is safe after fork only while this process has one thread.
  const auto threads = std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                                     std::filesystem::directory_iterator());
  ASSERT_EQ(threads, 1) << "a thread of an earlier test still runs";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t owner = ::fork();
  if (owner == 0) {
    ::close(fds[0]);
    testing::PostgresServer server;
    const std::string dir = server.start() ? server.dir() + "\n" : "\n";
    if (::write(fds[1], dir.data(), dir.size()) < 0) ::_exit(1);
    ::pause();  // until killed
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string dir;
  char c = 0;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') dir += c;
  ::close(fds[0]);
  long postmaster = 0;
  if (!dir.empty()) std::ifstream(dir + "/data/postmaster.pid") >> postmaster;
  ::kill(owner, SIGKILL);  // before any assertion, which would leave it paused
  ::waitpid(owner, nullptr, 0);
  ASSERT_FALSE(dir.empty()) << "the child's server did not start";
  ASSERT_GT(postmaster, 0);
  // The watchdog stops the server (pg_ctl waits for it) and then removes the directory.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::filesystem::exists(dir) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  // Gone, or a zombie its new parent has not reaped yet.
  const auto stat = testing::processStat(postmaster);
  EXPECT_TRUE(!stat || stat->state == 'Z')
      << "the postmaster still runs (state " << stat->state << ")";
}

TEST(OpenStore, RejectsUnknownUris) {
  EXPECT_EQ(openStore("mysql://x").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(openStore("sqlite:").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(openStore("postgresql://nohost").status().code(), ErrorCode::kInvalidArgument);
  auto unreachable = openStore("postgresql://tramite@127.0.0.1:1/none");
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.status().code(), ErrorCode::kUnavailable)
      << unreachable.status().toString();
}

}  // namespace
}  // namespace tramite::storage
