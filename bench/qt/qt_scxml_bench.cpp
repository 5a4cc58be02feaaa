// BM_QtScxml/{compiled,fromFile}: the peer on the same workload as BM_ApprovalChain/null.
// Each iteration creates a machine, starts it and submits submit, approve x3, sign, letting
// Qt's event loop process each event. items_per_second = events/s.
#include <benchmark/benchmark.h>

#include <QCoreApplication>
#include <QScxmlStateMachine>

#include "approval_chain_qt.h"

namespace {

const char* const kEvents[] = {"submit", "approve", "approve", "approve", "sign"};

template <typename Make>
void runChain(benchmark::State& state, Make make) {
  std::int64_t events = 0;
  for (auto _ : state) {
    std::unique_ptr<QScxmlStateMachine> machine = make();
    bool finished = false;
    QObject::connect(machine.get(), &QScxmlStateMachine::finished, [&] { finished = true; });
    machine->start();
    QCoreApplication::processEvents();
    for (const char* e : kEvents) {
      machine->submitEvent(QString::fromLatin1(e));
      QCoreApplication::processEvents();
    }
    if (!finished) state.SkipWithError("the Qt machine did not finish");
    events += 5;
  }
  state.SetItemsProcessed(events);
}

void BM_QtCompiled(benchmark::State& state) {
  runChain(state, [] { return std::make_unique<ApprovalChainQt>(); });
}

void BM_QtFromFile(benchmark::State& state) {
  runChain(state, [] {
    return std::unique_ptr<QScxmlStateMachine>(
        QScxmlStateMachine::fromFile(QString::fromUtf8(TRAMITE_SCXML_DOC)));
  });
}

}  // namespace

BENCHMARK(BM_QtCompiled)->Name("BM_QtScxml/compiled");
BENCHMARK(BM_QtFromFile)->Name("BM_QtScxml/fromFile");

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
