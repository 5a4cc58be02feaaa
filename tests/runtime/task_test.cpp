// Human tasks through the engine, against both stores (SQLite file, real PostgreSQL), on a
// manual clock: the legal-review process end to end, deadlines breached by moving the clock,
// queues, separation of duties, substitutes, approval rules and racing claims.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "pg_server.h"
#include "test_files.h"
#include "tramite/runtime/directory.h"
#include "tramite/runtime/engine.h"

namespace tramite::runtime {
namespace {

using testing::localMs;
using testing::readSourceFile;

// Approvals with a rule over three approvers, and a plain task offered to a role.
const char* kRules = R"(<scxml xmlns="http://www.w3.org/2005/07/scxml"
    xmlns:w="urn:tramite:workflow:1" version="1.0" datamodel="lua" name="rules">
  <datamodel><data id="monto" expr="0"/><data id="metodo" expr="''"/></datamodel>
  <state id="preparar">
    <w:task name="preparar" title="Preparar expediente" roles="analista_compras abogado"
            skippable="true">
      <w:field name="monto" type="money" required="true"/>
      <w:field name="metodo" type="choice"><w:option value="LP"/><w:option value="LG"/></w:field>
      <w:field name="fecha" type="date"/>
      <w:outcome name="listo"/>
    </w:task>
    <transition event="task.preparar.done" target="aprobar"/>
    <transition event="task.preparar.skipped" target="aprobar"/>
  </state>
  <state id="aprobar">
    <w:approval name="comite" title="Comité de evaluación" rule="n-of-m" n="2">
      <w:approver roles="jefe_juridico"/>
      <w:approver roles="jefe_juridico"/>
      <w:approver roles="gerente_compras"/>
      <w:exclude who="submitter" task="preparar"/>
      <w:exclude who="requester"/>
    </w:approval>
    <transition event="task.comite.approved" target="aprobado"/>
    <transition event="task.comite.rejected" target="rechazado"/>
  </state>
  <final id="aprobado"/>
  <final id="rechazado"/>
</scxml>)";

class TaskTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = testing::freshStoreUri(GetParam(), "tasks");
    if (uri_.empty()) GTEST_SKIP() << "PostgreSQL is not available on this machine";
    auto store = storage::openStore(uri_);
    ASSERT_TRUE(store) << store.status().toString();
    auto cal =
        calendar::loadCalendarFile(std::string(TRAMITE_SOURCE_DIR) + "/config/calendar.json");
    ASSERT_TRUE(cal) << cal.status().toString();
    EngineOptions options;
    options.calendar = std::make_shared<const calendar::BusinessCalendar>(*cal);
    options.templates["opinion-juridica"] = readSourceFile("templates/opinion-juridica.mustache");
    clock_.set(localMs("2024-03-18", 9));  // a Monday; Holy Week starts on the 24th
    engine_ = std::make_unique<Engine>(std::shared_ptr<storage::Store>(std::move(store).value()),
                                       clock_, options);
    auto dir = loadDirectoryFile(std::string(TRAMITE_SOURCE_DIR) + "/config/directory.json");
    ASSERT_TRUE(dir) << dir.status().toString();
    ASSERT_TRUE(engine_->importDirectory(*dir));
    for (const auto& [name, xml] :
         {std::pair<std::string, std::string>{"legal-review",
                                              readSourceFile("workflows/legal-review.scxml")},
          {"rules", kRules}}) {
      auto deployed = engine_->deploy(name, xml, "admin");
      ASSERT_TRUE(deployed) << deployed.status().toString();
    }
  }

  InstanceView start(const std::string& definition, const std::string& key,
                     const std::string& actor = "carla_mendez", json::Value data = {}) {
    StartRequest req;
    req.definition = definition;
    req.business_key = key;
    req.actor = actor;
    req.data = data.isNull() ? json::Value(json::Object{{"unidad", "planificacion"},
                                                        {"asunto", "Convenio de cooperación"}})
                             : data;
    auto v = engine_->start(req);
    EXPECT_TRUE(v) << v.status().toString();
    return v ? *v : InstanceView{};
  }

  // The open task named name of an instance.
  TaskView open(const std::string& instance, const std::string& name) {
    auto all = engine_->tasksOf(instance);
    EXPECT_TRUE(all) << all.status().toString();
    for (const TaskView& t : *all) {
      if (t.name == name && t.spec.find("potential") && t.status != "completed" &&
          t.status != "exited" && t.status != "obsolete") {
        return t;
      }
    }
    ADD_FAILURE() << "no open task '" << name << "'";
    return {};
  }

  Result<TaskView> act(const std::string& task, TaskOp op, const std::string& actor,
                       json::Value form = {}, const std::string& decision = {}) {
    TaskAction a;
    a.op = op;
    a.actor = actor;
    a.form = std::move(form);
    a.decision = decision;
    return engine_->actOnTask(task, a);
  }

  std::vector<std::string> queueIds(const std::string& user, QueueView view, bool overdue = false) {
    QueueRequest r;
    r.user = user;
    r.view = view;
    r.overdue = overdue;
    auto page = engine_->queue(r);
    EXPECT_TRUE(page) << page.status().toString();
    std::vector<std::string> ids;
    if (page) {
      for (const TaskView& t : page->tasks) ids.push_back(t.id);
    }
    return ids;
  }

  // The approval slots of an instance in approver order.
  std::vector<TaskView> approvalSlots(const std::string& instance) {
    auto all = engine_->tasksOf(instance);
    EXPECT_TRUE(all);
    std::vector<TaskView> slots;
    for (const TaskView& t : *all) {
      if (t.kind == "approval") slots.push_back(t);
    }
    std::sort(slots.begin(), slots.end(), [](const TaskView& a, const TaskView& b) {
      return a.spec.find("slot")->asInt() < b.spec.find("slot")->asInt();
    });
    return slots;
  }

  static bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  // Rows of kind that record op (as their "op", or among the transitions it took "via").
  int historyRows(const std::string& instance, const std::string& kind, const std::string& op,
                  const std::string& actor = {}) {
    auto h = engine_->history(instance);
    EXPECT_TRUE(h);
    int n = 0;
    for (const auto& row : *h) {
      if (row.kind != kind || (!actor.empty() && row.actor != actor)) continue;
      auto d = json::parse(row.detail);
      const json::Value* o = d ? d->find("op") : nullptr;
      const json::Value* via = d ? d->find("via") : nullptr;
      bool recorded = o && o->asString() == op;
      for (std::size_t i = 0; via && i < via->asArray().size(); ++i) {
        recorded = recorded || via->asArray()[i].asString() == op;
      }
      if (recorded) ++n;
    }
    return n;
  }

  ManualClock clock_;
  std::string uri_;
  std::unique_ptr<Engine> engine_;
};

json::Value obj(json::Object o) {
  return json::Value(std::move(o));
}

TEST_P(TaskTest, LegalReviewRunsEndToEnd) {
  InstanceView inst = start("legal-review", "GJ-2024-017");
  EXPECT_EQ(inst.configuration, std::vector<std::string>{"asignacion"});
  TaskView assign = open(inst.id, "asignar");
  EXPECT_EQ(assign.status, "ready");
  EXPECT_EQ(assign.due_date, "2024-03-20");  // 2 business days after Monday the 18th
  EXPECT_EQ(assign.data.find("unidad")->asString(), "planificacion");
  // Offered to the heads of legal, not to lawyers.
  EXPECT_TRUE(has(queueIds("fernando_diaz", QueueView::kGroup), assign.id));
  EXPECT_FALSE(has(queueIds("ana_lopez", QueueView::kGroup), assign.id));
  EXPECT_EQ(act(assign.id, TaskOp::kClaim, "ana_lopez").status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(act(assign.id, TaskOp::kClaim, "nobody").status().code(), ErrorCode::kPermissionDenied);
  // A required field is enforced; then the head of legal assigns Elena (also a lawyer).
  EXPECT_EQ(act(assign.id, TaskOp::kComplete, "fernando_diaz").status().code(),
            ErrorCode::kInvalidArgument);
  auto done =
      act(assign.id, TaskOp::kComplete, "fernando_diaz", obj({{"abogado", "elena_castro"}}));
  ASSERT_TRUE(done) << done.status().toString();
  EXPECT_EQ(done->status, "completed");
  EXPECT_EQ(engine_->get(inst.id)->configuration, std::vector<std::string>{"redaccion"});

  // The draft is reserved to the assigned lawyer: in her personal queue. Holy Thursday to
  // Saturday (28-30 March 2024) are not counted: 8 business days end on 1 April.
  TaskView draft = open(inst.id, "redactar");
  EXPECT_EQ(draft.status, "reserved");
  EXPECT_EQ(draft.owner, "elena_castro");
  EXPECT_EQ(draft.due_date, "2024-04-01");
  EXPECT_TRUE(has(queueIds("elena_castro", QueueView::kPersonal), draft.id));
  EXPECT_EQ(act(draft.id, TaskOp::kComplete, "ana_lopez", obj({{"opinion", "x"}})).status().code(),
            ErrorCode::kConflict);  // reserved to someone else
  EXPECT_EQ(
      act(draft.id, TaskOp::kComplete, "elena_castro", obj({{"opinon", "typo"}})).status().code(),
      ErrorCode::kInvalidArgument);
  ASSERT_TRUE(act(draft.id, TaskOp::kStart, "elena_castro"));
  ASSERT_TRUE(act(draft.id, TaskOp::kComplete, "elena_castro",
                  obj({{"opinion", "Procede suscribir el convenio."}})));

  // Review: Elena drafted, so she may not review her own opinion (separation of duties).
  TaskView review = open(inst.id, "revisar");
  EXPECT_EQ(review.kind, "approval");
  EXPECT_TRUE(has(queueIds("elena_castro", QueueView::kGroup), review.id));
  auto own = act(review.id, TaskOp::kComplete, "elena_castro", {}, "approve");
  EXPECT_EQ(own.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(own.status().message().find("separation of duties"), std::string::npos)
      << own.status().message();
  // Returned for correction: back to the same lawyer.
  ASSERT_TRUE(act(review.id, TaskOp::kComplete, "fernando_diaz", {}, "bogus").status().code() ==
              ErrorCode::kInvalidArgument);
  ASSERT_TRUE(act(review.id, TaskOp::kComplete, "fernando_diaz", {}, "reject"));
  auto back = engine_->get(inst.id);
  EXPECT_EQ(back->configuration, std::vector<std::string>{"redaccion"});
  EXPECT_EQ(back->data.find("devoluciones")->asInt(), 1);
  TaskView again = open(inst.id, "redactar");
  EXPECT_NE(again.id, draft.id);
  EXPECT_EQ(again.owner, "elena_castro");
  ASSERT_TRUE(act(again.id, TaskOp::kComplete, "elena_castro",
                  obj({{"opinion", "Procede, con las observaciones."}})));
  TaskView review2 = open(inst.id, "revisar");
  auto issued = act(review2.id, TaskOp::kComplete, "fernando_diaz", {}, "approve");
  ASSERT_TRUE(issued) << issued.status().toString();
  auto final_view = engine_->get(inst.id);
  EXPECT_EQ(final_view->lifecycle, "completed");
  EXPECT_EQ(final_view->data.find("dictamen")->asString(), "Procede, con las observaciones.");
  // The issued opinion is a document rendered from the instance's data.
  auto documents = engine_->documents(inst.id);
  ASSERT_TRUE(documents) << documents.status().toString();
  ASSERT_EQ(documents->size(), 1u);
  EXPECT_EQ(documents->front().document.name, "opinion_juridica");
  auto opinion = engine_->blob(documents->front().document.sha256);
  ASSERT_TRUE(opinion);
  EXPECT_NE(opinion->find("Procede, con las observaciones."), std::string::npos);
  EXPECT_NE(opinion->find("Convenio de cooperaci"), std::string::npos);
  // Nothing is left in anyone's queue; every operation is in the history with its actor.
  EXPECT_TRUE(queueIds("fernando_diaz", QueueView::kGroup).empty());
  EXPECT_TRUE(queueIds("elena_castro", QueueView::kPersonal).empty());
  EXPECT_EQ(historyRows(inst.id, "task", "create"), 5);
  EXPECT_EQ(historyRows(inst.id, "task", "claim", "fernando_diaz"), 3);
  EXPECT_EQ(historyRows(inst.id, "task", "complete", "fernando_diaz"), 3);
  EXPECT_EQ(historyRows(inst.id, "task", "start", "elena_castro"), 2);
  EXPECT_EQ(historyRows(inst.id, "task", "complete", "elena_castro"), 2);
  // One row per operation: completing an offered task claims and starts it on the way.
  auto rows = engine_->history(inst.id);
  ASSERT_TRUE(rows);
  const auto last_task_row = std::find_if(rows->rbegin(), rows->rend(), [](const auto& row) {
    return row.kind == "task" && row.detail.find("\"op\":\"complete\"") != std::string::npos;
  });
  ASSERT_NE(last_task_row, rows->rend());
  EXPECT_EQ(json::parse(last_task_row->detail)->find("from")->asString(), "ready");
  EXPECT_EQ(json::dump(*json::parse(last_task_row->detail)->find("via")), R"(["claim","start"])");
  // A finished task cannot be finished again.
  EXPECT_EQ(act(review2.id, TaskOp::kComplete, "fernando_diaz", {}, "approve").status().code(),
            ErrorCode::kConflict);
}

TEST_P(TaskTest, DeadlinesBreachOnTheManualClock) {
  InstanceView inst = start("legal-review", "GJ-2024-018");
  TaskView assign = open(inst.id, "asignar");
  ASSERT_TRUE(act(assign.id, TaskOp::kComplete, "fernando_diaz", obj({{"abogado", "ana_lopez"}})));
  TaskView draft = open(inst.id, "redactar");
  EXPECT_FALSE(has(queueIds("fernando_diaz", QueueView::kGroup), draft.id));
  // The last minute of the due day (1 April): not yet breached.
  clock_.set(localMs("2024-04-01", 23) + 59 * 60'000);
  ASSERT_EQ(*engine_->fireDueTimers(), 0);
  EXPECT_FALSE(engine_->task(draft.id)->overdue);
  // The next morning the drafting deadline has passed: escalated to the heads of legal.
  clock_.set(localMs("2024-04-02", 8));
  ASSERT_EQ(*engine_->fireDueTimers(), 1);
  ASSERT_EQ(*engine_->fireDueTimers(), 0);  // exactly once
  auto late = engine_->task(draft.id);
  EXPECT_TRUE(late->overdue);
  EXPECT_EQ(late->owner, "ana_lopez");
  EXPECT_TRUE(has(queueIds("fernando_diaz", QueueView::kGroup), draft.id));
  EXPECT_TRUE(has(queueIds("fernando_diaz", QueueView::kGroup, /*overdue=*/true), draft.id));
  EXPECT_TRUE(has(queueIds("ana_lopez", QueueView::kPersonal, /*overdue=*/true), draft.id));
  EXPECT_EQ(historyRows(inst.id, "deadline", "breach"), 1);
  EXPECT_EQ(historyRows(inst.id, "task", "escalate", "system"), 1);
  // 15 business days for the whole request end on 10 April: then it is flagged late.
  EXPECT_FALSE(engine_->get(inst.id)->data.find("vencida")->asBool());
  clock_.set(localMs("2024-04-11", 8));
  ASSERT_EQ(*engine_->fireDueTimers(), 1);
  EXPECT_TRUE(engine_->get(inst.id)->data.find("vencida")->asBool());
  EXPECT_EQ(historyRows(inst.id, "deadline", "breach"), 2);
  // Completing the work still works late; its deadlines are gone with it.
  ASSERT_TRUE(act(draft.id, TaskOp::kComplete, "ana_lopez", obj({{"opinion", "Tarde."}})));
  EXPECT_FALSE(engine_->task(draft.id)->overdue);
}

TEST_P(TaskTest, ApprovalRulesAndSeparationOfDuties) {
  // Requested by the purchasing manager, prepared by an analyst; 2 of 3 approvers decide.
  InstanceView inst =
      start("rules", "UACI-2024-001", "hector_ramos", obj({{"monto", 25000}, {"metodo", "LG"}}));
  TaskView prep = open(inst.id, "preparar");
  EXPECT_EQ(act(prep.id, TaskOp::kComplete, "gabriela_ortiz",
                obj({{"monto", -5}, {"metodo", "XX"}, {"fecha", "2024-02-30"}}), "listo")
                    .status()
                    .message()
                    .find("must be a money value") != std::string::npos,
            true);
  EXPECT_EQ(act(prep.id, TaskOp::kComplete, "gabriela_ortiz", obj({{"monto", 5}}), "nope")
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(act(prep.id, TaskOp::kComplete, "gabriela_ortiz",
                  obj({{"monto", 25000.5}, {"metodo", "LG"}, {"fecha", "2024-03-18"}}), "listo"));
  std::vector<TaskView> slots = approvalSlots(inst.id);
  ASSERT_EQ(slots.size(), 3u);
  // The requester (hector, gerente_compras) is excluded from the third slot.
  EXPECT_EQ(act(slots[2].id, TaskOp::kComplete, "hector_ramos", {}, "approve").status().code(),
            ErrorCode::kPermissionDenied);
  ASSERT_TRUE(act(slots[0].id, TaskOp::kComplete, "elena_castro", {}, "approve"));
  // Nobody decides two slots of one approval.
  auto twice = act(slots[1].id, TaskOp::kComplete, "elena_castro", {}, "approve");
  EXPECT_EQ(twice.status().code(), ErrorCode::kPermissionDenied) << twice.status().toString();
  EXPECT_EQ(engine_->get(inst.id)->configuration, std::vector<std::string>{"aprobar"});
  ASSERT_TRUE(act(slots[1].id, TaskOp::kComplete, "fernando_diaz", {}, "approve"));
  // Two of three: approved; the third slot is obsolete.
  auto view = engine_->get(inst.id);
  EXPECT_EQ(view->lifecycle, "completed");
  EXPECT_EQ(engine_->task(slots[2].id)->status, "obsolete");
  EXPECT_EQ(historyRows(inst.id, "task", "obsolete"), 1);

  // Rejections that make the rule unreachable decide it at once.
  InstanceView second = start("rules", "UACI-2024-002", "hector_ramos");
  ASSERT_TRUE(act(open(second.id, "preparar").id, TaskOp::kSkip, "gabriela_ortiz"));
  slots = approvalSlots(second.id);
  ASSERT_TRUE(act(slots[0].id, TaskOp::kComplete, "elena_castro", {}, "reject"));
  EXPECT_EQ(engine_->get(second.id)->lifecycle, "running");
  ASSERT_TRUE(act(slots[1].id, TaskOp::kComplete, "fernando_diaz", {}, "reject"));
  EXPECT_EQ(engine_->get(second.id)->configuration, std::vector<std::string>{"rechazado"});
}

TEST_P(TaskTest, LifecycleOperationsAndSubstitutes) {
  InstanceView inst = start("rules", "UACI-2024-003", "hector_ramos");
  TaskView t = open(inst.id, "preparar");
  // Offered to analysts and lawyers; claimed, released, forwarded, delegated.
  ASSERT_TRUE(act(t.id, TaskOp::kClaim, "gabriela_ortiz"));
  EXPECT_TRUE(has(queueIds("gabriela_ortiz", QueueView::kPersonal), t.id));
  EXPECT_FALSE(has(queueIds("ana_lopez", QueueView::kGroup), t.id));
  EXPECT_EQ(act(t.id, TaskOp::kStop, "gabriela_ortiz").status().code(),
            ErrorCode::kFailedPrecondition);  // not started
  ASSERT_TRUE(act(t.id, TaskOp::kRelease, "gabriela_ortiz"));
  EXPECT_TRUE(has(queueIds("ana_lopez", QueueView::kGroup), t.id));
  TaskAction fwd;
  fwd.op = TaskOp::kForward;
  fwd.actor = "ana_lopez";
  // Forwarding and delegating stay among the task's potential owners (analysts, lawyers).
  fwd.to = {"user:irene_molina"};
  EXPECT_EQ(engine_->actOnTask(t.id, fwd).status().code(), ErrorCode::kPermissionDenied);
  fwd.to = {"role:administrador_contrato"};
  EXPECT_EQ(engine_->actOnTask(t.id, fwd).status().code(), ErrorCode::kPermissionDenied);
  fwd.to = {"user:beto_ruiz"};
  ASSERT_TRUE(engine_->actOnTask(t.id, fwd));
  EXPECT_FALSE(has(queueIds("ana_lopez", QueueView::kGroup), t.id));
  EXPECT_TRUE(has(queueIds("beto_ruiz", QueueView::kPersonal), t.id));
  fwd.to = {"nobody:x"};
  fwd.actor = "beto_ruiz";
  EXPECT_EQ(engine_->actOnTask(t.id, fwd).status().code(), ErrorCode::kInvalidArgument);
  TaskAction del;
  del.op = TaskOp::kDelegate;
  del.actor = "beto_ruiz";
  del.to_user = "irene_molina";
  EXPECT_EQ(engine_->actOnTask(t.id, del).status().code(), ErrorCode::kPermissionDenied);
  del.to_user = "elena_castro";
  auto delegated = engine_->actOnTask(t.id, del);
  ASSERT_TRUE(delegated) << delegated.status().toString();
  EXPECT_EQ(delegated->owner, "elena_castro");
  EXPECT_EQ(delegated->spec.find("delegated_by")->asString(), "beto_ruiz");
  EXPECT_TRUE(has(queueIds("beto_ruiz", QueueView::kPersonal), t.id));  // kept
  ASSERT_TRUE(act(t.id, TaskOp::kStart, "elena_castro"));
  ASSERT_TRUE(act(t.id, TaskOp::kSuspend, "elena_castro"));
  EXPECT_EQ(engine_->task(t.id)->status, "suspended_in_progress");
  EXPECT_EQ(
      act(t.id, TaskOp::kComplete, "elena_castro", obj({{"monto", 1}}), "listo").status().code(),
      ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(act(t.id, TaskOp::kResume, "elena_castro"));
  EXPECT_EQ(engine_->task(t.id)->status, "in_progress");
  // Elena is on vacation 1-16 August 2024; Fernando stands in for her then, not before.
  EXPECT_FALSE(has(queueIds("fernando_diaz", QueueView::kPersonal), t.id));
  EXPECT_EQ(
      act(t.id, TaskOp::kComplete, "fernando_diaz", obj({{"monto", 1}}), "listo").status().code(),
      ErrorCode::kConflict);
  clock_.set(localMs("2024-08-05", 10));
  EXPECT_TRUE(has(queueIds("fernando_diaz", QueueView::kPersonal), t.id));
  auto done = act(t.id, TaskOp::kComplete, "fernando_diaz", obj({{"monto", 1}}), "listo");
  ASSERT_TRUE(done) << done.status().toString();
  EXPECT_EQ(done->result.find("on_behalf_of")->asString(), "elena_castro");
  EXPECT_EQ(historyRows(inst.id, "task", "complete", "fernando_diaz"), 1);
  // Suspending the instance holds its tasks.
  InstanceView other = start("rules", "UACI-2024-004", "hector_ramos");
  ASSERT_TRUE(engine_->suspend(other.id, "admin"));
  EXPECT_EQ(act(open(other.id, "preparar").id, TaskOp::kClaim, "gabriela_ortiz").status().code(),
            ErrorCode::kFailedPrecondition);
  // Terminating it exits them.
  ASSERT_TRUE(engine_->terminate(other.id, "admin"));
  auto left = engine_->tasksOf(other.id);
  EXPECT_EQ(left->front().status, "exited");
  EXPECT_TRUE(queueIds("gabriela_ortiz", QueueView::kGroup).empty());
}

TEST_P(TaskTest, QueuesFilterSortAndPage) {
  for (int i = 0; i < 7; ++i) {
    start("rules", "UACI-2024-1" + std::to_string(i), "hector_ramos",
          obj({{"monto", 10000 * (i + 1)}, {"metodo", i % 2 ? "LP" : "LG"}}));
    clock_.advance(3'600'000);
  }
  QueueRequest r;
  r.user = "gabriela_ortiz";
  r.view = QueueView::kGroup;
  r.filters = {{"monto", ">=", "30000"}, {"metodo", "=", "\"LG\""}};
  auto page = engine_->queue(r);
  ASSERT_TRUE(page) << page.status().toString();
  std::set<std::int64_t> amounts;
  for (const TaskView& t : page->tasks) amounts.insert(t.data.find("monto")->asInt());
  EXPECT_EQ(amounts, (std::set<std::int64_t>{30000, 50000, 70000}));  // the LG ones
  r.filters.clear();
  r.limit = 3;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 5; ++pages) {
    auto p = engine_->queue(r);
    ASSERT_TRUE(p);
    for (const auto& t : p->tasks) seen.push_back(t.business_key);
    if (p->next_cursor.empty()) break;
    r.cursor = p->next_cursor;
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 7u);  // pages of 3, 3 and 1, each task once
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
  r.cursor = "garbage";
  EXPECT_EQ(engine_->queue(r).status().code(), ErrorCode::kInvalidArgument);
  r.cursor.clear();
  r.user = "nobody";
  EXPECT_EQ(engine_->queue(r).status().code(), ErrorCode::kNotFound);
  QueueRequest all;
  all.view = QueueView::kAll;
  all.due_within_days = 3;
  EXPECT_TRUE(engine_->queue(all)->tasks.empty());  // none of them has a deadline
  all.due_within_days = 0;
  EXPECT_EQ(engine_->queue(all)->tasks.size(), 7u);
}

TEST_P(TaskTest, RacingClaimsAndCompletionsLetExactlyOneWin) {
  for (int round = 0; round < 6; ++round) {
    InstanceView inst = start("rules", "RACE-" + std::to_string(round), "hector_ramos");
    const std::string id = open(inst.id, "preparar").id;
    const bool completing = round % 2 == 1;
    std::atomic<int> ok{0};
    std::atomic<int> conflicts{0};
    std::vector<std::thread> threads;
    for (const char* who : {"gabriela_ortiz", "ana_lopez"}) {
      threads.emplace_back([&, who] {
        auto r = completing ? act(id, TaskOp::kComplete, who, obj({{"monto", 1}}), "listo")
                            : act(id, TaskOp::kClaim, who);
        if (r) {
          ++ok;
        } else if (r.status().code() == ErrorCode::kConflict) {
          ++conflicts;
        } else {
          ADD_FAILURE() << r.status().toString();
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(conflicts.load(), 1) << "round " << round;
    EXPECT_EQ(historyRows(inst.id, "task", "claim"), 1);
  }
}

// ---- issue 26: holes an attacker with an account found ----

// The history rows of kind an instance has, by actor.
int rowsOf(Engine& engine, const std::string& instance, const std::string& kind,
           const std::string& actor) {
  auto h = engine.history(instance);
  EXPECT_TRUE(h);
  return static_cast<int>(std::count_if(h->begin(), h->end(), [&](const auto& row) {
    return row.kind == kind && row.actor == actor;
  }));
}

// Item 1: the events the engine raises never come from outside; a process takes only the
// events it declares, from whom it names; every refusal is recorded.
TEST_P(TaskTest, OnlyDeclaredEventsComeFromOutside) {
  InstanceView inst = start("legal-review", "GJ-2024-101");
  const json::Value forged =
      obj({{"form", obj({{"opinion", "Procede."}, {"abogado", "carla_mendez"}})}});
  for (const char* name : {"task.asignar.done", "task.redactar.done", "task.revisar.approved",
                           "plazo.vencido", "done.state.tramite", "error.execution", "submit"}) {
    auto r = engine_->send(inst.id, scxml::Event::external(name, forged), "carla_mendez");
    EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied) << name;
  }
  auto now = engine_->get(inst.id);
  EXPECT_EQ(now->configuration, std::vector<std::string>{"asignacion"});
  EXPECT_FALSE(now->data.find("vencida")->asBool());
  EXPECT_EQ(rowsOf(*engine_, inst.id, "refused", "carla_mendez"), 7);
  EXPECT_EQ(rowsOf(*engine_, inst.id, "event", "carla_mendez"), 0);
  // The withdrawal is the requester's alone; an administrator needs a stated reason.
  const auto withdraw = scxml::Event::external("solicitud.desistida");
  EXPECT_EQ(engine_->send(inst.id, withdraw, "ana_lopez").status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(engine_->send(inst.id, withdraw, "admin").status().code(),
            ErrorCode::kPermissionDenied);
  auto withdrawn = engine_->send(inst.id, withdraw, "carla_mendez");
  ASSERT_TRUE(withdrawn) << withdrawn.status().toString();
  EXPECT_EQ(withdrawn->configuration, std::vector<std::string>{"desistida"});

  InstanceView other = start("legal-review", "GJ-2024-102");
  auto by_admin = engine_->send(other.id, withdraw, "admin", {}, "Solicitud duplicada");
  ASSERT_TRUE(by_admin) << by_admin.status().toString();
  auto h = engine_->history(other.id);
  auto event = std::find_if(h->begin(), h->end(), [](const storage::HistoryRecord& row) {
    return row.kind == "event" && row.actor == "admin";
  });
  ASSERT_NE(event, h->end());
  EXPECT_NE(event->detail.find("Solicitud duplicada"), std::string::npos) << event->detail;
}

// Item 2: auditors and the compliance office read; they never move a case, even one of a
// plain SCXML document that declares nothing.
TEST_P(TaskTest, MonitorsNeverMoveACase) {
  ASSERT_TRUE(
      engine_->deploy("approval-chain", readSourceFile("workflows/approval-chain.scxml"), "admin"));
  InstanceView chain = start("approval-chain", "UACI-2024-050", "carla_mendez", obj({}));
  for (const char* monitor : {"luis_hernandez", "marta_rivas"}) {
    EXPECT_EQ(engine_->send(chain.id, scxml::Event::external("submit"), monitor).status().code(),
              ErrorCode::kPermissionDenied)
        << monitor;
  }
  EXPECT_EQ(engine_->get(chain.id)->configuration, std::vector<std::string>{"draft"});
  ASSERT_TRUE(engine_->send(chain.id, scxml::Event::external("submit"), "carla_mendez"));
  InstanceView review = start("legal-review", "GJ-2024-103");
  EXPECT_EQ(
      engine_->send(review.id, scxml::Event::external("solicitud.desistida"), "luis_hernandez")
          .status()
          .code(),
      ErrorCode::kPermissionDenied);
}

// Items 3 and 4: a reviewer barred by separation of duties cannot hand the review to someone
// without the role, and the field that names the drafter names an active lawyer.
TEST_P(TaskTest, HandingOnAndNamingStayWithinTheRoles) {
  InstanceView inst = start("legal-review", "GJ-2024-104");
  TaskView assign = open(inst.id, "asignar");
  for (const char* who : {"carla_mendez", "nadie", "luis_hernandez"}) {
    auto r = act(assign.id, TaskOp::kComplete, "elena_castro", obj({{"abogado", who}}));
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << who;
    EXPECT_NE(r.status().message().find("field 'abogado'"), std::string::npos)
        << r.status().message();
  }
  ASSERT_TRUE(
      act(assign.id, TaskOp::kComplete, "elena_castro", obj({{"abogado", "elena_castro"}})));
  ASSERT_TRUE(act(open(inst.id, "redactar").id, TaskOp::kComplete, "elena_castro",
                  obj({{"opinion", "Procede la suscripción del convenio."}})));
  TaskView review = open(inst.id, "revisar");
  EXPECT_EQ(act(review.id, TaskOp::kComplete, "elena_castro", {}, "approve").status().code(),
            ErrorCode::kPermissionDenied);  // she drafted it
  TaskAction hand;
  hand.actor = "elena_castro";
  hand.op = TaskOp::kForward;
  hand.to = {"user:ana_lopez"};
  EXPECT_EQ(engine_->actOnTask(review.id, hand).status().code(), ErrorCode::kPermissionDenied);
  hand.to = {"role:abogado"};
  EXPECT_EQ(engine_->actOnTask(review.id, hand).status().code(), ErrorCode::kPermissionDenied);
  hand.op = TaskOp::kDelegate;
  hand.to_user = "ana_lopez";
  EXPECT_EQ(engine_->actOnTask(review.id, hand).status().code(), ErrorCode::kPermissionDenied);
  hand.to_user = "carla_mendez";  // the requester, excluded from the review
  EXPECT_EQ(engine_->actOnTask(review.id, hand).status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(engine_->get(inst.id)->configuration, std::vector<std::string>{"revision"});
  hand.to_user = "fernando_diaz";
  ASSERT_TRUE(engine_->actOnTask(review.id, hand));
  ASSERT_TRUE(act(review.id, TaskOp::kComplete, "fernando_diaz", {}, "approve"));
  EXPECT_EQ(engine_->get(inst.id)->configuration, std::vector<std::string>{"emitida"});
}

// Item 5: one person, one slot, even when both decisions are computed at once.
TEST_P(TaskTest, OnePersonDecidesOneSlotEvenRacing) {
  for (int round = 0; round < 15; ++round) {
    InstanceView inst = start("rules", "VOTE-" + std::to_string(round), "hector_ramos");
    ASSERT_TRUE(act(open(inst.id, "preparar").id, TaskOp::kSkip, "gabriela_ortiz"));
    std::vector<TaskView> slots = approvalSlots(inst.id);
    ASSERT_EQ(slots.size(), 3u);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int slot = 0; slot < 2; ++slot) {
      threads.emplace_back([&, slot] {
        if (act(slots[slot].id, TaskOp::kComplete, "elena_castro", {}, "approve")) ++ok;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(engine_->get(inst.id)->configuration, std::vector<std::string>{"aprobar"})
        << "round " << round;
  }
}

// Item 7: an idempotency key is the caller's own.
TEST_P(TaskTest, IdempotencyKeysAreScopedToTheCaller) {
  StartRequest req;
  req.definition = "legal-review";
  req.business_key = "GJ-2024-105";
  req.actor = "carla_mendez";
  req.idempotency_key = "clave-1";
  req.data = obj({{"unidad", "planificacion"}, {"asunto", "Confidencial"}});
  auto first = engine_->start(req);
  ASSERT_TRUE(first) << first.status().toString();
  ASSERT_EQ(engine_->start(req)->id, first->id);  // her retry
  req.actor = "diego_flores";
  req.business_key = "GJ-2024-106";
  req.data = obj({{"unidad", "operaciones"}, {"asunto", "Otro"}});
  auto theirs = engine_->start(req);
  ASSERT_TRUE(theirs) << theirs.status().toString();
  EXPECT_NE(theirs->id, first->id);
  EXPECT_EQ(theirs->data.find("asunto")->asString(), "Otro");
  TaskView assign = open(first->id, "asignar");
  TaskAction claim;
  claim.op = TaskOp::kClaim;
  claim.actor = "fernando_diaz";
  claim.idempotency_key = "clave-2";
  ASSERT_TRUE(engine_->actOnTask(assign.id, claim));
  claim.actor = "elena_castro";  // the same key from someone else is another request
  EXPECT_EQ(engine_->actOnTask(assign.id, claim).status().code(), ErrorCode::kConflict);
}

// Item 18: a process declares the data it starts with; a business key names one case.
TEST_P(TaskTest, StartDataIsCheckedAndBusinessKeysAreUnique) {
  StartRequest req;
  req.definition = "legal-review";
  req.business_key = "GJ-2024-200";
  req.actor = "carla_mendez";
  const auto refusal = [&](json::Value data) {
    req.data = std::move(data);
    auto r = engine_->start(req);
    EXPECT_FALSE(r);
    return r ? std::string("started") : r.status().toString();
  };
  std::string why = refusal(obj({{"unidad", "no-existe"}, {"asunto", "Convenio"}}));
  EXPECT_NE(why.find("field 'unidad': no unit 'no-existe'"), std::string::npos) << why;
  why = refusal(obj({{"unidad", "gj"}, {"asuntoo", "Convenio"}}));
  EXPECT_NE(why.find("unknown field 'asuntoo'"), std::string::npos) << why;
  EXPECT_NE(why.find("field 'asunto' is required"), std::string::npos) << why;
  why = refusal(obj({{"unidad", "gj"}, {"asunto", 7}}));
  EXPECT_NE(why.find("field 'asunto' must be a text value"), std::string::npos) << why;
  // Keys that are empty, or hold a control or bidirectional-formatting character.
  for (const char* key : {"", "GJ\n2024",
                          "GJ-\xE2\x80\xAE"
                          "4202",
                          "GJ-\xE2\x81\xA6x"}) {
    req.business_key = key;
    req.data = obj({{"unidad", "gj"}, {"asunto", "Convenio"}});
    auto r = engine_->start(req);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << key;
  }
  InstanceView first = start("legal-review", "GJ-2024-201");
  req.business_key = "GJ-2024-201";
  req.data = obj({{"unidad", "gj"}, {"asunto", "Otro"}});
  auto again = engine_->start(req);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.status().code(), ErrorCode::kConflict);
  EXPECT_NE(again.status().message().find(first.id), std::string::npos) << again.status().message();
}

// Items 20 and 21: a queue marks the tasks separation of duties bars its user from, and a
// draft returned for correction carries the reviewer's decision and comment.
TEST_P(TaskTest, QueuesMarkBarredTasksAndReturnsCarryTheComment) {
  InstanceView inst = start("legal-review", "GJ-2024-300");
  ASSERT_TRUE(act(open(inst.id, "asignar").id, TaskOp::kComplete, "fernando_diaz",
                  obj({{"abogado", "elena_castro"}})));
  ASSERT_TRUE(act(open(inst.id, "redactar").id, TaskOp::kComplete, "elena_castro",
                  obj({{"opinion", "Procede."}})));
  const std::string review = open(inst.id, "revisar").id;
  const auto inQueue = [&](const std::string& user) {
    QueueRequest r;
    r.user = user;
    r.view = QueueView::kGroup;
    auto page = engine_->queue(r);
    EXPECT_TRUE(page) << page.status().toString();
    for (const TaskView& t : page->tasks) {
      if (t.id == review) return t;
    }
    ADD_FAILURE() << "the review is not in " << user << "'s queue";
    return TaskView{};
  };
  const TaskView barred = inQueue("elena_castro");
  EXPECT_NE(barred.may_not_act.find("completed 'Redactar la opinión jurídica'"), std::string::npos)
      << barred.may_not_act;
  EXPECT_EQ(barred.toJson().find("may_act")->asBool(), false);
  EXPECT_TRUE(inQueue("fernando_diaz").may_not_act.empty());
  EXPECT_EQ(inQueue("fernando_diaz").toJson().find("may_act")->asBool(), true);

  TaskAction reject;
  reject.op = TaskOp::kComplete;
  reject.actor = "fernando_diaz";
  reject.decision = "reject";
  reject.comment = "Falta fundamentar en la Ley de Procedimientos Administrativos.";
  ASSERT_TRUE(engine_->actOnTask(review, reject));
  const TaskView again = open(inst.id, "redactar");
  const json::Value* prior = again.spec.find("prior_decision");
  ASSERT_NE(prior, nullptr);
  EXPECT_EQ(prior->find("decision")->asString(), "reject");
  EXPECT_EQ(prior->find("actor")->asString(), "fernando_diaz");
  EXPECT_EQ(prior->find("comment")->asString(), reject.comment);
}

// Item 23: the issued opinion prints names, the lawyer's reference and who approved it.
TEST_P(TaskTest, TheIssuedOpinionNamesPeopleAndUnits) {
  InstanceView inst = start("legal-review", "GJ-2024-400");
  ASSERT_TRUE(act(open(inst.id, "asignar").id, TaskOp::kComplete, "fernando_diaz",
                  obj({{"abogado", "ana_lopez"}})));
  ASSERT_TRUE(act(open(inst.id, "redactar").id, TaskOp::kComplete, "ana_lopez",
                  obj({{"opinion", "Procede."}, {"referencia", "GJ/OP-112/2024"}})));
  ASSERT_TRUE(act(open(inst.id, "revisar").id, TaskOp::kComplete, "fernando_diaz", {}, "approve"));
  auto documents = engine_->documents(inst.id);
  ASSERT_TRUE(documents && documents->size() == 1u);
  auto opinion = engine_->blob(documents->front().document.sha256);
  ASSERT_TRUE(opinion);
  for (const char* expected :
       {"Unidad solicitante: Gerencia de Planificación Estratégica y Gestión",
        "Referencia del documento: GJ/OP-112/2024", "Abogado(a): Ana López",
        "Revisada y aprobada por: Fernando Díaz"}) {
    EXPECT_NE(opinion->find(expected), std::string::npos) << expected << "\n" << *opinion;
  }
  EXPECT_EQ(opinion->find("ana_lopez"), std::string::npos) << *opinion;
}

INSTANTIATE_TEST_SUITE_P(Dialects, TaskTest, ::testing::Values("sqlite", "postgresql"),
                         testing::DialectName());

TEST(Directory, ShippedDirectoryLoadsAndBadOnesAreRefused) {
  auto dir = loadDirectoryFile(std::string(TRAMITE_SOURCE_DIR) + "/config/directory.json");
  ASSERT_TRUE(dir) << dir.status().toString();
  EXPECT_EQ(dir->units.size(), 28u);
  auto bad = parseDirectory(R"({"units": [{"id": "gj", "name": "GJ"}, {"id": "gj", "name": "x"}],
    "roles": [{"id": "Abogado", "name": "x"}],
    "users": [{"id": "ana", "name": "Ana", "unit": "nope", "roles": ["ghost"]}],
    "substitutions": [{"user": "ana", "substitute": "ana", "from": "2024-02-10",
                       "to": "2024-02-01"}]})");
  ASSERT_FALSE(bad);
  const std::string m = bad.status().message();
  for (const char* expected : {"units[1]: id 'gj' is repeated", "roles[0]: id 'Abogado' must match",
                               "users[0]: unknown unit 'nope'", "unknown role \"ghost\"",
                               "cannot substitute for themselves", "\"to\" is before \"from\""}) {
    EXPECT_NE(m.find(expected), std::string::npos) << expected << "\n" << m;
  }
  EXPECT_EQ(parseDirectory("[1]").status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tramite::runtime
