// The contract of the consumer, notification and outbox-retry facets, for every dialect
// (part of the one contract suite: storage_tests).
#include <gtest/gtest.h>

#include "pg_server.h"
#include "tramite/storage/store.h"

namespace tramite::storage {
namespace {

class ConsumerContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string uri = testing::freshStoreUri(GetParam(), "consumers");
    if (uri.empty()) GTEST_SKIP() << "PostgreSQL is not available on this machine";
    auto s = openStore(uri);
    ASSERT_TRUE(s) << s.status().toString();
    store_ = std::move(s).value();
  }
  std::unique_ptr<Transaction> tx(TxMode mode = TxMode::kWrite) {
    auto t = store_->begin(mode);
    if (!t) throw std::runtime_error("begin failed: " + t.status().toString());
    return std::move(t).value();
  }
  std::unique_ptr<Store> store_;
};

TEST_P(ConsumerContract, CursorMovesOnlyFromWhereItIs) {
  EXPECT_EQ(*tx(TxMode::kRead)->consumerPosition("notifications"), 0);
  auto t = tx();
  EXPECT_TRUE(*t->advanceConsumer("notifications", 0, 3));
  EXPECT_FALSE(*t->advanceConsumer("notifications", 0, 5));  // it is at 3 now
  ASSERT_TRUE(t->commit());
  auto r = tx();
  EXPECT_EQ(*r->consumerPosition("notifications"), 3);
  EXPECT_EQ(*r->consumerPosition("pat"), 0);  // cursors are per name
  EXPECT_TRUE(*r->advanceConsumer("notifications", 3, 4));
  // Rolled back: the position stays where the last commit left it.
  r.reset();
  EXPECT_EQ(*tx(TxMode::kRead)->consumerPosition("notifications"), 3);
}

TEST_P(ConsumerContract, LeaseIsHeldUntilItExpires) {
  auto lease = [&](const std::string& holder, TimePoint now, TimePoint until) {
    auto t = tx();
    auto got = t->leaseConsumer("notifications", holder, now, until);
    EXPECT_TRUE(got) << got.status().toString();
    EXPECT_TRUE(t->commit());
    return got && *got;
  };
  EXPECT_TRUE(lease("a", 100, 200));
  EXPECT_FALSE(lease("b", 150, 250));  // a holds it until 200
  EXPECT_TRUE(lease("a", 150, 300));   // renewed by its holder
  EXPECT_FALSE(lease("b", 299, 400));
  EXPECT_TRUE(lease("b", 300, 400));  // expired at 300: taken over
  EXPECT_FALSE(lease("a", 350, 450));
  // The lease does not move the cursor.
  EXPECT_EQ(*tx(TxMode::kRead)->consumerPosition("notifications"), 0);
}

NotificationRecord note(const std::string& user, std::int64_t source, TimePoint at) {
  return NotificationRecord{0,        user,   "i1", "EXP-1", "t1", "task", "Nueva tarea",
                            "cuerpo", source, at,   0};
}

TEST_P(ConsumerContract, NotificationsAreAUsersNewestFirstAndMarkedReadOnce) {
  auto t = tx();
  ASSERT_TRUE(t->addNotification(note("ana", 1, 10)));
  ASSERT_TRUE(t->addNotification(note("ana", 2, 20)));
  ASSERT_TRUE(t->addNotification(note("beto", 2, 20)));
  ASSERT_TRUE(t->commit());
  auto r = tx();
  auto mine = r->notificationsOf("ana", false, 0, 10);
  ASSERT_TRUE(mine) << mine.status().toString();
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].source_idx, 2);
  EXPECT_EQ((*mine)[0].user, "ana");
  EXPECT_EQ((*mine)[0].business_key, "EXP-1");
  EXPECT_EQ((*mine)[1].source_idx, 1);
  EXPECT_EQ(*r->unreadNotifications("ana"), 2);
  // Only its user marks it, once.
  EXPECT_FALSE(*r->markNotificationRead("beto", (*mine)[0].id, 30));
  EXPECT_TRUE(*r->markNotificationRead("ana", (*mine)[0].id, 30));
  EXPECT_FALSE(*r->markNotificationRead("ana", (*mine)[0].id, 31));
  ASSERT_TRUE(r->commit());
  auto after = tx(TxMode::kRead);
  EXPECT_EQ(*after->unreadNotifications("ana"), 1);
  auto unread = after->notificationsOf("ana", true, 0, 10);
  ASSERT_EQ(unread->size(), 1u);
  EXPECT_EQ((*unread)[0].source_idx, 1);
  auto older = after->notificationsOf("ana", false, (*mine)[0].id, 10);
  ASSERT_EQ(older->size(), 1u);
  EXPECT_EQ((*older)[0].read_at, 0);
  auto read = after->notificationsOf("ana", false, 0, 1);
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].read_at, 30);
}

TEST_P(ConsumerContract, AFailedDeliveryWaitsForItsNextAttempt) {
  auto t = tx();
  ASSERT_TRUE(t->addOutbox(OutboxRecord{0, "i1", "email", "{}", 10, 0, 0, ""}));
  ASSERT_TRUE(t->addOutbox(OutboxRecord{0, "i2", "email", "{}", 11, 0, 0, ""}));
  ASSERT_TRUE(t->commit());
  auto r = tx();
  auto due = r->dueOutbox("email", 100, 10);
  ASSERT_TRUE(due) << due.status().toString();
  ASSERT_EQ(due->size(), 2u);
  const std::int64_t first = (*due)[0].id;
  EXPECT_TRUE(*r->retryOutbox(first, 500, "connection refused"));
  ASSERT_TRUE(r->commit());
  auto later = tx();
  due = later->dueOutbox("email", 499, 10);
  ASSERT_EQ(due->size(), 1u);  // the other one only
  EXPECT_NE((*due)[0].id, first);
  due = later->dueOutbox("email", 500, 10);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[1].id, first);  // due last
  EXPECT_EQ((*due)[1].attempts, 1);
  EXPECT_EQ((*due)[1].last_error, "connection refused");
  EXPECT_TRUE(*later->markOutboxDone(first, 600));
  EXPECT_FALSE(*later->retryOutbox(first, 900, "late"));  // delivered meanwhile
  ASSERT_TRUE(later->commit());
  EXPECT_EQ(tx(TxMode::kRead)->dueOutbox("email", 1000, 10)->size(), 1u);
}

TEST_P(ConsumerContract, UsersKeepTheirEmail) {
  DirectoryRecords dir;
  dir.units = {{"gj", "Gerencia Jurídica", ""}};
  dir.users = {{"ana", "Ana", "gj", {}, true, "ana@integracion.example"},
               {"beto", "Beto", "gj", {}, true, ""}};
  auto t = tx();
  ASSERT_TRUE(t->replaceDirectory(dir));
  ASSERT_TRUE(t->commit());
  auto r = tx(TxMode::kRead);
  EXPECT_EQ((*r->user("ana"))->email, "ana@integracion.example");
  EXPECT_EQ((*r->user("beto"))->email, "");
  EXPECT_EQ(r->directory()->users[0].email, "ana@integracion.example");
}

TEST_P(ConsumerContract, ReadTransactionsRefuseWrites) {
  auto r = tx(TxMode::kRead);
  Status st = r->addOutbox(OutboxRecord{0, "i1", "email", "{}", 10, 0, 0, ""});
  if (st) st = r->commit();
  EXPECT_FALSE(st);
  EXPECT_TRUE(tx(TxMode::kRead)->pendingOutbox("email", 10)->empty());
}

INSTANTIATE_TEST_SUITE_P(Dialects, ConsumerContract, ::testing::Values("sqlite", "postgresql"),
                         testing::DialectName());

}  // namespace
}  // namespace tramite::storage
