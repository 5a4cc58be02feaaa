// A workload process for the crash and multi-engine tests. Every operation carries an
// idempotency key, so the whole workload can be re-run from the start after a crash and
// must converge on the same state. After each acknowledged (committed) operation it
// appends "<instance> <key>" to the ack file.
//
// usage: crash_worker STORE_URI WORKER_ID INSTANCES NOTES ACK_FILE SIGN [pipelined]
// SIGN=0 stops before the signatures (for concurrent workers whose notes must all land);
// "pipelined" opens a SQLite store with pipelined WAL sync (StoreOptions).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tramite/runtime/engine.h"

using namespace tramite;

namespace {

int ackFd = -1;

void ack(const std::string& instance, const std::string& key) {
  std::string line = instance + " " + key + "\n";
  if (::write(ackFd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::abort();
}

[[noreturn]] void die(const std::string& what, const Status& st) {
  std::cerr << "crash_worker: " << what << ": " << st.toString() << "\n";
  std::exit(1);
}

void send(runtime::Engine& engine, const std::string& id, const std::string& event,
          const std::string& key) {
  auto r = engine.send(id, scxml::Event::external(event), "worker", key);
  if (!r) die("send " + event + " to " + id, r.status());
  ack(id, key);
}

}  // namespace

int main(int argc, char** argv) {
  const bool pipelined = argc == 8 && std::string(argv[7]) == "pipelined";
  if (argc != 7 && !pipelined) {
    std::cerr << "usage: crash_worker STORE_URI WORKER_ID INSTANCES NOTES ACK_FILE SIGN "
                 "[pipelined]\n";
    return 2;
  }
  const bool sign = std::string(argv[6]) == "1";
  const std::string uri = argv[1];
  const std::string worker = argv[2];
  const int instances = std::atoi(argv[3]);
  const int notes = std::atoi(argv[4]);
  ackFd = ::open(argv[5], O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (ackFd < 0) return 2;

  storage::StoreOptions options;
  options.sqlite_pipelined_sync = pipelined;
  auto store = storage::openStore(uri, options);
  if (!store) die("open store", store.status());
  ManualClock clock(1'700'000'000'000);
  runtime::Engine engine(std::shared_ptr<storage::Store>(std::move(store).value()), clock);

  std::ifstream in(std::string(TRAMITE_SOURCE_DIR) + "/tests/data/crash-chain.scxml");
  std::stringstream xml;
  xml << in.rdbuf();
  if (auto d = engine.deploy("crash-chain", xml.str(), "worker"); !d) die("deploy", d.status());

  auto id = [](int i) { return "inst-" + std::to_string(i); };
  // 1: start and submit (each submit schedules a one-hour reminder).
  for (int i = 0; i < instances; ++i) {
    runtime::StartRequest req;
    req.definition = "crash-chain";
    req.instance_id = id(i);
    req.business_key = "EXP-" + std::to_string(i);
    req.idempotency_key = "start-" + id(i);
    req.actor = "worker";
    auto r = engine.start(req);
    if (!r) die("start " + id(i), r.status());
    ack(id(i), "start");
    send(engine, id(i), "submit", id(i) + "/submit");
  }
  // 2: let the reminders fall due and fire them.
  clock.advance(2 * 3'600'000);
  while (true) {
    auto fired = engine.fireDueTimers(16);
    if (!fired) die("fire timers", fired.status());
    if (*fired == 0) break;
  }
  // 3: three approvals, the notes of this worker, then the signature.
  for (int i = 0; i < instances; ++i) {
    for (int a = 1; a <= 3; ++a)
      send(engine, id(i), "approve", id(i) + "/approve" + std::to_string(a));
    for (int n = 0; n < notes; ++n) {
      send(engine, id(i), "note", "w" + worker + "/" + id(i) + "/note" + std::to_string(n));
    }
  }
  if (sign) {
    for (int i = 0; i < instances; ++i) send(engine, id(i), "sign", id(i) + "/sign");
  }
  ack("-", "done");
  return 0;
}
