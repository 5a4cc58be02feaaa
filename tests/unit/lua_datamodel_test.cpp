#include "tramite/scxml/lua_datamodel.h"

#include <gtest/gtest.h>

#include <chrono>

#include "test_util.h"

namespace tramite::scxml {
namespace {

using testing::doc;

class LuaSandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    chart_ = testing::mustParse(doc("<state id='s'/>", "lua"));
    dm_ = std::make_unique<LuaDataModel>(chart_, runtime_);
    ASSERT_TRUE(dm_->setSystemVariables(systemVariablesFor(*chart_, "sess-1")));
  }
  Expr expr(const std::string& text) {
    Expr e;
    e.text = text;
    e.id = next_id_++;  // distinct cache slots per expression
    return e;
  }
  std::shared_ptr<LuaRuntime> runtime_ = std::make_shared<LuaRuntime>();
  ChartPtr chart_;
  std::unique_ptr<LuaDataModel> dm_;
  std::uint32_t next_id_ = 1000;
};

TEST_F(LuaSandbox, DangerousGlobalsAreAbsent) {
  for (const char* name : {"io", "os", "package", "require", "load", "loadstring", "dofile",
                           "loadfile", "debug", "coroutine", "collectgarbage", "rawset"}) {
    auto v = dm_->evaluate(expr(std::string("type(") + name + ")"));
    ASSERT_TRUE(v) << v.status().toString();
    EXPECT_EQ(v->asString(), "nil") << name;
  }
  EXPECT_EQ(dm_->evaluate(expr("string.upper('ok')"))->asString(), "OK");
  EXPECT_EQ(dm_->evaluate(expr("math.max(1, 7)"))->asInt(), 7);
}

TEST_F(LuaSandbox, RunawayLoopsHitTheInstructionBudget) {
  auto start = std::chrono::steady_clock::now();
  Status st = dm_->runScript(expr("while true do end"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(st.message().find("instruction budget"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // The runtime stays usable afterwards.
  EXPECT_EQ(dm_->evaluate(expr("1 + 1"))->asInt(), 2);
}

// Issue 26, item 13: the globals every document on a thread shares are read-only, so one
// definition cannot change another's tonumber.
TEST_F(LuaSandbox, SharedGlobalsAreReadOnly) {
  for (const char* script : {"_G.tonumber = function() return 42 end", "_G['string'] = {}"}) {
    EXPECT_FALSE(dm_->runScript(expr(script))) << script;
  }
  auto other_chart = testing::mustParse(doc("<state id='t'/>", "lua"));
  LuaDataModel other(other_chart, runtime_);
  ASSERT_TRUE(other.setSystemVariables(systemVariablesFor(*other_chart, "sess-2")));
  EXPECT_EQ(other.evaluate(expr("tonumber('5')"))->asInt(), 5);
  EXPECT_EQ(other.evaluate(expr("type(string.upper)"))->asString(), "function");
  // A session's own variables are still its own.
  ASSERT_TRUE(dm_->runScript(expr("mine = 1")));
  EXPECT_EQ(other.evaluate(expr("mine"))->isNull(), true);
}

// Issue 26, item 13: pattern matching runs in C, out of the count hook's reach; its worst
// case is charged to the budget first, so a pathological pattern fails at once.
TEST_F(LuaSandbox, PatternsAreBoundedToo) {
  for (const char* e : {"string.find(string.rep('a', 200), '.-.-.-.-b')",
                        "(string.rep('a', 200)):match('.-.-.-.-b')",
                        "string.gsub(string.rep('a', 300), '.-.-.-b', '')"}) {
    auto v = dm_->evaluate(expr(e));
    ASSERT_FALSE(v) << e;
    EXPECT_EQ(v.status().code(), ErrorCode::kResourceExhausted) << e;
    EXPECT_NE(v.status().message().find("pattern"), std::string::npos) << v.status().message();
  }
  EXPECT_EQ(dm_->evaluate(expr("('  hola  '):match('^%s*(.-)%s*$')"))->asString(), "hola");
  EXPECT_EQ(dm_->evaluate(expr("string.find(string.rep('a', 100000), 'a.b', 1, true)"))->isNull(),
            true);
  EXPECT_EQ(dm_->evaluate(expr("select(2, string.gsub('a-b-c', '%-', '+'))"))->asInt(), 2);
}

TEST_F(LuaSandbox, PcallCannotSwallowTheBudget) {
  Status st = dm_->runScript(expr("while true do pcall(function() while true do end end) end"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::kResourceExhausted);
}

TEST_F(LuaSandbox, MemoryBombsHitTheCap) {
  Status st =
      dm_->runScript(expr("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1024) .. i end"));
  ASSERT_FALSE(st);
  Status rep = dm_->runScript(expr("local s = string.rep('x', 2^31)"));
  ASSERT_FALSE(rep);
  EXPECT_LT(runtime_->memoryInUse(), 200u * 1024 * 1024);
  EXPECT_EQ(dm_->evaluate(expr("'still' .. ' alive'"))->asString(), "still alive");
}

TEST_F(LuaSandbox, LibrariesAndStringMetatableAreReadOnly) {
  EXPECT_FALSE(dm_->runScript(expr("string.upper = nil")));
  EXPECT_FALSE(dm_->runScript(expr("math.pi = 3")));
  auto meta = dm_->evaluate(expr("getmetatable('')"));
  ASSERT_TRUE(meta);
  EXPECT_EQ(*meta, json::Value(false));
  EXPECT_FALSE(dm_->runScript(expr("setmetatable(string, {})")));
}

TEST_F(LuaSandbox, SystemVariablesAreReadOnly) {
  EXPECT_FALSE(dm_->runScript(expr("_sessionid = 'x'")));
  EXPECT_FALSE(dm_->assign(expr("_event"), expr("1")));
  EXPECT_EQ(dm_->evaluate(expr("_sessionid"))->asString(), "sess-1");
}

// _ioprocessors is built only for charts with an expression that can read it: by its name,
// or through _ENV by any name.
TEST_F(LuaSandbox, IoProcessorsAreBoundWhereSomeExpressionCanReadThem) {
  const auto bound = [&](const std::string& body) {
    ChartPtr chart = testing::mustParse(doc(body, "lua"));
    SystemVariables vars = systemVariablesFor(*chart, "sess-3");
    LuaDataModel dm(chart, runtime_);
    EXPECT_TRUE(dm.setSystemVariables(vars));
    auto location =
        dm.evaluate(expr("_ENV['_io' .. 'processors'] and "
                         "_ENV['_io' .. 'processors'].scxml.location"));
    EXPECT_TRUE(location) << location.status().toString();
    return location && location->isString() ? location->asString() : std::string("unbound");
  };
  EXPECT_EQ(bound("<state id='s'/>"), "unbound");
  EXPECT_EQ(bound("<state id='s'><onentry><log expr='_ioprocessors'/></onentry></state>"),
            "#_scxml_sess-3");
  EXPECT_EQ(bound("<state id='s'><transition cond=\"_ENV['x']\" target='s'/></state>"),
            "#_scxml_sess-3");
}

TEST_F(LuaSandbox, SessionsAreIsolated) {
  LuaDataModel other(chart_, runtime_);
  ASSERT_TRUE(other.setSystemVariables(systemVariablesFor(*chart_, "sess-2")));
  ASSERT_TRUE(dm_->runScript(expr("secret = 42; function reveal() return secret end")));
  auto leaked = other.evaluate(expr("secret"));
  ASSERT_TRUE(leaked);
  EXPECT_TRUE(leaked->isNull());
  ASSERT_TRUE(other.runScript(expr("secret = 7")));
  // A closure keeps the environment of the session that created it.
  EXPECT_EQ(dm_->evaluate(expr("reveal()"))->asInt(), 42);
  EXPECT_EQ(other.evaluate(expr("_sessionid"))->asString(), "sess-2");
}

TEST_F(LuaSandbox, InPredicateUsesTheCurrentConfiguration) {
  struct OnlyS : StateQuery {
    bool isActive(std::string_view id) const override { return id == "s"; }
  } query;
  dm_->setStateQuery(&query);
  EXPECT_TRUE(*dm_->evaluateCondition(expr("In('s')")));
  EXPECT_FALSE(*dm_->evaluateCondition(expr("In('t')")));
  dm_->setStateQuery(nullptr);
}

TEST_F(LuaSandbox, SnapshotRoundTripsData) {
  ASSERT_TRUE(dm_->runScript(
      expr("amount = 1500.5; items = {'a', 'b'}; meta = {unit = 'UACI'}; f = function() end")));
  json::Value snap = dm_->snapshot();
  EXPECT_EQ(json::dump(snap), R"({"amount":1500.5,"items":["a","b"],"meta":{"unit":"UACI"}})");
  LuaDataModel restored(chart_, runtime_);
  ASSERT_TRUE(restored.restore(snap));
  EXPECT_EQ(json::dump(restored.snapshot()), json::dump(snap));
}

TEST_F(LuaSandbox, ForeachIteratesACopy) {
  ASSERT_TRUE(dm_->runScript(expr("arr = {1, 2, 3}; sum = 0")));
  int calls = 0;
  Status st = dm_->forEach(expr("arr"), expr("item"), expr("i"), [&] {
    ++calls;
    EXPECT_TRUE(dm_->runScript(expr("sum = sum + item * i; arr[#arr + 1] = 0")));
    return true;
  });
  ASSERT_TRUE(st);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(dm_->evaluate(expr("sum"))->asInt(), 14);
  EXPECT_FALSE(dm_->forEach(expr("42"), expr("item"), Expr{}, [] { return true; }));
}

}  // namespace
}  // namespace tramite::scxml
