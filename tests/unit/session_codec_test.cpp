#include "tramite/scxml/session_codec.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace tramite::scxml {
namespace {

struct Live {
  explicit Live(ChartPtr c) : chart(std::move(c)), interpreter(chart) {
    dm = std::move(createDataModel(chart)).value();
  }
  ChartPtr chart;
  Interpreter interpreter;
  std::unique_ptr<DataModel> dm;
  Session session;
};

std::vector<std::string> run(Live& live, const std::vector<std::string>& events) {
  std::vector<std::string> configs;
  std::vector<Action> actions;
  for (const auto& e : events) {
    EXPECT_TRUE(live.interpreter.step(live.session, *live.dm, Event::external(e), actions));
    auto c = live.interpreter.activeAtomicStates(live.session);
    configs.push_back(c.empty() ? "" : c.front());
  }
  return configs;
}

void checkResumesIdentically(const std::string& workflow, const json::Value* data) {
  auto parsed = parseFile(testing::sourcePath(workflow));
  ASSERT_TRUE(parsed.ok()) << parsed.errorText();
  const std::vector<std::string> first = {"submit", "approve", "approve", "reject", "submit"};
  const std::vector<std::string> rest = {"approve", "approve", "approve", "sign"};

  Live straight(parsed.chart);
  straight.session.id = "exp-1";
  std::vector<Action> actions;
  ASSERT_TRUE(straight.interpreter.start(straight.session, *straight.dm, actions, data));
  run(straight, first);
  auto expected = run(straight, rest);

  Live before(parsed.chart);
  before.session.id = "exp-1";
  ASSERT_TRUE(before.interpreter.start(before.session, *before.dm, actions, data));
  run(before, first);
  std::string saved = encodeSession(*parsed.chart, before.session, *before.dm);

  // Re-parse: a restore must not depend on the same Chart object.
  auto reparsed = parseFile(testing::sourcePath(workflow));
  Live after(reparsed.chart);
  auto restored = decodeSession(*reparsed.chart, saved, *after.dm);
  ASSERT_TRUE(restored) << restored.status().toString();
  after.session = std::move(restored).value();
  EXPECT_EQ(after.interpreter.activeAtomicStates(after.session),
            before.interpreter.activeAtomicStates(before.session));
  EXPECT_EQ(run(after, rest), expected);
  EXPECT_EQ(encodeSession(*reparsed.chart, after.session, *after.dm),
            encodeSession(*parsed.chart, straight.session, *straight.dm));
}

TEST(SessionCodec, NullSessionResumesIdentically) {
  checkResumesIdentically("workflows/approval-chain.scxml", nullptr);
}

TEST(SessionCodec, LuaSessionResumesIdentically) {
  json::Value data(json::Object{{"amount", 25000}});
  checkResumesIdentically("workflows/approval-chain-lua.scxml", &data);
}

TEST(SessionCodec, IdleApprovalChainSessionIsUnder200Bytes) {
  for (const char* wf : {"workflows/approval-chain.scxml", "workflows/approval-chain-lua.scxml"}) {
    auto parsed = parseFile(testing::sourcePath(wf));
    Live live(parsed.chart);
    live.session.id = "7f3c2a9e-0b1d-4c55-9e2a-3d4f5a6b7c8d";  // a UUID-sized id
    std::vector<Action> actions;
    json::Value data(json::Object{{"amount", 25000}});
    ASSERT_TRUE(live.interpreter.start(live.session, *live.dm, actions, &data));
    run(live, {"submit", "approve"});
    std::string saved = encodeSession(*parsed.chart, live.session, *live.dm);
    EXPECT_LT(saved.size(), 200u) << saved;
  }
}

TEST(SessionCodec, RejectsOtherVersionsAndUnknownStates) {
  auto chart = testing::mustParse(testing::doc("<state id='a'/>"));
  Live live(chart);
  EXPECT_FALSE(decodeSession(*chart, R"({"v":2,"id":"x","status":"running"})", *live.dm));
  auto unknown = decodeSession(
      *chart, R"({"v":1,"id":"x","status":"running","configuration":["zz"],"next_id":1})",
      *live.dm);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.status().message().find("unknown state 'zz'"), std::string::npos);
  EXPECT_FALSE(decodeSession(*chart, "not json", *live.dm));
  EXPECT_TRUE(decodeSession(
      *chart, R"({"v":1,"id":"x","status":"running","configuration":["a"],"next_id":1})",
      *live.dm));
}

}  // namespace
}  // namespace tramite::scxml
