// A throwaway PostgreSQL server for tests and benchmarks: initdb into a temporary directory,
// pg_ctl on a free loopback port, removed again when the object dies. Never a mock.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace tramite::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // One server per process, started on first use; nullptr when PostgreSQL is unavailable.
  static PostgresServer* shared();

  // Starts the server; false (with why()) when PostgreSQL is not installed or fails. Should
  // this process end without stop() (a crash, a kill, a timeout), a watchdog process stops
  // the server and removes its directory.
  bool start();

  // The server's directory (its data, socket and logs); empty before start().
  const std::string& dir() const { return dir_; }

  // Creates a fresh database and returns its store URI (postgresql://...).
  std::string createDatabase(const std::string& name);
  // Runs SQL with psql against a database (for tests that tamper with rows).
  bool psql(const std::string& database, const std::string& sql) const;
  void stop();

  // CPU time (user + system) the server's processes have used so far: the postmaster and
  // its children alive now (a backend that has exited no longer counts). For benchmarks that
  // report the server's share of the work. nullopt when it cannot be read.
  std::optional<std::chrono::nanoseconds> cpuTime() const;

  int port() const { return port_; }
  const std::string& why() const { return why_; }

 private:
  std::string asPostgresUser(const std::string& command) const;
  std::string stopCommand() const;  // stops the server at once (fails when none runs)
  void watchOver();
  std::string bin_;
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
  std::string why_;
  int watch_fd_ = -1;  // the write end of the watchdog's pipe: its end ends the watch
  pid_t watchdog_ = 0;
};

// A loopback TCP port free now (bound and released at once), for a throwaway server; 0 when
// none could be had.
int freeLoopbackPort();

// The URI of a fresh, empty store of dialect ("sqlite": a new file in a per-process temp
// directory; "postgresql": a new database on the shared server) named after name; "" when
// PostgreSQL is unavailable. Each call gets a store of its own.
std::string freshStoreUri(const std::string& dialect, const std::string& name);

// Names a test instantiated per dialect by its dialect (for INSTANTIATE_TEST_SUITE_P).
struct DialectName {
  template <typename Info>
  std::string operator()(const Info& info) const {
    return info.param;
  }
};

}  // namespace tramite::testing
