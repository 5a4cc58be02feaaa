// The step's extension points (tramite/runtime/step_extension.h), seen by an extension of the
// test's own registered after the vocabulary's: which points are called, in which order,
// with what; what an extension queues reaching afterMacrostep; and an extension's refusal
// refusing the whole operation, with nothing of it committed.
#include <gtest/gtest.h>

#include "pg_server.h"
#include "test_files.h"
#include "tramite/runtime/directory.h"
#include "tramite/runtime/engine.h"
#include "tramite/step/extension.h"

namespace tramite::runtime {
namespace {

const char* kPoints = R"(<scxml xmlns="http://www.w3.org/2005/07/scxml"
    xmlns:w="urn:tramite:workflow:1" version="1.0" datamodel="lua" name="puntos">
  <state id="a">
    <onentry><w:render template="nota" document="nota"/></onentry>
    <w:task name="revisar" title="Revisar" roles="abogado"/>
    <transition event="seguir" target="b">
      <w:requires document="nota"/>
    </transition>
  </state>
  <state id="b">
    <w:deadline business-days="3"><w:on-breach notify="abogado"/></w:deadline>
    <transition event="terminar" target="fin"/>
  </state>
  <final id="fin"/>
  <w:accepts event="seguir" roles="abogado"/>
  <w:accepts event="terminar" roles="abogado"/>
</scxml>)";

// Writes each call as a history row of the instance (what an extension writes joins the
// operation); refuses to leave b while the event says "bloquear".
class Recorder final : public step::Extension {
 public:
  Status transitionTaken(step::Context& step, const scxml::Transition& t) const override {
    return note(step, "transition " + step.chart().state(t.source).id);
  }
  Status stateExited(step::Context& step, const scxml::State& state) const override {
    const scxml::Event* e = step.event();
    if (state.id == "b" && e && e->data.find("bloquear")) {
      return step.refuse("cannot leave b: bloqueado");
    }
    return note(step, "exited " + state.id);
  }
  Status stateEntered(step::Context& step, const scxml::State& state) const override {
    return note(step, "entered " + state.id);
  }
  Status executed(step::Context& step, const scxml::XmlElement& element) const override {
    step.pending(*this).emplace_back(element.name);
    return note(step, "executed " + element.name);
  }
  Status afterMacrostep(step::Context& step) const override {
    std::vector<json::Value>& queued = step.pending(*this);
    const std::string n = std::to_string(queued.size());
    queued.clear();
    return note(step, "after (" + n + " queued)");
  }
  Status instanceEnded(step::Context& step) const override { return note(step, "ended"); }

 private:
  static Status note(step::Context& step, const std::string& what) {
    step.record("recorder", json::Value(json::Object{{"call", what}}));
    return Status::ok();
  }
};

class StepExtensionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::openStore(testing::freshStoreUri("sqlite", "step-extensions"));
    ASSERT_TRUE(store) << store.status().toString();
    EngineOptions options;
    options.templates["nota"] = "Nota {{expediente.numero}}";
    options.extensions.push_back(recorder_);
    clock_.set(testing::localMs("2024-03-18", 9));
    engine_ = std::make_unique<Engine>(std::shared_ptr<storage::Store>(std::move(store).value()),
                                       clock_, options);
    auto dir = loadDirectoryFile(std::string(TRAMITE_SOURCE_DIR) + "/config/directory.json");
    ASSERT_TRUE(dir) << dir.status().toString();
    ASSERT_TRUE(engine_->importDirectory(*dir));
    auto deployed = engine_->deploy("puntos", kPoints, "admin");
    ASSERT_TRUE(deployed) << deployed.status().toString();
  }

  std::vector<std::string> recorded(const std::string& instance) {
    auto rows = engine_->history(instance);
    EXPECT_TRUE(rows) << rows.status().toString();
    std::vector<std::string> out;
    for (const storage::HistoryRecord& r : *rows) {
      if (r.kind == "recorder") out.push_back(json::parse(r.detail)->find("call")->asString());
    }
    return out;
  }

  ManualClock clock_;
  std::shared_ptr<Recorder> recorder_ = std::make_shared<Recorder>();
  std::unique_ptr<Engine> engine_;
};

using Calls = std::vector<std::string>;

// Calls are read from history, not counted in memory: an operation may be computed more
// than once (a retry, group commit), and only the committed computation counts.
TEST_F(StepExtensionTest, ThePointsAreCalledInTheOrderTheMacrostepTookThem) {
  StartRequest start;
  start.definition = "puntos";
  start.business_key = "GJ-2024-7";
  start.actor = "elena_castro";
  auto v = engine_->start(start);
  ASSERT_TRUE(v) << v.status().toString();
  // <w:render> runs inside the macrostep; the state's work and afterMacrostep follow it.
  Calls expected{"executed render", "entered a", "after (1 queued)"};
  EXPECT_EQ(recorded(v->id), expected);
  // The vocabulary's extensions ran before it: the task is open, the note rendered.
  auto tasks = engine_->tasksOf(v->id);
  ASSERT_TRUE(tasks);
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ(tasks->front().status, "ready");
  auto docs = engine_->documents(v->id);
  ASSERT_TRUE(docs);
  EXPECT_EQ(docs->size(), 1u);

  ASSERT_TRUE(engine_->send(v->id, scxml::Event::external("seguir"), "elena_castro"));
  // The transition's content runs (<w:requires> does nothing when run); then the guarded
  // transition, the states left and entered, and the end of the macrostep.
  for (const char* call :
       {"executed requires", "transition a", "exited a", "entered b", "after (1 queued)"}) {
    expected.emplace_back(call);
  }
  EXPECT_EQ(recorded(v->id), expected);
  tasks = engine_->tasksOf(v->id);
  ASSERT_TRUE(tasks);
  EXPECT_EQ(tasks->front().status, "exited");

  // A refusal refuses the operation: the instance stays in b, and nothing the extensions
  // wrote in it is kept.
  auto refused = engine_->send(
      v->id, scxml::Event::external("terminar", json::Value(json::Object{{"bloquear", true}})),
      "elena_castro");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("bloqueado"), std::string::npos);
  auto still = engine_->get(v->id);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->configuration, std::vector<std::string>{"b"});
  EXPECT_EQ(recorded(v->id), expected);

  ASSERT_TRUE(engine_->send(v->id, scxml::Event::external("terminar"), "elena_castro"));
  // The instance ends while the macrostep's actions are applied, before its states' work.
  for (const char* call : {"ended", "exited b", "after (0 queued)"}) expected.emplace_back(call);
  EXPECT_EQ(recorded(v->id), expected);
}

}  // namespace
}  // namespace tramite::runtime
