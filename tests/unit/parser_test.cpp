#include "tramite/scxml/parser.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"
#include "tramite/workflow/vocabulary.h"

namespace tramite::scxml {
namespace {

using testing::doc;

ParseResult parse(const std::string& xml, const ParseOptions& options = {}) {
  return parseString(xml, "doc.scxml", ".", options);
}

bool hasError(const ParseResult& r, int line, const std::string& fragment) {
  for (const auto& d : r.errors) {
    if (d.line == line && d.message.find(fragment) != std::string::npos) return true;
  }
  return false;
}

TEST(Parser, BuildsTheStateTreeInDocumentOrder) {
  auto r = parse(doc(R"(
    <state id="a" initial="a2">
      <state id="a1"/>
      <state id="a2"><transition event="go.* done" target="p"/></state>
      <history id="h" type="deep"><transition target="a1"/></history>
    </state>
    <parallel id="p"><state id="r1"/><state id="r2"/></parallel>
    <final id="end"/>)"));
  ASSERT_TRUE(r.ok()) << r.errorText();
  const Chart& c = *r.chart;
  ASSERT_EQ(c.stateCount(), 9u);  // root + 8
  EXPECT_EQ(c.state(c.find("a")).kind, StateKind::kCompound);
  EXPECT_EQ(c.state(c.find("p")).kind, StateKind::kParallel);
  EXPECT_EQ(c.state(c.find("h")).history_type, HistoryType::kDeep);
  EXPECT_EQ(c.state(c.find("end")).kind, StateKind::kFinal);
  EXPECT_TRUE(c.isDescendant(c.find("a2"), c.find("a")));
  EXPECT_FALSE(c.isDescendant(c.find("r1"), c.find("a")));
  const Transition& t = c.transition(c.state(c.find("a2")).transitions.at(0));
  EXPECT_EQ(t.events, (std::vector<std::string>{"go", "done"}));
  EXPECT_EQ(c.state(t.targets.at(0)).id, "p");
}

TEST(Parser, ReportsEveryProblemWithItsLine) {
  auto r = parse(
      "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\" initial=\"nowhere\">\n"
      "  <state id=\"a\">\n"
      "    <transition event=\"e\" target=\"missing\"/>\n"
      "  </state>\n"
      "  <state id=\"a\"/>\n"
      "  <state id=\"b\" initial=\"a\"><state id=\"b1\"/>\n"
      "    <history id=\"h\"><transition target=\"a\"/></history>\n"
      "  </state>\n"
      "  <state id=\"c\" initial=\"x\"/>\n"
      "  <bogus/>\n"
      "</scxml>\n");
  ASSERT_FALSE(r.ok());
  const std::string all = r.errorText();
  EXPECT_TRUE(hasError(r, 1, "initial state 'nowhere' is not a state")) << all;
  EXPECT_TRUE(hasError(r, 3, "transition target 'missing'")) << all;
  EXPECT_TRUE(hasError(r, 5, "duplicate state id 'a'")) << all;
  EXPECT_TRUE(hasError(r, 6, "'a' is not a descendant of 'b'")) << all;
  EXPECT_TRUE(hasError(r, 7, "history 'h' has a bad default")) << all;
  EXPECT_TRUE(hasError(r, 9, "no child states")) << all;
  EXPECT_TRUE(hasError(r, 10, "<bogus> is not allowed")) << all;
  EXPECT_EQ(r.errors.size(), 7u) << all;
  EXPECT_NE(all.find("doc.scxml:3: transition target 'missing'"), std::string::npos) << all;
  // In document (line) order.
  for (std::size_t i = 1; i < r.errors.size(); ++i) {
    EXPECT_LE(r.errors[i - 1].line, r.errors[i].line);
  }
}

TEST(Parser, RejectsConflictingAttributesAndBadValues) {
  auto r = parse(doc(R"(<state id="s"><onentry>
      <send event="a" eventexpr="'b'" delay="soon"/>
      <send event="x" target="#_internal" delay="1s"/>
    </onentry><transition type="sideways" target="s"/></state>)",
                     "lua"));
  ASSERT_FALSE(r.ok());
  std::string all = r.errorText();
  EXPECT_NE(all.find("both 'event' and 'eventexpr'"), std::string::npos) << all;
  EXPECT_NE(all.find("invalid delay 'soon'"), std::string::npos) << all;
  EXPECT_NE(all.find("#_internal may not have a delay"), std::string::npos) << all;
  EXPECT_NE(all.find("transition type"), std::string::npos) << all;
}

TEST(Parser, NullDatamodelAcceptsOnlyInPredicates) {
  EXPECT_TRUE(
      parse(doc(R"X(<state id="s"><transition cond="In('s')" target="s"/></state>)X")).ok());
  auto r = parse(doc(R"(<state id="s"><transition cond="x > 1" target="s"/></state>)"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errorText().find("only In(stateId)"), std::string::npos);
}

TEST(Parser, RejectsUnsupportedDatamodelAndNonScxmlRoots) {
  EXPECT_NE(parse(doc("<state id='s'/>", "ecmascript")).errorText().find("not supported"),
            std::string::npos);
  auto r = parse("<html><body/></html>");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errorText().find("root element must be <scxml>"), std::string::npos);
  auto no_ns = parse("<scxml version='1.0'><state id='s'/></scxml>");
  EXPECT_FALSE(no_ns.ok());
}

TEST(Parser, MalformedXmlNamesTheLine) {
  auto r = parse("<scxml xmlns=\"http://www.w3.org/2005/07/scxml\">\n<state id='a'>\n</scxml>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors.at(0).line, 3);
  EXPECT_NE(r.errors.at(0).message.find("malformed XML"), std::string::npos);
}

TEST(Parser, RefusesExternalEntities) {
  auto r = parse(
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE scxml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
      "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\"><state id=\"&xxe;\"/></scxml>");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errorText().find("DOCTYPE declarations are not allowed"), std::string::npos)
      << r.errorText();
}

TEST(Parser, RefusesExternalDtdAndNetwork) {
  auto r = parse(
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE scxml SYSTEM \"http://127.0.0.1:1/evil.dtd\">\n"
      "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\"><state id=\"a\"/></scxml>");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errorText().find("DOCTYPE"), std::string::npos);
}

TEST(Parser, RefusesBillionLaughs) {
  std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    xml += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k)
      xml += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    xml += "\">\n";
  }
  xml += "]>\n<scxml xmlns=\"http://www.w3.org/2005/07/scxml\"><state id=\"&lol9;\"/></scxml>";
  auto r = parse(xml);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errorText().find("DOCTYPE declarations are not allowed"), std::string::npos);
}

TEST(Parser, RefusesHugeAttributeValues) {
  std::string big(10 * 1024 * 1024, 'a');
  auto r = parse(doc("<state id=\"" + big + "\"/>"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errorText().find("the limit is"), std::string::npos);
  // Even with the size limit lifted, libxml2's own attribute limit applies.
  ParseOptions lifted;
  lifted.max_bytes = 64 * 1024 * 1024;
  auto r2 = parse(doc("<state id=\"" + big + "\"/>"), lifted);
  EXPECT_FALSE(r2.ok());
}

// depth <state> elements, each inside the previous one.
std::string nestedStates(int depth) {
  std::string open;
  std::string close;
  for (int i = 0; i < depth; ++i) {
    open += "<state id=\"s" + std::to_string(i) + "\">";
    close += "</state>";
  }
  return open + close;
}

TEST(Parser, RefusesDeepNesting) {
  auto r = parse(doc(nestedStates(10000)));
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.errors.empty());
  // Moderately deep documents beyond our own limit name it.
  auto r2 = parse(doc(nestedStates(100)));
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.errorText().find("nested deeper than 64"), std::string::npos) << r2.errorText();
}

TEST(Parser, RefusesInvalidUtf8) {
  auto r = parse(doc("<state id=\"caf\xe9\"/>"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errorText().find("malformed XML"), std::string::npos);
}

TEST(Parser, KeepsForeignNamespaceElements) {
  auto r = parse(
      "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" xmlns:w=\"urn:example:extension\" "
      "version=\"1.0\"><state id=\"review\">\n"
      "<w:task name=\"review\" title=\"Revisar\"><w:candidate role=\"legal\"/></w:task>\n"
      "<onentry><w:notify to=\"unit\"/></onentry></state></scxml>");
  ASSERT_TRUE(r.ok()) << r.errorText();
  const State& s = r.chart->state(r.chart->find("review"));
  ASSERT_EQ(s.extensions.size(), 1u);
  EXPECT_EQ(s.extensions[0].ns, "urn:example:extension");
  EXPECT_EQ(s.extensions[0].name, "task");
  EXPECT_EQ(*s.extensions[0].attribute("title"), "Revisar");
  EXPECT_EQ(s.extensions[0].children.at(0).name, "candidate");
  EXPECT_EQ(s.extensions[0].line, 2);
  ASSERT_EQ(s.onentry.at(0).size(), 1u);
  EXPECT_TRUE(std::holds_alternative<ForeignNode>(s.onentry[0][0].node));
}

TEST(Parser, ScriptSrcMustBeLocalAndReadable) {
  auto r = parse(doc("<script src=\"http://127.0.0.1:1/x.lua\"/><state id=\"s\"/>", "lua"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errorText().find("only local file references"), std::string::npos);
  auto missing = parse(doc("<script src=\"no-such-file.lua\"/><state id=\"s\"/>", "lua"));
  EXPECT_FALSE(missing.ok());
}

TEST(Parser, ParseFileReportsUnreadableFiles) {
  auto r = parseFile("/nonexistent/x.scxml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors.at(0).file, "/nonexistent/x.scxml");
}

TEST(Parser, ShippedWorkflowsAreValid) {
  for (const char* f : {"workflows/approval-chain.scxml", "workflows/approval-chain-lua.scxml"}) {
    auto r = parseFile(testing::sourcePath(f), workflow::parseOptions());
    EXPECT_TRUE(r.ok()) << r.errorText();
  }
}

}  // namespace
}  // namespace tramite::scxml
