#include "tramite/scxml/runner.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace tramite::scxml {
namespace {

using testing::doc;
using Config = std::vector<std::string>;

TEST(Runner, DelayedSendsFireOnTheVirtualClockOnly) {
  auto chart = testing::mustParse(doc(R"(<state id="waiting">
      <onentry><send event="deadline" delay="3d"/><send id="r" event="reminder" delay="1d"/></onentry>
      <transition event="reminder" target="reminded"/></state>
    <state id="reminded"><transition event="deadline" target="late"/></state>
    <final id="late"/>)"));
  Runner runner;
  auto id = runner.start(chart);
  ASSERT_TRUE(id);
  ASSERT_TRUE(runner.runUntilIdle());
  EXPECT_EQ(runner.configuration(*id), Config{"waiting"});
  ASSERT_TRUE(runner.advance(86'400'000 - 1));
  EXPECT_EQ(runner.configuration(*id), Config{"waiting"});
  ASSERT_TRUE(runner.advance(1));
  EXPECT_EQ(runner.configuration(*id), Config{"reminded"});
  auto advanced = runner.advanceToNextTimer();
  ASSERT_TRUE(advanced);
  EXPECT_TRUE(*advanced);
  EXPECT_EQ(runner.now(), 3 * 86'400'000LL);
  EXPECT_TRUE(runner.isFinished(*id));
  EXPECT_EQ(runner.finalState(*id), "late");
  EXPECT_FALSE(*runner.advanceToNextTimer());
}

TEST(Runner, CancelledDelayedSendsNeverFire) {
  auto chart = testing::mustParse(doc(R"(<state id="a">
      <onentry><send id="t" event="timeout" delay="1s"/><cancel sendid="t"/></onentry>
      <transition event="timeout" target="b"/></state><state id="b"/>)"));
  Runner runner;
  auto id = runner.start(chart);
  ASSERT_TRUE(runner.runUntilIdle());
  EXPECT_FALSE(runner.hasPendingTimers());
  ASSERT_TRUE(runner.advance(10'000));
  EXPECT_EQ(runner.configuration(*id), Config{"a"});
}

TEST(Runner, InvokedChildrenTalkToTheirParentAndReturnDoneData) {
  auto chart = testing::mustParse(doc(R"(<state id="a">
      <invoke id="legal" type="scxml"><param name="amount" expr="1200"/><content>
        <scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="lua">
          <datamodel><data id="amount" expr="0"/></datamodel>
          <state id="review"><onentry><send target="#_parent" event="opinion.started"/></onentry>
            <transition event="finish" target="done"/></state>
          <final id="done"><donedata><param name="approved" expr="amount == 1200"/></donedata></final>
        </scxml></content></invoke>
      <transition event="opinion.started" target="b"/></state>
    <state id="b"><invoke id="legal2" src="file:child.scxml"/>
      <transition event="done.invoke.legal" target="c"/></state>
    <state id="c"/>)",
                                      "lua"));
  Runner runner;
  auto id = runner.start(chart);
  ASSERT_TRUE(id);
  ASSERT_TRUE(runner.runUntilIdle());
  // The child is cancelled when "a" is exited; "b" tries to invoke a missing file.
  EXPECT_EQ(runner.configuration(*id), Config{"b"});
  EXPECT_EQ(runner.session(*id + ".legal"), nullptr);
}

TEST(Runner, LivelocksAcrossSessionsAreReported) {
  auto chart = testing::mustParse(doc(R"(<state id="a"><onentry><send event="ping"/></onentry>
      <transition event="ping" target="a"/></state>)"));
  Runner::Options options;
  options.max_events_per_run = 1000;
  Runner runner(options);
  auto id = runner.start(chart);
  ASSERT_TRUE(id);
  Status st = runner.runUntilIdle();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace tramite::scxml
