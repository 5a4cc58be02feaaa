#include "pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "files.h"

namespace fs = std::filesystem;

namespace tramite::testing {

namespace {

std::string findBinDir() {
  std::string best;
  if (!fs::exists("/usr/lib/postgresql")) return best;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql")) {
    fs::path bin = e.path() / "bin";
    if (fs::exists(bin / "initdb") && bin.string() > best) best = bin.string();
  }
  return best;
}

}  // namespace

int freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

PostgresServer::~PostgresServer() {
  stop();
}

PostgresServer* PostgresServer::shared() {
  static PostgresServer server;
  static bool started = server.start();
  return started ? &server : nullptr;
}

std::string PostgresServer::asPostgresUser(const std::string& command) const {
  // initdb refuses to run as root: run the server as the postgres system user then.
  if (::geteuid() == 0) return "runuser -u postgres -- " + command;
  return command;
}

bool PostgresServer::start() {
  bin_ = findBinDir();
  if (bin_.empty()) {
    why_ = "PostgreSQL server binaries not found under /usr/lib/postgresql";
    return false;
  }
  char tmpl[] = "/tmp/tramite-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    why_ = "cannot create a temporary directory";
    return false;
  }
  dir_ = tmpl;
  watchOver();
  if (::geteuid() == 0 && std::system(("chown postgres " + dir_).c_str()) != 0) {
    why_ = "cannot hand " + dir_ + " to the postgres user";
    return false;
  }
  std::string init = asPostgresUser(bin_ + "/initdb -D " + dir_ + "/data -A trust -U tramite " +
                                    "-E UTF8 --no-sync > " + dir_ + "/initdb.log 2>&1");
  if (std::system(init.c_str()) != 0) {
    why_ = "initdb failed (see " + dir_ + "/initdb.log)";
    return false;
  }
  for (int attempt = 0; attempt < 5 && !running_; ++attempt) {
    port_ = freeLoopbackPort();
    std::string start = asPostgresUser(
        bin_ + "/pg_ctl -D " + dir_ + "/data -w -t 30 -l " + dir_ + "/server.log -o \"-p " +
        std::to_string(port_) + " -k " + dir_ +
        " -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on\" start > /dev/null");
    running_ = std::system(start.c_str()) == 0;
  }
  if (!running_) why_ = "pg_ctl start failed (see " + dir_ + "/server.log)";
  return running_;
}

std::string freshStoreUri(const std::string& dialect, const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string unique = name + std::to_string(++counter);
  if (dialect == "sqlite") return "sqlite:" + processTempDir().file(unique + ".db");
  auto* pg = PostgresServer::shared();
  return pg ? pg->createDatabase(unique) : "";
}

std::string PostgresServer::createDatabase(const std::string& name) {
  psql("postgres", "CREATE DATABASE " + name);
  return "postgresql://tramite@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

bool PostgresServer::psql(const std::string& database, const std::string& sql) const {
  std::string file = dir_ + "/q.sql";
  std::ofstream(file) << sql << ";\n";
  std::string cmd = "psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " + std::to_string(port_) +
                    " -U tramite -d " + database + " -f " + file + " > /dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::optional<std::chrono::nanoseconds> PostgresServer::cpuTime() const {
  long postmaster = 0;
  if (!(std::ifstream(dir_ + "/data/postmaster.pid") >> postmaster) || postmaster <= 0) {
    return std::nullopt;
  }
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  long ticks = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::stol(name);
    const auto st = processStat(pid);  // nullopt: it exited meanwhile
    if (st && (pid == postmaster || st->ppid == postmaster)) ticks += st->utime + st->stime;
  }
  if (ec || ticks_per_second <= 0) return std::nullopt;
  return std::chrono::nanoseconds(ticks * (1'000'000'000 / ticks_per_second));
}

std::string PostgresServer::stopCommand() const {
  return asPostgresUser(bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop");
}

// Forks a watchdog that waits for the end of a pipe only this process holds (close-on-exec,
// so no child it runs keeps it open), then stops the server and removes its directory: when
// this process ends however it ends, or when stop() closes the pipe having done the same.
// The child only execs a shell (nothing but async-signal-safe calls after fork), in a session
// of its own (a Ctrl-C does not stop it first) and with its output closed (a test runner
// reading this process's output does not wait for it).
void PostgresServer::watchOver() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;  // without a watchdog, stop() still cleans up
  const std::string script = "read _; " + stopCommand() + "; rm -rf " + dir_;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ::dup2(fds[0], 0);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  if (pid < 0) {
    ::close(fds[1]);
    return;
  }
  watch_fd_ = fds[1];
  watchdog_ = pid;
}

void PostgresServer::stop() {
  if (running_) {
    (void)std::system((stopCommand() + " > /dev/null 2>&1").c_str());
    running_ = false;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
  if (watch_fd_ >= 0) {
    ::close(watch_fd_);  // the watchdog finds nothing left to do, and ends
    watch_fd_ = -1;
    ::waitpid(watchdog_, nullptr, 0);
  }
}

}  // namespace tramite::testing
