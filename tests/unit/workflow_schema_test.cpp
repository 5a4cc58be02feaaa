// The workflow vocabulary (urn:tramite:workflow:1, engine/workflow) through the generic
// parser: the XSD and the cross-attribute rules, reported as file:line like every other
// validation problem.
#include <gtest/gtest.h>

#include "tramite/scxml/parser.h"
#include "tramite/workflow/vocabulary.h"

namespace tramite::scxml {
namespace {

std::string wrap(const std::string& body) {
  return R"(<scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:wf="urn:tramite:workflow:1"
       version="1.0" initial="review">
  <state id="review">
)" + body +
         R"(
    <transition event="task.review.done" target="done"/>
  </state>
  <final id="done"/>
</scxml>)";
}

const char* kValid =
    R"(    <wf:task name="review" title="Revisar la opinión" roles="jefe-juridico" priority="3">
      <wf:field name="decision" type="choice" required="true">
        <wf:option value="emitir"/><wf:option value="corregir"/>
      </wf:field>
      <wf:field name="comment" type="text"/>
      <wf:outcome name="emitir"/>
      <wf:deadline business-days="5"><wf:on-breach escalate-to="gerente-juridico"/></wf:deadline>
    </wf:task>
    <wf:approval name="visto-bueno" title="Visto bueno" rule="n-of-m" n="2">
      <wf:approver roles="comite"/>
      <wf:exclude who="requester"/>
      <wf:exclude who="submitter" task="review"/>
      <wf:exclude who="approvers"/>
    </wf:approval>
    <wf:deadline calendar-days="30"><wf:on-breach raise="plazo.vencido" notify="cumplimiento"/></wf:deadline>)";

ParseResult parse(const std::string& body) {
  return parseString(wrap(body), "w.scxml", "/nonexistent", workflow::parseOptions());
}

TEST(WorkflowSchema, AcceptsTheVocabulary) {
  ParseResult r = parse(kValid);
  EXPECT_TRUE(r.ok()) << r.errorText();
}

TEST(WorkflowSchema, SchemaErrorsNameTheLine) {
  ParseResult r = parse(R"(    <wf:task title="Sin nombre" roles="abogado"/>
    <wf:approval name="a" title="A" rule="most"><wf:approver roles="x"/></wf:approval>
    <wf:task name="t" title="T" roles="abogado"><wf:field name="f" type="blob"/></wf:task>
    <wf:deadline business-days="0"><wf:on-breach raise="x"/></wf:deadline>)");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 4u) << r.errorText();
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_NE(r.errors[0].message.find("name"), std::string::npos) << r.errors[0].message;
  EXPECT_EQ(r.errors[1].line, 5);
  EXPECT_NE(r.errors[1].message.find("most"), std::string::npos) << r.errors[1].message;
  EXPECT_EQ(r.errors[2].line, 6);
  EXPECT_NE(r.errors[2].message.find("blob"), std::string::npos) << r.errors[2].message;
  EXPECT_EQ(r.errors[3].line, 7);
  EXPECT_EQ(r.errors[0].toString().rfind("w.scxml:4: workflow vocabulary: ", 0), 0u)
      << r.errors[0].toString();
}

// Issue 26: <wf:accepts> declares an external event and who may send it; events the engine
// raises cannot be declared; a field that names a user names the roles that user needs.
TEST(WorkflowSchema, AcceptedEventsAndUserFields) {
  ParseResult ok = parse(R"(    <wf:accepts event="recurso.presentado" roles="analista_compras"/>
    <wf:accepts event="solicitud.desistida" who="requester"/>
    <wf:task name="t" title="T" roles="jefe"><wf:field name="a" type="user" roles="abogado"/></wf:task>)");
  EXPECT_TRUE(ok.ok()) << ok.errorText();
  ParseResult r = parse(R"(    <wf:accepts event="task.t.done" roles="x"/>
    <wf:accepts event="recurso"/>
    <wf:task name="t" title="T" roles="jefe"><wf:field name="a" type="user"/></wf:task>
    <wf:task name="u" title="U" roles="jefe"><wf:field name="b" type="text" roles="x"/></wf:task>
    <onentry><wf:accepts event="x" roles="y"/></onentry>)");
  ASSERT_FALSE(r.ok());
  std::vector<int> lines;
  for (const Diagnostic& d : r.errors) lines.push_back(d.line);
  EXPECT_EQ(lines, (std::vector<int>{4, 5, 6, 7, 8})) << r.errorText();
}

TEST(WorkflowSchema, RulesAcrossAttributes) {
  ParseResult r =
      parse(R"(    <wf:deadline business-days="3" hours="4"><wf:on-breach raise="x"/></wf:deadline>
    <wf:deadline hours="4"><wf:on-breach/></wf:deadline>
    <wf:approval name="a" title="A" rule="n-of-m"><wf:approver roles="x"/></wf:approval>
    <wf:approval name="b" title="B" rule="all" n="2"><wf:approver/></wf:approval>
    <wf:approval name="c" title="C" rule="any"><wf:approver roles="x"/><wf:exclude who="submitter"/></wf:approval>
    <wf:task name="t" title="T"/>)");
  ASSERT_FALSE(r.ok());
  std::vector<std::pair<int, std::string>> expected = {
      {4, "exactly one of business-days, calendar-days or hours"},
      {5, "on-breach needs raise, escalate-to or notify"},
      {6, "rule n-of-m needs n"},
      {7, "n is only for rule n-of-m"},
      {7, "an approver needs candidates"},
      {8, "names the task whose submitter it is"},
      {9, "a task needs candidates"}};
  ASSERT_EQ(r.errors.size(), expected.size()) << r.errorText();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.errors[i].line, expected[i].first) << r.errors[i].toString();
    EXPECT_NE(r.errors[i].message.find(expected[i].second), std::string::npos)
        << r.errors[i].toString();
  }
}

TEST(WorkflowSchema, UnknownAndMisplacedElements) {
  std::string doc =
      R"(<scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:wf="urn:tramite:workflow:1"
       version="1.0" initial="s">
  <wf:task name="top" title="T" roles="x"/>
  <state id="s">
    <wf:signature name="x"/>
    <transition event="go" target="s"><wf:task name="t" title="T" roles="x"/></transition>
  </state>
</scxml>)";
  ParseResult r = parseString(doc, "m.scxml", "/nonexistent", workflow::parseOptions());
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 3u) << r.errorText();
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_NE(r.errors[0].message.find("directly inside a <state>"), std::string::npos);
  EXPECT_EQ(r.errors[1].line, 5);
  EXPECT_NE(r.errors[1].message.find("unknown workflow element <signature>"), std::string::npos);
  EXPECT_EQ(r.errors[2].line, 6);
}

TEST(WorkflowSchema, RequiresAndRenderAreCheckedWhereTheyStand) {
  std::string doc =
      R"(<scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:wf="urn:tramite:workflow:1"
       version="1.0" initial="s">
  <state id="s">
    <onentry><wf:render template="acta-recepcion" document="acta_recepcion"/></onentry>
    <wf:requires document="acta_recepcion"><wf:signed-by roles="jefe abogado" count="2"/></wf:requires>
    <wf:render template="x" document="y"/>
    <transition event="go" target="t">
      <wf:requires document="informe"><wf:signed-by roles="jefe" count="2" rule="all"/></wf:requires>
    </transition>
  </state>
  <state id="t"><onentry><wf:requires document="z"/></onentry></state>
  <state id="u"><wf:requires/></state>
</scxml>)";
  ParseResult r = parseString(doc, "r.scxml", "/nonexistent", workflow::parseOptions());
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 4u) << r.errorText();
  EXPECT_EQ(r.errors[0].line, 6);
  EXPECT_NE(r.errors[0].message.find("<render> belongs in executable content"), std::string::npos);
  EXPECT_EQ(r.errors[1].line, 8);
  EXPECT_NE(r.errors[1].message.find("count or rule=\"all\""), std::string::npos);
  EXPECT_EQ(r.errors[2].line, 11);
  EXPECT_NE(r.errors[2].message.find("<requires> belongs directly inside"), std::string::npos);
  EXPECT_EQ(r.errors[3].line, 12);  // the document attribute is required
}

TEST(WorkflowSchema, ScxmlAndVocabularyProblemsAreReportedTogetherInLineOrder) {
  ParseResult r = parse(R"(    <wf:task name="t" title="T"/>
    <transition event="x" target="nowhere"/>)");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 2u) << r.errorText();
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_EQ(r.errors[1].line, 5);
  EXPECT_NE(r.errors[1].message.find("nowhere"), std::string::npos);
}

}  // namespace
}  // namespace tramite::scxml
