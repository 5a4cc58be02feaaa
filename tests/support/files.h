// File, process and command helpers for test programs, with no dependency on the project's
// libraries.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tramite::testing {

inline std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Runs a shell command; its exit status.
inline int shell(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A fresh temporary directory, removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/tramite-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// What /proc/PID/stat says of a process that tests look at; nullopt once it has exited.
struct ProcessStat {
  char state = '?';  // 'Z' for a zombie its parent has not reaped
  long ppid = 0;
  long utime = 0;  // CPU time, in clock ticks (sysconf(_SC_CLK_TCK) per second)
  long stime = 0;
};
inline std::optional<ProcessStat> processStat(long pid) {
  std::string line;
  if (!std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/stat"), line)) {
    return std::nullopt;
  }
  // pid (comm) state ppid ... with utime and stime the 14th and 15th fields; comm may hold
  // spaces and parentheses, so the fields are counted from the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  ProcessStat st;
  fields >> st.state >> st.ppid;
  std::string skip;
  for (int field = 5; field < 14; ++field) fields >> skip;
  if (!(fields >> st.utime >> st.stime)) return std::nullopt;
  return st;
}

// This process's scratch directory: made on first use, removed with everything in it when
// the process exits normally. A forked child must exec or _exit (as the tests' children do),
// or its exit would remove its parent's directory.
inline const TempDir& processTempDir() {
  static const TempDir dir;
  return dir;
}

}  // namespace tramite::testing
