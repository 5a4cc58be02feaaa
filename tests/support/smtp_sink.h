// A throwaway SMTP server for tests: tests/support/smtp_sink.py (Debian's python3-aiosmtpd)
// as a child process on a loopback port, keeping each message it accepts as a file. Never a
// mock of the client: the sender under test speaks real SMTP to it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tramite::testing {

class SmtpSink {
 public:
  // Messages go to dir (created); the port is chosen free now and kept across restarts.
  explicit SmtpSink(std::string dir);
  ~SmtpSink();  // stops the server
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  // Whether /usr/bin/python3 has aiosmtpd (scripts/install-deps.sh installs it).
  static bool available();
  // Starts the server; false when it did not say it was ready within 10 s.
  bool start();
  void stop();
  // While stalled, the server holds every RCPT TO unanswered.
  void stall(bool on);
  // True once a client waits on a stalled RCPT TO.
  bool holding() const;

  int port() const { return port_; }
  // The messages accepted so far, each whole (headers and body), in arrival order.
  std::vector<std::string> messages() const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = 0;
  int stdin_fd_ = -1;  // closing it ends the server
};

// A header's value in a message ("" when absent); RFC 2047 words are left encoded.
std::string mailHeader(const std::string& message, const std::string& name);

}  // namespace tramite::testing
