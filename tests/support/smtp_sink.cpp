#include "smtp_sink.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "pg_server.h"

namespace tramite::testing {

namespace fs = std::filesystem;

SmtpSink::SmtpSink(std::string dir) : dir_(std::move(dir)), port_(freeLoopbackPort()) {
  fs::create_directories(dir_);
}

SmtpSink::~SmtpSink() {
  stop();
  stall(false);
}

bool SmtpSink::available() {
  return std::system("/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1") == 0;
}

bool SmtpSink::start() {
  int in[2];
  int out[2];
  if (::pipe(in) != 0 || ::pipe(out) != 0) return false;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::close(in[1]);
    ::close(out[0]);
    const std::string script = std::string(TRAMITE_SOURCE_DIR) + "/tests/support/smtp_sink.py";
    const std::string port = std::to_string(port_);
    ::execl("/usr/bin/python3", "python3", script.c_str(), port.c_str(), dir_.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  stdin_fd_ = in[1];
  FILE* said = ::fdopen(out[0], "r");
  char line[64] = {};
  // The server prints "ready" once it listens; a failed start closes the pipe instead.
  const bool ready = std::fgets(line, sizeof line, said) && std::string(line) == "ready\n";
  std::fclose(said);
  if (!ready) stop();
  return ready;
}

void SmtpSink::stop() {
  if (pid_ <= 0) return;
  ::close(stdin_fd_);
  stdin_fd_ = -1;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = 0;
      return;
    }
    ::usleep(50'000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = 0;
}

void SmtpSink::stall(bool on) {
  const fs::path flag = fs::path(dir_) / "stall";
  if (on) {
    std::ofstream(flag) << "stall\n";
  } else {
    std::error_code ignored;
    fs::remove(flag, ignored);
  }
}

bool SmtpSink::holding() const {
  return fs::exists(fs::path(dir_) / "holding");
}

std::vector<std::string> SmtpSink::messages() const {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".eml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

std::string mailHeader(const std::string& message, const std::string& name) {
  const std::string head = message.substr(0, message.find("\r\n\r\n"));
  std::size_t at = 0;
  while (at < head.size()) {
    std::size_t end = head.find("\r\n", at);
    if (end == std::string::npos) end = head.size();
    const std::string line = head.substr(at, end - at);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), line.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      std::string value = line.substr(name.size() + 1);
      value.erase(0, value.find_first_not_of(' '));
      // Folded continuation lines belong to the value.
      while (end + 2 < head.size() && (head[end + 2] == ' ' || head[end + 2] == '\t')) {
        const std::size_t next = std::min(head.find("\r\n", end + 2), head.size());
        value += head.substr(end + 2, next - end - 2);
        end = next;
      }
      return value;
    }
    at = end + 2;
  }
  return "";
}

}  // namespace tramite::testing
