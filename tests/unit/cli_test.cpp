#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "commands.h"
#include "files.h"
#include "test_util.h"
#include "tramite/json.h"

namespace tramite::cli {
namespace {

struct Output {
  int code;
  std::string out;
  std::string err;
  std::vector<json::Value> lines() const {
    std::vector<json::Value> v;
    std::stringstream ss(out);
    std::string line;
    while (std::getline(ss, line)) {
      auto parsed = json::parse(line);
      EXPECT_TRUE(parsed) << line;
      if (parsed) v.push_back(std::move(parsed).value());
    }
    return v;
  }
};

Output run(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = runMain(args, out, err);
  return {code, out.str(), err.str()};
}

// A file in this process's scratch directory, removed at exit.
std::string writeTemp(const std::string& name, const std::string& content) {
  std::string path = tramite::testing::processTempDir().file(name);
  tramite::testing::writeBytes(path, content);
  return path;
}

std::string configOf(const json::Value& line) {
  std::string s;
  for (const auto& c : line.find("configuration")->asArray())
    s += (s.empty() ? "" : ",") + c.asString();
  return s;
}

const std::string kChain = testing::sourcePath("workflows/approval-chain.scxml");
const std::string kChainLua = testing::sourcePath("workflows/approval-chain-lua.scxml");

// Issue 26, item 24: help lists every command, verify-bundle among them.
TEST(Cli, HelpListsEveryCommand) {
  Output help = run({"help"});
  EXPECT_EQ(help.code, 0);
  for (const char* command : {"validate", "simulate", "calendar due", "audit verify ",
                              "audit checkpoint", "audit keygen", "audit verify-bundle", "serve"}) {
    EXPECT_NE((help.out + help.err).find(command), std::string::npos) << command;
  }
}

TEST(Cli, ValidateAcceptsGoodDocuments) {
  Output o = run({"validate", kChain, kChainLua});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "2 documents valid\n");
}

TEST(Cli, ValidateListsEveryProblemAsFileLineMessage) {
  std::string bad = writeTemp("bad.scxml",
                              "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\">\n"
                              "<state id=\"a\"><transition target=\"b\"/></state>\n"
                              "<state id=\"a\"/>\n</scxml>\n");
  Output o = run({"validate", kChain, bad});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find(bad + ":2: transition target 'b' is not a state"), std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find(bad + ":3: duplicate state id 'a'"), std::string::npos) << o.err;
}

TEST(Cli, SimulatePrintsOneLinePerItem) {
  Output o = run({"simulate", kChainLua, "--data", R"({"amount": 25000})", "--events",
                  "submit,approve,+2h,approve,approve,sign"});
  ASSERT_EQ(o.code, 0) << o.err;
  auto lines = o.lines();
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_TRUE(lines[0].find("event")->isNull());
  EXPECT_EQ(configOf(lines[0]), "draft");
  EXPECT_EQ(lines[1].find("event")->asString(), "submit");
  EXPECT_EQ(configOf(lines[2]), "budget_review");
  EXPECT_EQ(lines[3].find("event")->asString(), "+2h");
  EXPECT_EQ(configOf(lines[3]), "budget_review");
  EXPECT_EQ(configOf(lines[6]), "signed");
  EXPECT_TRUE(lines[6].find("finished")->asBool());
  EXPECT_FALSE(lines[5].find("finished")->asBool());
}

TEST(Cli, SimulateGuardsHoldWithoutData) {
  Output o = run({"simulate", kChainLua, "--events", "submit"});
  ASSERT_EQ(o.code, 0);
  EXPECT_EQ(configOf(o.lines().at(1)), "draft");
}

TEST(Cli, SimulateReadsAnEventsFileAndFiresTimers) {
  std::string doc = writeTemp("timer.scxml", R"(<scxml xmlns="http://www.w3.org/2005/07/scxml"
      version="1.0" datamodel="lua"><state id="open">
      <onentry><send event="expire" delay="10s"/></onentry>
      <transition event="close" cond="_event.data.ok" target="closed"/>
      <transition event="expire" target="expired"/></state>
      <final id="closed"/><final id="expired"/></scxml>)");
  std::string events = writeTemp("events.jsonl",
                                 "{\"name\": \"close\", \"data\": {\"ok\": false}}\n"
                                 "{\"advance\": \"9s\"}\n\n{\"advance\": \"1s\"}\n");
  Output o = run({"simulate", doc, "--events-file", events});
  ASSERT_EQ(o.code, 0) << o.err;
  auto lines = o.lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(configOf(lines[1]), "open");
  EXPECT_EQ(configOf(lines[2]), "open");
  EXPECT_EQ(configOf(lines[3]), "expired");

  // Without items, time runs to the next timers until the document finishes.
  Output auto_run = run({"simulate", doc});
  ASSERT_EQ(auto_run.code, 0);
  auto auto_lines = auto_run.lines();
  ASSERT_EQ(auto_lines.size(), 2u);
  EXPECT_EQ(configOf(auto_lines[1]), "expired");
  EXPECT_EQ(auto_lines[1].find("event")->asString(), "+10000ms");
}

TEST(Cli, SimulateRejectsBadInputClearly) {
  EXPECT_EQ(run({"simulate", kChain, "--events", "submit,+soon"}).code, 2);
  EXPECT_EQ(run({"simulate", kChain, "--events", "submit,,sign"}).code, 2);
  EXPECT_EQ(run({"simulate", kChain, "--data", "[1]"}).code, 2);
  EXPECT_EQ(run({"simulate", kChain, "--bogus"}).code, 2);
  std::string events = writeTemp("bad.jsonl", "{\"name\": \"a\", \"extra\": 1}\n");
  Output o = run({"simulate", kChain, "--events-file", events});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find(events + ":1: unknown member 'extra'"), std::string::npos) << o.err;
  EXPECT_EQ(run({"simulate", "/nonexistent.scxml"}).code, 1);
  EXPECT_EQ(run({"frobnicate"}).code, 2);
}

}  // namespace
}  // namespace tramite::cli
