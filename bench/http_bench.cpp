// The HTTP layer's cost, side by side in one run (issue 5):
//   engine    durable task completions through Engine::actOnTask from 16 threads, before
//             and again after the HTTP phase
//   http      the same completions as POST /api/v1/tasks/{id}/complete, wrk with 16
//             connections on loopback against the real server (SQLite, synchronous=FULL)
//   queue     GET /api/v1/tasks?view=group (a 50-task first page), wrk with 16 connections
//   slow      the completions again while 500 more connections trickle heads and bodies a
//             byte at a time (issue 26): they must not take the workers
// Each completion commits the task, the instance's macrostep and their history rows.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "slow_clients.h"
#include "tramite/api/api.h"
#include "tramite/api/server.h"
#include "tramite/runtime/engine.h"

using namespace tramite;
namespace fs = std::filesystem;

namespace {

const char* kWorkflow = R"(<scxml xmlns="http://www.w3.org/2005/07/scxml"
    xmlns:w="urn:tramite:workflow:1" version="1.0" datamodel="lua" name="revision">
  <datamodel><data id="monto" expr="0"/></datamodel>
  <state id="revisar">
    <w:task name="revisar" title="Revisar el expediente" roles="abogado" priority="5">
      <w:outcome name="conforme"/>
    </w:task>
    <transition event="task.revisar.done" target="fin"/>
  </state>
  <final id="fin"/>
</scxml>)";

constexpr int kThreads = 16;

// CPU seconds this process has used (every thread, user and system).
double processCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs fn(i) for i in [0, n) on kThreads threads; returns the failures.
template <typename Fn>
int parallel(int n, Fn&& fn) {
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < n;) {
        if (!fn(i)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  return failures.load();
}

struct WrkResult {
  double requests_per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  long non_2xx = 0;
  std::string raw;
};

double toMs(const std::string& value, const std::string& unit) {
  const double v = std::stod(value);
  if (unit == "us") return v / 1000.0;
  if (unit == "s") return v * 1000.0;
  return v;
}

WrkResult runWrk(const std::string& url, const std::string& script, int seconds) {
  const std::string cmd = "wrk -t2 -c16 -d" + std::to_string(seconds) + "s --latency -s " + script +
                          " " + url + " 2>&1";
  WrkResult r;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, p)) r.raw += line;
    ::pclose(p);
  }
  std::smatch m;
  if (std::regex_search(r.raw, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    r.requests_per_second = std::stod(m[1]);
  }
  if (std::regex_search(r.raw, m, std::regex(R"(50%\s+([0-9.]+)(us|ms|s))"))) {
    r.p50_ms = toMs(m[1], m[2]);
  }
  if (std::regex_search(r.raw, m, std::regex(R"(99%\s+([0-9.]+)(us|ms|s))"))) {
    r.p99_ms = toMs(m[1], m[2]);
  }
  if (std::regex_search(r.raw, m, std::regex(R"(Non-2xx or 3xx responses:\s+(\d+))"))) {
    r.non_2xx = std::stol(m[1]);
  }
  return r;
}

// A wrk script: each request completes the next task of ids_file (threads take turns), or
// GETs path when ids_file is empty.
std::string writeScript(const fs::path& dir, const std::string& name, const std::string& token,
                        const std::string& ids_file, const std::string& path) {
  const fs::path file = dir / name;
  std::ofstream out(file);
  out << "local token = \"" << token << "\"\n"
      << "local headers = {[\"Authorization\"] = \"Bearer \" .. token,"
         " [\"Content-Type\"] = \"application/json\"}\n";
  if (ids_file.empty()) {
    out << "function request() return wrk.format(\"GET\", \"" << path << "\", headers) end\n";
    return file.string();
  }
  out << "local ids = {}\n"
      << "for line in io.lines(\"" << ids_file << "\") do ids[#ids + 1] = line end\n"
      << "local nthreads = 2\nlocal created = 0\n"
      << "function setup(thread) thread:set(\"first\", created); created = created + 1 end\n"
      << "local next_index\n"
      << "function init(args) next_index = first + 1 end\n"
      << "function request()\n"
      << "  local id = ids[next_index] or \"exhausted\"\n"
      << "  next_index = next_index + nthreads\n"
      << "  return wrk.format(\"POST\", \"/api/v1/tasks/\" .. id .. \"/complete\", headers, "
         "\"{\\\"decision\\\": \\\"conforme\\\"}\")\n"
      << "end\n";
  return file.string();
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int instances = std::getenv("TRAMITE_HTTP_INSTANCES")
                            ? std::atoi(std::getenv("TRAMITE_HTTP_INSTANCES"))
                            : 80'000;
  const int wrk_seconds = 10;
  const fs::path dir = fs::temp_directory_path() / ("tramite-http-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto opened = storage::openStore("sqlite:" + (dir / "http.db").string());
  if (!opened) {
    std::printf("store: %s\n", opened.status().toString().c_str());
    return 1;
  }
  std::shared_ptr<storage::Store> store(std::move(opened).value());
  SystemClock clock;
  auto engine = std::make_shared<runtime::Engine>(store, clock);
  storage::DirectoryRecords directory;
  directory.units = {{"gj", "Gerencia Jurídica", "Subdirección Administrativa"}};
  directory.roles = {{"abogado", "Abogado(a)"}};
  directory.users = {{"bench_user", "Usuario de prueba", "gj", {"abogado"}, true}};
  if (!engine->importDirectory(directory) || !engine->deploy("revision", kWorkflow, "bench")) {
    std::printf("setup failed\n");
    return 1;
  }

  // Seed: every instance waits on one task for bench_user's role.
  std::vector<std::string> tasks(static_cast<std::size_t>(instances));
  auto t0 = std::chrono::steady_clock::now();
  int failed = parallel(instances, [&](int i) {
    runtime::StartRequest r;
    r.definition = "revision";
    r.business_key = "EXP-" + std::to_string(i);
    r.actor = "bench";
    auto v = engine->start(r);
    if (!v) return false;
    auto open = engine->tasksOf(v->id);
    if (!open || open->empty()) return false;
    tasks[static_cast<std::size_t>(i)] = open->front().id;
    return true;
  });
  std::printf("== HTTP layer (SQLite, synchronous=FULL, 16 clients on loopback)\n");
  std::printf("seeded %d instances with one open task each in %.1f s (%d failed)\n", instances,
              secondsSince(t0), failed);

  // The engine alone completes a sixth of the tasks before the HTTP phase and another sixth
  // after it; the HTTP phase is compared with the mean of the two, which cancels much of this
  // machine's drift in speed between phases.
  const int slice = instances / 6;
  auto engineRun = [&](int first, int count) {
    const auto started = std::chrono::steady_clock::now();
    const double cpu_before = processCpuSeconds();
    const int failures = parallel(count, [&](int i) {
      runtime::TaskAction a;
      a.op = runtime::TaskOp::kComplete;
      a.actor = "bench_user";
      a.decision = "conforme";
      return static_cast<bool>(engine->actOnTask(tasks[static_cast<std::size_t>(first + i)], a));
    });
    const double seconds = secondsSince(started);
    const double cpu = processCpuSeconds() - cpu_before;
    const double rate = count / seconds;
    std::printf(
        "engine  Engine::actOnTask complete, 16 threads   %8.0f completions/s (%d failed)\n", rate,
        failures);
    std::printf("        CPU: %.0f us per completion, %.2f cores\n", 1e6 * cpu / count,
                cpu / seconds);
    return rate;
  };
  const double engine_before = engineRun(0, slice);

  // 2. The same over HTTP.
  api::ApiOptions api_options;
  api_options.token_secret = std::string(32, 's');
  api::Api api(engine, store, clock, api_options);
  auto token = api.createApiToken("bench_user", "bench", 0);
  api::ServerOptions server_options;
  server_options.port = 0;
  server_options.log_requests = false;
  server_options.max_connections_per_client = 1000;  // wrk and the slow clients share 127.0.0.1
  api::Server server(api, server_options);
  if (Status st = server.start(); !st || !token) {
    std::printf("server: %s\n", st.toString().c_str());
    return 1;
  }
  const std::string secret = token->find("token")->asString();
  // The tasks between the engine's slices: the first half for the HTTP phase, the second for
  // the phase with slow clients.
  const std::size_t middle = tasks.size() / 2;
  const fs::path ids = dir / "ids.txt";
  const fs::path slow_ids = dir / "slow-ids.txt";
  {
    std::ofstream out(ids);
    std::ofstream slow_out(slow_ids);
    for (std::size_t i = static_cast<std::size_t>(slice);
         i < tasks.size() - static_cast<std::size_t>(slice); ++i) {
      (i < middle ? out : slow_out) << tasks[i] << "\n";
    }
  }
  // Runs wrk with a script and prints one line of figures.
  auto measure = [&](const char* label, const std::string& script, const char* unit) {
    WrkResult r = runWrk(server.url(), script, wrk_seconds);
    if (r.requests_per_second == 0) std::printf("%s", r.raw.c_str());
    std::printf("%-52s %8.0f %s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %ld\n", label,
                r.requests_per_second, unit, r.p50_ms, r.p99_ms, r.non_2xx);
    return r;
  };
  const double cpu0 = processCpuSeconds();
  WrkResult http =
      measure("http    POST /api/v1/tasks/{id}/complete, wrk 16c",
              writeScript(dir, "complete.lua", secret, ids.string(), ""), "completions/s");
  const double http_cpu = processCpuSeconds() - cpu0;
  std::printf("        server CPU: %.0f us per completion, %.2f cores (wrk not counted)\n",
              1e6 * http_cpu / (http.requests_per_second * wrk_seconds), http_cpu / wrk_seconds);
  const double engine_after = engineRun(instances - slice, slice);
  const double engine_rate = (engine_before + engine_after) / 2;
  std::printf("        HTTP layer cost: %.0f%% of the engine's mean rate %.0f/s (%.2fx)\n",
              100.0 * (1.0 - http.requests_per_second / engine_rate), engine_rate,
              http.requests_per_second / engine_rate);

  // 3. Queue reads over HTTP.
  measure("queue   GET /api/v1/tasks?view=group (50 rows), wrk 16c",
          writeScript(dir, "queue.lua", secret, "", "/api/v1/tasks?view=group&limit=50"),
          "requests/s   ");

  // 4. Completions again while 500 slow clients hold connections.
  {
    testing::SlowClients slow(server.port(), 500);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // all connected and trickling
    const int connected = slow.connected();
    measure("slow    the completions, wrk 16c + 500 slow clients",
            writeScript(dir, "complete-slow.lua", secret, slow_ids.string(), ""), "completions/s");
    std::printf("        slow clients: %d connected before, %d at the end, %d reopened\n",
                connected, slow.connected(), slow.reopened());
  }
  server.stop();
  fs::remove_all(dir);
  return 0;
}
