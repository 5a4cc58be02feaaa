// BM_ApprovalChain/{null,lua}: events per second through the pure step function on the
// approval-chain workload. The chart is parsed once; each iteration creates an instance,
// starts it and sends submit, approve x3, sign (5 events). items_per_second = events/s.
// Also reports the size of an idle session serialised mid-chain (session_bytes).
#include <benchmark/benchmark.h>

#include <iostream>

#include "tramite/scxml/interpreter.h"
#include "tramite/scxml/lua_datamodel.h"
#include "tramite/scxml/null_datamodel.h"
#include "tramite/scxml/parser.h"
#include "tramite/scxml/session_codec.h"

using namespace tramite;
using namespace tramite::scxml;

namespace {

ChartPtr load(const char* file) {
  ParseResult r = parseFile(std::string(TRAMITE_SOURCE_DIR) + "/workflows/" + file);
  if (!r.ok()) {
    std::cerr << r.errorText();
    std::abort();
  }
  return r.chart;
}

const Event kEvents[] = {Event::external("submit"), Event::external("approve"),
                         Event::external("approve"), Event::external("approve"),
                         Event::external("sign")};

template <typename MakeDataModel>
void runChain(benchmark::State& state, const ChartPtr& chart, MakeDataModel make_dm,
              const json::Value* data) {
  Interpreter interpreter(chart);
  std::vector<Action> actions;
  std::int64_t events = 0;
  std::uint64_t n = 0;
  for (auto _ : state) {
    auto dm = make_dm();
    Session session;
    session.id = "exp-" + std::to_string(++n);
    actions.clear();
    if (!interpreter.start(session, *dm, actions, data)) state.SkipWithError("start failed");
    for (const Event& e : kEvents) {
      actions.clear();
      if (!interpreter.step(session, *dm, e, actions)) state.SkipWithError("step failed");
    }
    if (session.status != SessionStatus::kFinished) state.SkipWithError("chain did not finish");
    events += 5;
    benchmark::DoNotOptimize(session);
  }
  state.SetItemsProcessed(events);

  // Size of a restored idle session (after submit, approve), UUID-sized id.
  auto dm = make_dm();
  Session session;
  session.id = "7f3c2a9e-0b1d-4c55-9e2a-3d4f5a6b7c8d";
  (void)interpreter.start(session, *dm, actions, data);
  (void)interpreter.step(session, *dm, kEvents[0], actions);
  (void)interpreter.step(session, *dm, kEvents[1], actions);
  std::string saved = encodeSession(*chart, session, *dm);
  auto fresh = make_dm();
  auto restored = decodeSession(*chart, saved, *fresh);
  state.counters["session_bytes"] =
      static_cast<double>(restored ? encodeSession(*chart, *restored, *fresh).size() : 0);
}

void BM_ApprovalChainNull(benchmark::State& state) {
  static ChartPtr chart = load("approval-chain.scxml");
  runChain(
      state, chart, [] { return std::make_unique<NullDataModel>(); }, nullptr);
}

void BM_ApprovalChainLua(benchmark::State& state) {
  static ChartPtr chart = load("approval-chain-lua.scxml");
  auto runtime = LuaRuntime::forThisThread();
  json::Value data(json::Object{{"amount", 25000}});
  runChain(
      state, chart, [&] { return std::make_unique<LuaDataModel>(chart, runtime); }, &data);
}

}  // namespace

BENCHMARK(BM_ApprovalChainNull)->Name("BM_ApprovalChain/null");
BENCHMARK(BM_ApprovalChainLua)->Name("BM_ApprovalChain/lua");

BENCHMARK_MAIN();
