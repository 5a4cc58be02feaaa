// The notification consumer and its e-mails, against both stores (SQLite file, real
// PostgreSQL) on a manual clock: who is told of a new task, an escalation and a deadline,
// in what words, exactly once; e-mails through a real SMTP server (tests/support/smtp_sink.py)
// that is first down, then up; and two runners sharing one PostgreSQL database.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "pg_server.h"
#include "smtp_sink.h"
#include "test_files.h"
#include "tramite/api/smtp.h"
#include "tramite/runtime/directory.h"
#include "tramite/runtime/engine.h"
#include "tramite/workers/deliveries.h"
#include "tramite/workers/notifications.h"
#include "tramite/workers/worker_loop.h"

namespace tramite::workers {
namespace {

using runtime::TaskOp;
using testing::localMs;
using testing::readSourceFile;

class NotificationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = testing::freshStoreUri(GetParam(), "notifications");
    if (uri_.empty()) GTEST_SKIP() << "PostgreSQL is not available on this machine";
    auto store = storage::openStore(uri_);
    ASSERT_TRUE(store) << store.status().toString();
    store_ = std::shared_ptr<storage::Store>(std::move(store).value());
    auto cal =
        calendar::loadCalendarFile(std::string(TRAMITE_SOURCE_DIR) + "/config/calendar.json");
    ASSERT_TRUE(cal) << cal.status().toString();
    runtime::EngineOptions options;
    options.calendar = std::make_shared<const calendar::BusinessCalendar>(*cal);
    options.templates["opinion-juridica"] = readSourceFile("templates/opinion-juridica.mustache");
    clock_.set(localMs("2024-03-18", 9));  // a Monday
    engine_ = std::make_unique<runtime::Engine>(store_, clock_, options);
    auto dir =
        runtime::loadDirectoryFile(std::string(TRAMITE_SOURCE_DIR) + "/config/directory.json");
    ASSERT_TRUE(dir) << dir.status().toString();
    ASSERT_TRUE(engine_->importDirectory(*dir));
    ASSERT_TRUE(
        engine_->deploy("legal-review", readSourceFile("workflows/legal-review.scxml"), "admin"));
  }

  runtime::InstanceView start(const std::string& key) {
    runtime::StartRequest req;
    req.definition = "legal-review";
    req.business_key = key;
    req.actor = "carla_mendez";
    req.data = json::Value(
        json::Object{{"unidad", "planificacion"}, {"asunto", "Convenio de cooperación"}});
    auto v = engine_->start(req);
    EXPECT_TRUE(v) << v.status().toString();
    return v ? *v : runtime::InstanceView{};
  }

  std::string openTask(const std::string& instance, const std::string& name) {
    auto tasks = engine_->tasksOf(instance);
    EXPECT_TRUE(tasks) << tasks.status().toString();
    if (!tasks) return "";
    for (const runtime::TaskView& t : *tasks) {
      if (t.name == name && t.status != "completed" && t.status != "exited") return t.id;
    }
    ADD_FAILURE() << "no open task " << name;
    return "";
  }

  ConsumerProgress consume(NotificationConsumer& consumer, const std::string& holder = "test") {
    ConsumerRun run;
    run.holder = holder;
    run.now = clock_.nowMs();
    auto p = runConsumer(*store_, consumer, run);
    EXPECT_TRUE(p) << p.status().toString();
    return p ? *p : ConsumerProgress{};
  }

  std::vector<storage::NotificationRecord> of(const std::string& user) {
    NotificationInbox inbox(*store_, clock_);
    auto page = inbox.list(user, false, 0, 200);
    EXPECT_TRUE(page) << page.status().toString();
    return page ? page->items : std::vector<storage::NotificationRecord>{};
  }

  static bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  std::string uri_;
  ManualClock clock_;
  std::shared_ptr<storage::Store> store_;
  std::unique_ptr<runtime::Engine> engine_;
};

TEST_P(NotificationTest, NewTasksEscalationsAndDeadlinesReachThePeopleConcernedOnce) {
  const runtime::InstanceView inst = start("GJ-2024-030");
  NotificationConsumer consumer;
  EXPECT_GT(consume(consumer).applied, 0);
  // The assignment task is offered to the role jefe_juridico: both heads of legal.
  for (const char* head : {"fernando_diaz", "elena_castro"}) {
    auto mine = of(head);
    ASSERT_EQ(mine.size(), 1u) << head;
    EXPECT_EQ(mine[0].kind, "task");
    EXPECT_EQ(mine[0].business_key, "GJ-2024-030");
    EXPECT_EQ(mine[0].instance_id, inst.id);
    EXPECT_TRUE(contains(mine[0].subject, "Asignar abogado(a)")) << mine[0].subject;
    EXPECT_TRUE(contains(mine[0].subject, "GJ-2024-030")) << mine[0].subject;
    EXPECT_TRUE(contains(mine[0].body, "porque usted tiene el rol «Gerente Jurídico(a)»"))
        << mine[0].body;
    EXPECT_TRUE(contains(mine[0].body, "Vence el 20/03/2024")) << mine[0].body;
  }
  EXPECT_TRUE(of("carla_mendez").empty());
  EXPECT_TRUE(of("ana_lopez").empty());

  // Assigned to a lawyer: only she hears of the drafting task, and why.
  runtime::TaskAction assign;
  assign.op = TaskOp::kComplete;
  assign.actor = "fernando_diaz";
  assign.form = json::Value(json::Object{{"abogado", "ana_lopez"}});
  ASSERT_TRUE(engine_->actOnTask(openTask(inst.id, "asignar"), assign));
  consume(consumer);
  auto ana = of("ana_lopez");
  ASSERT_EQ(ana.size(), 1u);
  EXPECT_TRUE(contains(ana[0].subject, "Redactar la opinión jurídica")) << ana[0].subject;
  EXPECT_TRUE(contains(ana[0].body, "porque la tarea le fue asignada a usted")) << ana[0].body;
  EXPECT_TRUE(of("beto_ruiz").empty());  // another lawyer

  // The drafting deadline passes: escalated to the heads of legal, who are also notified of
  // the breach (notify="jefe_juridico").
  clock_.set(localMs("2024-04-02", 8));
  ASSERT_EQ(*engine_->fireDueTimers(), 1);
  consume(consumer);
  auto fernando = of("fernando_diaz");
  ASSERT_EQ(fernando.size(), 3u);
  std::set<std::string> kinds;
  for (const auto& n : fernando) kinds.insert(n.kind);
  EXPECT_EQ(kinds, (std::set<std::string>{"task", "escalation", "deadline"}));
  for (const auto& n : fernando) {
    if (n.kind == "escalation") {
      EXPECT_TRUE(contains(n.subject, "Tarea escalada: Redactar la opinión jurídica")) << n.subject;
      EXPECT_TRUE(contains(n.body, "venció su plazo")) << n.body;
    }
    if (n.kind == "deadline") {
      EXPECT_TRUE(contains(n.subject, "Plazo vencido")) << n.subject;
      EXPECT_TRUE(contains(n.body, "vencía el 01/04/2024")) << n.body;
      EXPECT_TRUE(contains(n.body, "etapa «redaccion»")) << n.body;
    }
  }
  EXPECT_EQ(of("ana_lopez").size(), 1u);  // not a head of legal

  // Nothing new: a further run applies nothing and no notification is repeated.
  const ConsumerProgress again = consume(consumer);
  EXPECT_EQ(again.applied, 0);
  EXPECT_EQ(of("fernando_diaz").size(), 3u);
  EXPECT_EQ(of("elena_castro").size(), 3u);

  // Read by its user only.
  NotificationInbox inbox(*store_, clock_);
  EXPECT_EQ(inbox.markRead("ana_lopez", fernando[0].id).code(), ErrorCode::kNotFound);
  ASSERT_TRUE(inbox.markRead("fernando_diaz", fernando[0].id));
  ASSERT_TRUE(inbox.markRead("fernando_diaz", fernando[0].id));  // again: no change
  auto unread = inbox.list("fernando_diaz", true, 0, 10);
  ASSERT_TRUE(unread);
  EXPECT_EQ(unread->unread, 2);
  EXPECT_EQ(unread->items.size(), 2u);
  EXPECT_EQ(inbox.list("fernando_diaz", false, 0, 0).status().code(), ErrorCode::kInvalidArgument);
}

// A sender that counts what it was given, for the retry arithmetic.
class CountingSender final : public MailSender {
 public:
  Status send(const MailMessage& m) override {
    sent.push_back(m);
    return down ? Status(ErrorCode::kUnavailable, "connection refused") : Status::ok();
  }
  bool down = false;
  std::vector<MailMessage> sent;
};

TEST_P(NotificationTest, EmailsAreQueuedWithTheNotificationAndRetriedWithBackoff) {
  start("GJ-2024-031");
  NotificationConsumer consumer(NotificationOptions{/*email=*/true});
  consume(consumer);
  CountingSender sender;
  sender.down = true;
  MailRetry retry{1'000, 4'000};
  const TimePoint t0 = clock_.nowMs();
  // Two heads of legal, each with an address: two e-mails, both failing.
  EXPECT_EQ(*deliverEmails(*store_, sender, t0, retry), 0);
  EXPECT_EQ(sender.sent.size(), 2u);
  // Not before the next attempt: 1 s, then 2 s, then 4 s, then 4 s again (the cap).
  for (const std::int64_t wait : {1'000, 2'000, 4'000, 4'000}) {
    const std::size_t before = sender.sent.size();
    const TimePoint now = clock_.nowMs();
    EXPECT_EQ(*deliverEmails(*store_, sender, now + wait - 1, retry), 0);
    EXPECT_EQ(sender.sent.size(), before);
    clock_.set(now + wait);
    EXPECT_EQ(*deliverEmails(*store_, sender, now + wait, retry), 0);
    EXPECT_EQ(sender.sent.size(), before + 2);
  }
  sender.down = false;
  EXPECT_EQ(*deliverEmails(*store_, sender, clock_.nowMs() + 4'000, retry), 2);
  EXPECT_EQ(*deliverEmails(*store_, sender, clock_.nowMs() + 100'000, retry), 0);  // once
  std::set<std::string> to;
  for (const MailMessage& m : sender.sent) to.insert(m.to);
  EXPECT_EQ(to, (std::set<std::string>{"fernando.diaz@integracion.example",
                                       "elena.castro@integracion.example"}));
  EXPECT_TRUE(contains(sender.sent.back().subject, "GJ-2024-031"));
}

TEST_P(NotificationTest, EmailsReachARealSmtpServerOnceAfterItWasDown) {
  if (!testing::SmtpSink::available()) {
    GTEST_SKIP() << "python3-aiosmtpd is not installed (scripts/install-deps.sh installs it)";
  }
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("tramite-smtp-" + GetParam() + "-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  testing::SmtpSink sink(dir);
  api::SmtpOptions smtp;
  smtp.host = "127.0.0.1";
  smtp.port = sink.port();
  smtp.from = "tramite@integracion.example";
  smtp.timeout_ms = 5'000;
  api::SmtpMailSender sender(smtp);
  MailRetry retry{30'000, 3'600'000};

  start("GJ-2024-032");
  NotificationConsumer consumer(NotificationOptions{/*email=*/true});
  consume(consumer);
  // The server is down: nothing is lost, each waits for its next attempt.
  EXPECT_EQ(*deliverEmails(*store_, sender, clock_.nowMs(), retry), 0);
  {
    auto tx = store_->begin(storage::TxMode::kRead);
    auto waiting = (*tx)->pendingOutbox(kEmailOutboxKind, 10);
    ASSERT_EQ(waiting->size(), 2u);
    EXPECT_EQ((*waiting)[0].attempts, 1);
    EXPECT_NE((*waiting)[0].last_error.find("SMTP 127.0.0.1"), std::string::npos);
  }
  ASSERT_TRUE(sink.start());
  EXPECT_EQ(*deliverEmails(*store_, sender, clock_.nowMs() + 29'999, retry), 0);  // not yet
  clock_.advance(30'000);
  EXPECT_EQ(*deliverEmails(*store_, sender, clock_.nowMs(), retry), 2);
  EXPECT_EQ(*deliverEmails(*store_, sender, clock_.nowMs() + 3'600'000, retry), 0);
  const std::vector<std::string> mail = sink.messages();
  ASSERT_EQ(mail.size(), 2u);
  std::set<std::string> ids;
  for (const std::string& m : mail) {
    ids.insert(testing::mailHeader(m, "Message-ID"));
    EXPECT_EQ(testing::mailHeader(m, "From"), "tramite@integracion.example");
    // The subject is RFC 2047 (UTF-8); the body quoted-printable, naming the expediente.
    EXPECT_TRUE(contains(testing::mailHeader(m, "Subject"), "=?UTF-8?")) << m;
    EXPECT_TRUE(contains(m, "GJ-2024-032")) << m;
    EXPECT_TRUE(contains(m, "charset=UTF-8")) << m;
  }
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_TRUE(contains(*ids.begin(), "@integracion.example>")) << *ids.begin();
  std::filesystem::remove_all(dir);
}

// Two servers on one database: each runs the consumer through its own store (its own
// connections). While both live, the lease keeps the work on one; when it stops renewing,
// the other takes over once the lease has run out; and two runners that both believe they
// hold it (a lapsed holder still working) still apply each row once.
TEST_P(NotificationTest, TwoServersOnOneDatabaseApplyEachRowOnce) {
  if (GetParam() != "postgresql") GTEST_SKIP() << "several servers share PostgreSQL only";
  auto other = storage::openStore(uri_);  // the second server's own connections
  ASSERT_TRUE(other) << other.status().toString();
  storage::Store& second = **other;
  NotificationConsumer a_consumer;
  NotificationConsumer b_consumer;
  start("GJ-2024-040");
  ConsumerRun a;
  a.holder = "server-a";
  a.now = clock_.nowMs();
  a.lease_ms = 30'000;
  ConsumerRun b = a;
  b.holder = "server-b";
  auto ra = runConsumer(*store_, a_consumer, a);
  ASSERT_TRUE(ra) << ra.status().toString();
  EXPECT_TRUE(ra->leased);
  EXPECT_GT(ra->applied, 0);
  auto rb = runConsumer(second, b_consumer, b);
  ASSERT_TRUE(rb) << rb.status().toString();
  EXPECT_FALSE(rb->leased);
  EXPECT_EQ(rb->applied, 0);
  // a dies (stops renewing); b takes over when the lease has run out, not before.
  start("GJ-2024-041");
  b.now += 29'999;
  EXPECT_FALSE(runConsumer(second, b_consumer, b)->leased);
  b.now += 1;
  auto taken = runConsumer(second, b_consumer, b);
  ASSERT_TRUE(taken) << taken.status().toString();
  EXPECT_TRUE(taken->leased);
  EXPECT_GT(taken->applied, 0);
  a.now = b.now + 1;
  EXPECT_FALSE(runConsumer(*store_, a_consumer, a)->leased);  // a came back: b holds it
  EXPECT_EQ(of("fernando_diaz").size(), 2u);

  // Both believe they hold it (the same holder name, as a lapsed holder still at work would):
  // they run at once on their own connections while cases start, and every row is applied
  // by exactly one of them.
  std::atomic<bool> done{false};
  std::atomic<int> applied_a{0};
  std::atomic<int> applied_b{0};
  auto runner = [&](storage::Store& store, NotificationConsumer& c, std::atomic<int>& applied) {
    ConsumerRun run;
    run.holder = "server-b";
    run.batch = 3;
    for (;;) {
      const bool last = done.load();
      run.now = b.now;
      auto p = runConsumer(store, c, run);
      EXPECT_TRUE(p) << p.status().toString();
      if (p) applied += p->applied;
      if (last) return;
    }
  };
  std::thread ta(runner, std::ref(*store_), std::ref(a_consumer), std::ref(applied_a));
  std::thread tb(runner, std::ref(second), std::ref(b_consumer), std::ref(applied_b));
  const int cases = 20;
  for (int i = 0; i < cases; ++i) start("GJ-2024-1" + std::to_string(10 + i));
  done = true;
  ta.join();
  tb.join();
  EXPECT_GT(applied_a.load() + applied_b.load(), 0);
  // Each case's task reached each head of legal once.
  for (const char* head : {"fernando_diaz", "elena_castro"}) {
    auto mine = of(head);
    std::set<std::string> keys;
    for (const auto& n : mine) EXPECT_TRUE(keys.insert(n.business_key).second) << n.business_key;
    EXPECT_EQ(mine.size(), static_cast<std::size_t>(2 + cases)) << head;
  }
}

INSTANTIATE_TEST_SUITE_P(Dialects, NotificationTest, ::testing::Values("sqlite", "postgresql"),
                         testing::DialectName());

}  // namespace
}  // namespace tramite::workers
