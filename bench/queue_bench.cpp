// Work-queue reads with a large store, SQLite and PostgreSQL side by side in one run.
//
// Each dialect is filled with 1M instances and 3M tasks (TRAMITE_QUEUE_SCALE scales both):
// per instance one open task and two finished ones. Open tasks are 70% offered to a role
// and a unit (28 PAT units, 11 roles) and 30% reserved to one of 1,000 users. Then the
// engine's own queue reads (Engine::queue: directory lookup, substitutions, the query, JSON
// views of 50 tasks) run for random users, and their latency percentiles are printed:
//   personal   owner:U + user:U                          (about 300 open tasks per user)
//   group      the user's role and unit queues merged     (tens of thousands each)
//   unit       a unit queue alone (a user with no role)
//   overdue    group queue, only tasks past due
//   filtered   group queue, monto >= 500000 and metodo = "LP"
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "pg_server.h"
#include "tramite/runtime/engine.h"

using namespace tramite;
using Stopwatch = std::chrono::steady_clock;

namespace {

const char* const kRoles[] = {"solicitante",
                              "abogado",
                              "jefe_juridico",
                              "analista_compras",
                              "gerente_compras",
                              "administrador_contrato",
                              "archivista",
                              "analista_rrhh",
                              "oficial_cumplimiento",
                              "auditor",
                              "admin"};
constexpr int kUnits = 28;
constexpr int kUsers = 1000;
constexpr TimePoint kDay = 86'400'000;
constexpr TimePoint kNow = 19'800 * kDay;  // mid 2024

std::string unitId(int i) {
  return "unit" + std::to_string(i);
}
std::string userId(int i) {
  return "user" + std::to_string(i);
}

storage::DirectoryRecords directory() {
  storage::DirectoryRecords d;
  for (int u = 0; u < kUnits; ++u)
    d.units.push_back({unitId(u), "Unidad " + std::to_string(u), ""});
  for (const char* r : kRoles) d.roles.push_back({r, r});
  for (int i = 0; i < kUsers; ++i) {
    storage::UserRecord u{userId(i), "Usuario " + std::to_string(i), unitId(i % kUnits), {}, true};
    if (i % 10 != 9) u.roles.push_back(kRoles[i % 11]);  // every tenth user: unit queue only
    d.users.push_back(std::move(u));
  }
  return d;
}

const std::string kSpec =
    R"({"kind":"task","name":"redactar","title":"Redactar la opinión jurídica","candidates":)"
    R"({"roles":["abogado"],"units":[],"users":[]},"priority":5,"skippable":false,"fields":)"
    R"([{"name":"opinion","type":"text","label":"Opinión jurídica","required":true,"options":[]},)"
    R"({"name":"referencia","type":"text","label":"Referencia","required":false,"options":[]}],)"
    R"("outcomes":[],"deadline":{"unit":"business_days","amount":8,"term":"8 business days",)"
    R"("breach":[{"raise":"","escalate_to":"jefe_juridico","notify":["jefe_juridico"]}]}})";

Status fill(storage::Store& store, std::int64_t instances) {
  std::mt19937_64 rng(42);
  auto tx = store.begin();
  if (!tx) return tx.status();
  auto def = (*tx)->addDefinition("legal-review", "0", "<scxml/>", kNow);
  if (!def) return def.status();
  if (Status st = (*tx)->replaceDirectory(directory()); !st) return st;
  if (Status st = (*tx)->commit(); !st) return st;
  const char* methods[] = {"LP", "LG", "CD", "BS"};
  const std::int64_t batch = 5000;
  for (std::int64_t first = 0; first < instances; first += batch) {
    std::vector<storage::InstanceWrite> inst;
    std::vector<storage::TaskWrite> tasks;
    for (std::int64_t i = first; i < std::min(instances, first + batch); ++i) {
      char key[32];
      std::snprintf(key, sizeof key, "EXP-%08lld", static_cast<long long>(i));
      const std::string id = "i" + std::to_string(i);
      inst.push_back(
          {storage::InstanceRecord{id, def->id, key, "running", "{}", 1, kNow, kNow, {}, {}}, 0});
      const std::string data = R"({"unidad":"unit)" + std::to_string(rng() % kUnits) +
                               R"(","monto":)" + std::to_string(rng() % 1'000'000) +
                               R"(,"metodo":")" + methods[rng() % 4] + "\"}";
      for (int k = 0; k < 3; ++k) {
        storage::TaskRecord t;
        t.id = id + "-t" + std::to_string(k);
        t.instance_id = id;
        t.business_key = key;
        t.definition = "legal-review";
        t.state = "redaccion";
        t.name = "redactar";
        t.kind = "task";
        t.title = "Redactar la opinión jurídica";
        t.priority = static_cast<std::int32_t>(rng() % 11);
        // Due dates from 30 days ago to 60 days ahead; one in ten without a deadline.
        t.due_at =
            rng() % 10 == 0 ? 0 : kNow - 30 * kDay + static_cast<TimePoint>(rng() % (90 * kDay));
        t.spec = kSpec;
        t.data = data;
        t.created_at = t.updated_at = kNow - kDay;
        if (k < 2) {
          t.status = "completed";
          t.open = false;
          t.owner = userId(static_cast<int>(rng() % kUsers));
          t.result = R"({"actor":")" + t.owner + R"(","decision":"","comment":"ok"})";
        } else if (rng() % 10 < 7) {
          t.status = "ready";
          t.result = "{}";
          t.principals = {std::string("role:") + kRoles[rng() % 11],
                          "unit:" + unitId(static_cast<int>(rng() % kUnits))};
        } else {
          t.status = "reserved";
          t.result = "{}";
          t.owner = userId(static_cast<int>(rng() % kUsers));
          t.principals = {"owner:" + t.owner};
        }
        tasks.push_back({std::move(t), 0});
      }
    }
    auto w = store.begin();
    if (!w) return w.status();
    if (Status st = (*w)->writeInstances(inst); !st) return st;
    if (Status st = (*w)->writeTasks(tasks); !st) return st;
    if (Status st = (*w)->commit(); !st) return st;
  }
  return Status::ok();
}

struct Percentiles {
  double p50, p95, p99, max;
};

Percentiles percentiles(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[static_cast<std::size_t>(q * (ms.size() - 1))]; };
  return {at(0.50), at(0.95), at(0.99), ms.back()};
}

void measure(const char* dialect, runtime::Engine& engine, const char* name,
             runtime::QueueView view, bool overdue, bool filtered, bool unit_only) {
  static unsigned seed = 7;
  std::mt19937 rng(seed++);  // each pass asks for other users
  std::vector<double> ms;
  std::size_t rows = 0;
  const int runs = 1000;
  for (int i = 0; i < runs + 50; ++i) {
    int u = static_cast<int>(rng() % kUsers);
    if (unit_only) u = u / 10 * 10 + 9;  // a user without a role: the unit queue alone
    runtime::QueueRequest r;
    r.user = userId(std::min(u, kUsers - 1));
    r.view = view;
    r.overdue = overdue;
    if (filtered) r.filters = {{"monto", ">=", "500000"}, {"metodo", "=", "\"LP\""}};
    auto t0 = Stopwatch::now();
    auto page = engine.queue(r);
    auto t1 = Stopwatch::now();
    if (!page) {
      std::fprintf(stderr, "%s: %s\n", name, page.status().toString().c_str());
      std::exit(1);
    }
    if (i < 50) continue;  // warm-up
    rows += page->tasks.size();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  Percentiles p = percentiles(ms);
  std::printf(
      "%-11s %-10s  p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  max %6.2f ms  rows/page %5.1f\n",
      dialect, name, p.p50, p.p95, p.p99, p.max, static_cast<double>(rows) / runs);
}

// settle runs after the fill, as the database's maintenance would (statistics, a checkpoint),
// so the reads are timed on a settled store rather than during the bulk load's aftermath.
void run(const char* dialect, const std::string& uri, std::int64_t instances,
         const std::function<bool()>& settle) {
  auto opened = storage::openStore(uri);
  if (!opened) {
    std::printf("%s: %s\n", dialect, opened.status().toString().c_str());
    return;
  }
  std::shared_ptr<storage::Store> store(std::move(opened).value());
  auto t0 = Stopwatch::now();
  if (Status st = fill(*store, instances); !st) {
    std::printf("%s: fill failed: %s\n", dialect, st.toString().c_str());
    return;
  }
  double secs = std::chrono::duration<double>(Stopwatch::now() - t0).count();
  auto tx = store->begin(storage::TxMode::kRead);
  auto count = (*tx)->countInstances();
  tx->reset();
  std::printf("%-11s stored %lld instances and %lld tasks in %.0f s\n", dialect,
              static_cast<long long>(count ? *count : -1), static_cast<long long>(instances * 3),
              secs);
  t0 = Stopwatch::now();
  const bool settled = settle();
  std::printf("%-11s settled (statistics, checkpoint) in %.0f s%s\n", dialect,
              std::chrono::duration<double>(Stopwatch::now() - t0).count(),
              settled ? "" : " -- FAILED, timing anyway");
  ManualClock clock(kNow);
  runtime::Engine engine(store, clock);
  // Two passes: the first reads a store just loaded, the second one that has been read.
  for (int pass = 1; pass <= 2; ++pass) {
    std::printf("%-11s pass %d\n", dialect, pass);
    measure(dialect, engine, "personal", runtime::QueueView::kPersonal, false, false, false);
    measure(dialect, engine, "group", runtime::QueueView::kGroup, false, false, false);
    measure(dialect, engine, "unit", runtime::QueueView::kGroup, false, false, true);
    measure(dialect, engine, "overdue", runtime::QueueView::kGroup, true, false, false);
    measure(dialect, engine, "filtered", runtime::QueueView::kGroup, false, true, false);
  }
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens, even in a file
  double scale = 1.0;
  if (const char* s = std::getenv("TRAMITE_QUEUE_SCALE")) scale = std::atof(s);
  const auto instances = static_cast<std::int64_t>(1'000'000 * scale);
  std::printf("== queue first pages (50 tasks), 1000 reads each after 50 warm-up reads\n");
  auto dir =
      std::filesystem::temp_directory_path() / ("tramite-queue-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // TRAMITE_QUEUE_DIALECTS=postgresql (or sqlite) runs one of them.
  const char* only = std::getenv("TRAMITE_QUEUE_DIALECTS");
  const std::string dialects = only ? only : "sqlite,postgresql";
  const std::string file = (dir / "queue.db").string();
  if (dialects.find("sqlite") != std::string::npos) {
    run("sqlite", "sqlite:" + file, instances, [&] {
      const std::string cmd =
          "sqlite3 " + file + " 'ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);' > /dev/null 2>&1";
      return std::system(cmd.c_str()) == 0;
    });
  }
  std::filesystem::remove_all(dir);
  if (dialects.find("postgresql") == std::string::npos) return 0;
  if (auto* pg = testing::PostgresServer::shared()) {
    run("postgresql", pg->createDatabase("queue"), instances,
        [&] { return pg->psql("queue", "VACUUM ANALYZE; CHECKPOINT"); });
  } else {
    std::printf("postgresql  not available on this machine\n");
  }
  return 0;
}
