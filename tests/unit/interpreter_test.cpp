#include "tramite/scxml/interpreter.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "tramite/scxml/lua_datamodel.h"
#include "tramite/scxml/null_datamodel.h"

namespace tramite::scxml {
namespace {

using testing::doc;
using testing::mustParse;

struct Harness {
  explicit Harness(const std::string& xml) : chart(mustParse(xml)), interpreter(chart) {
    auto created = createDataModel(chart);
    EXPECT_TRUE(created);
    dm = std::move(created).value();
    session.id = "t1";
  }
  Status start(const json::Value* data = nullptr) {
    actions.clear();
    return interpreter.start(session, *dm, actions, data);
  }
  Status send(const std::string& name, json::Value data = {}) {
    actions.clear();
    return interpreter.step(session, *dm, Event::external(name, std::move(data)), actions);
  }
  std::vector<std::string> config() const { return interpreter.activeAtomicStates(session); }
  template <typename T>
  std::vector<T> actionsOf() const {
    std::vector<T> out;
    for (const auto& a : actions) {
      if (auto* t = std::get_if<T>(&a)) out.push_back(*t);
    }
    return out;
  }
  ChartPtr chart;
  Interpreter interpreter;
  std::unique_ptr<DataModel> dm;
  Session session;
  std::vector<Action> actions;
};

using Config = std::vector<std::string>;

TEST(Interpreter, WalksTheApprovalChain) {
  auto parsed = parseFile(testing::sourcePath("workflows/approval-chain.scxml"));
  ASSERT_TRUE(parsed.ok());
  Interpreter interp(parsed.chart);
  NullDataModel dm;
  Session s;
  s.id = "exp-2024-001";
  std::vector<Action> actions;
  ASSERT_TRUE(interp.start(s, dm, actions));
  EXPECT_EQ(interp.activeAtomicStates(s), Config{"draft"});
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"submit", "submitted"},     {"approve", "budget_review"}, {"approve", "legal_review"},
      {"reject", "draft"},         {"submit", "submitted"},      {"approve", "budget_review"},
      {"approve", "legal_review"}, {"approve", "approval"},      {"sign", "signed"}};
  for (const auto& [event, state] : steps) {
    ASSERT_TRUE(interp.step(s, dm, Event::external(event), actions));
    EXPECT_EQ(interp.activeAtomicStates(s), Config{state}) << event;
  }
  EXPECT_EQ(s.status, SessionStatus::kFinished);
  ASSERT_FALSE(actions.empty());
  auto* done = std::get_if<FinishedAction>(&actions.back());
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->final_state, "signed");
}

TEST(Interpreter, FunctionalStepLeavesItsInputUntouchedAndIsDeterministic) {
  Harness h(doc(R"(<state id="a"><transition event="go" target="b"/></state>
                   <state id="b"><onentry><send event="later" delay="5s"/></onentry></state>)"));
  ASSERT_TRUE(h.start());
  Session before = h.session;
  StepResult r1 = step(h.chart, before, Event::external("go"), *h.dm);
  StepResult r2 = step(h.chart, before, Event::external("go"), *h.dm);
  EXPECT_TRUE(before.configuration.contains(h.chart->find("a")));
  EXPECT_TRUE(r1.session.configuration.contains(h.chart->find("b")));
  EXPECT_TRUE(r1.session.configuration == r2.session.configuration);
  ASSERT_EQ(r1.actions.size(), 1u);
  ASSERT_EQ(r2.actions.size(), 1u);
  EXPECT_EQ(std::get<SendAction>(r1.actions[0]).sendid, std::get<SendAction>(r2.actions[0]).sendid);
}

TEST(Interpreter, DelayedSendsAndCancelsBecomeActions) {
  Harness h(doc(R"(<state id="a">
      <onentry><send id="reminder" event="remind" delay="2d"/><send event="now"/></onentry>
      <transition event="stop" target="b"><cancel sendid="reminder"/></transition></state>
    <state id="b"/>)"));
  ASSERT_TRUE(h.start());
  auto sends = h.actionsOf<SendAction>();
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].sendid, "reminder");
  EXPECT_EQ(sends[0].delay_ms, 2 * 86'400'000LL);
  EXPECT_EQ(sends[0].target, SendAction::Target::kSelf);
  EXPECT_EQ(sends[1].delay_ms, 0);
  EXPECT_EQ(sends[1].event.origin, "#_scxml_t1");
  ASSERT_TRUE(h.send("stop"));
  auto cancels = h.actionsOf<CancelSendAction>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].sendid, "reminder");
}

TEST(Interpreter, ParallelRegionsRaiseDoneState) {
  Harness h(doc(R"(<parallel id="p">
      <state id="r1"><state id="r1a"><transition event="x" target="r1done"/></state><final id="r1done"/></state>
      <state id="r2"><state id="r2a"><transition event="y" target="r2done"/></state><final id="r2done"/></state>
      <transition event="done.state.p" target="end"/>
    </parallel><final id="end"/>)"));
  ASSERT_TRUE(h.start());
  EXPECT_EQ(h.config(), (Config{"r1a", "r2a"}));
  ASSERT_TRUE(h.send("x"));
  EXPECT_EQ(h.config(), (Config{"r1done", "r2a"}));
  ASSERT_TRUE(h.send("y"));
  EXPECT_EQ(h.config(), Config{"end"});
  EXPECT_EQ(h.session.status, SessionStatus::kFinished);
}

TEST(Interpreter, DeepHistoryRestoresTheLastConfiguration) {
  Harness h(doc(R"(<state id="work" initial="w1">
      <history id="hist" type="deep"><transition target="w1"/></history>
      <state id="w1" initial="w1a"><state id="w1a"><transition event="next" target="w1b"/></state>
        <state id="w1b"/></state>
      <transition event="pause" target="paused"/></state>
    <state id="paused"><transition event="resume" target="hist"/></state>)"));
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.send("next"));
  ASSERT_TRUE(h.send("pause"));
  EXPECT_EQ(h.config(), Config{"paused"});
  ASSERT_TRUE(h.send("resume"));
  EXPECT_EQ(h.config(), Config{"w1b"});
}

TEST(Interpreter, NullDatamodelInPredicateTakesBareAndQuotedIds) {
  Harness h(doc(R"X(<parallel id="p">
      <state id="s1"><transition event="go" cond="In(s2b)" target="s1b" type="internal"/>
        <state id="s1a"/>
        <state id="s1b"/></state>
      <state id="s2"><state id="s2a"><transition event="go" cond="In('s1a')" target="s2b"/></state>
        <state id="s2b"/></state></parallel>)X"));
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.send("go"));  // only In('s1a') holds
  EXPECT_EQ(h.config(), (Config{"s1a", "s2b"}));
  ASSERT_TRUE(h.send("go"));  // now In(s2b) holds
  EXPECT_EQ(h.config(), (Config{"s1b", "s2b"}));
}

TEST(Interpreter, EventDescriptorsMatchPrefixesAndWildcards) {
  Harness h(doc(R"(<state id="a"><transition event="task.review.*" target="b"/></state>
    <state id="b"><transition event="*" target="c"/></state><state id="c"/>)"));
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.send("task.reviewer"));  // not a token prefix: no match
  EXPECT_EQ(h.config(), Config{"a"});
  ASSERT_TRUE(h.send("task.review.done"));
  EXPECT_EQ(h.config(), Config{"b"});
  ASSERT_TRUE(h.send("anything"));
  EXPECT_EQ(h.config(), Config{"c"});
}

TEST(Interpreter, ExpressionErrorsBecomeErrorExecution) {
  Harness h(doc(R"(<datamodel><data id="x" expr="1"/></datamodel>
    <state id="a"><onentry><assign location="x" expr="nil + 1"/></onentry>
      <transition event="error.execution" cond="_event.data.message ~= nil" target="b"/></state>
    <state id="b"/>)",
                "lua"));
  ASSERT_TRUE(h.start());
  EXPECT_EQ(h.config(), Config{"b"});
}

TEST(Interpreter, RunawayEventlessLoopsAreStopped) {
  Harness h(doc(R"(<state id="a"><transition target="b"/></state>
                   <state id="b"><transition target="a"/></state>)"));
  Status st = h.start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::kResourceExhausted);
}

TEST(Interpreter, InitialDataOverridesDeclarationsAndBindsBusinessData) {
  Harness h(doc(R"(<datamodel><data id="amount" expr="0"/></datamodel>
    <state id="a"><transition cond="amount == 500 and expediente == 'EXP-7'" target="b"/></state>
    <state id="b"/>)",
                "lua"));
  json::Value data(json::Object{{"amount", 500}, {"expediente", "EXP-7"}});
  ASSERT_TRUE(h.start(&data));
  EXPECT_EQ(h.config(), Config{"b"});
}

class RecordingExtensions : public ExtensionHandler {
 public:
  Status execute(const XmlElement& e, DataModel&, std::vector<Action>&) override {
    seen.push_back(e.name);
    if (e.name == "fail") return Status(ErrorCode::kFailedPrecondition, "missing document");
    return Status::ok();
  }
  std::vector<std::string> seen;
};

TEST(Interpreter, ForeignExecutableContentGoesToTheExtensionHandler) {
  auto chart = mustParse(
      "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" xmlns:w=\"urn:example:extension\" "
      "version=\"1.0\"><state id=\"a\"><onentry><w:notify/><w:fail/><raise event=\"never\"/>"
      "</onentry><transition event=\"error.execution\" target=\"b\"/>"
      "<transition event=\"never\" target=\"a\"/></state><state id=\"b\"/></scxml>");
  Interpreter interp(chart);
  RecordingExtensions ext;
  interp.setExtensionHandler(&ext);
  NullDataModel dm;
  Session s;
  s.id = "x";
  std::vector<Action> actions;
  ASSERT_TRUE(interp.start(s, dm, actions));
  EXPECT_EQ(ext.seen, (std::vector<std::string>{"notify", "fail"}));
  EXPECT_EQ(interp.activeAtomicStates(s), Config{"b"});
}

TEST(Interpreter, SendTargetsAreCheckedInsideTheStep) {
  // An unreachable session is error.communication; a malformed target error.execution.
  // Either stops the rest of its block (SCXML 4.1).
  Harness h(doc(R"(<state id="a"><onentry>
        <send event="e1" target="#_scxml_nobody"/><raise event="not.reached"/></onentry>
      <transition event="error.communication" target="b"/></state>
    <state id="b"><onentry><send event="e2" target="mailto:x"/></onentry>
      <transition event="error.execution" target="c"/></state>
    <state id="c"><transition event="not.reached" target="a"/></state>)"));
  ASSERT_TRUE(h.start());
  EXPECT_EQ(h.config(), Config{"c"});
}

}  // namespace
}  // namespace tramite::scxml
