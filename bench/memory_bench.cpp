// The engine keeps only active work in memory: its RSS must stay flat (within 10%) whether
// the store holds 10 thousand or 1 million instances. This program fills a SQLite store
// (rows written with the sqlite3 C API, copies of a real instance), runs the same workload
// on the engine at both sizes and prints VmRSS after each.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tramite/runtime/engine.h"

using namespace tramite;

namespace {

long rssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Adds copies of a template instance row until the table holds `target` rows.
void fillTo(const std::string& path, const std::string& template_id, long target) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* count = nullptr;
  sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM instances", -1, &count, nullptr);
  sqlite3_step(count);
  long have = sqlite3_column_int64(count, 0);
  sqlite3_finalize(count);
  sqlite3_stmt* copy = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO instances (id, definition_id, business_key, lifecycle, session, "
                     "row_version, created_at, updated_at) SELECT ?, definition_id, ?, lifecycle, "
                     "session, row_version, created_at, updated_at FROM instances WHERE id = ?",
                     -1, &copy, nullptr);
  for (long i = have; i < target; ++i) {
    std::string id = "bulk-" + std::to_string(i);
    sqlite3_bind_text(copy, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(copy, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(copy, 3, template_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(copy);
    sqlite3_reset(copy);
  }
  sqlite3_finalize(copy);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

// Starts 200 instances and runs their chains; also reads back a few stored ones.
void workload(runtime::Engine& engine, int round) {
  for (int i = 0; i < 200; ++i) {
    runtime::StartRequest req;
    req.definition = "approval-chain";
    req.data = json::Value(json::Object{{"amount", 100 + i}});
    auto v = engine.start(req);
    if (!v) std::abort();
    for (const char* e : {"submit", "approve", "approve", "approve", "sign"}) {
      if (!engine.send(v->id, scxml::Event::external(e), "bench")) std::abort();
    }
    if (!engine.get("bulk-" + std::to_string(1 + i * 37 + round))) std::abort();
  }
}

}  // namespace

int main() {
  auto dir = std::filesystem::temp_directory_path() / ("tramite-mem-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "engine.db").string();
  SystemClock clock;
  auto store = storage::openStore("sqlite:" + path);
  if (!store) return 1;
  runtime::Engine engine(std::shared_ptr<storage::Store>(std::move(store).value()), clock);
  std::ifstream in(std::string(TRAMITE_SOURCE_DIR) + "/workflows/approval-chain-lua.scxml");
  std::stringstream xml;
  xml << in.rdbuf();
  if (!engine.deploy("approval-chain", xml.str(), "bench")) return 1;
  runtime::StartRequest seed;
  seed.definition = "approval-chain";
  seed.instance_id = "template";
  seed.data = json::Value(json::Object{{"amount", 25000}});
  if (!engine.start(seed)) return 1;

  long rss[2];
  const long sizes[2] = {10'000, 1'000'000};
  for (int round = 0; round < 2; ++round) {
    fillTo(path, "template", sizes[round]);
    workload(engine, round);  // warm
    workload(engine, round);
    rss[round] = rssKiB();
    std::printf("stored instances %8ld: RSS %ld KiB\n", sizes[round], rss[round]);
  }
  double change = 100.0 * static_cast<double>(rss[1] - rss[0]) / static_cast<double>(rss[0]);
  std::printf("RSS change from 10k to 1M stored instances: %+.1f%% (target: within 10%%)\n",
              change);
  std::filesystem::remove_all(dir);
  return 0;
}
