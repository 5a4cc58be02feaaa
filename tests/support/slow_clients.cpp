#include "slow_clients.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>

namespace tramite::testing {

SlowClients::SlowClients(int port, int n) : port_(port), fds_(static_cast<std::size_t>(n), -1) {
  thread_ = std::thread([this] { run(); });
}

SlowClients::~SlowClients() {
  stop_ = true;
  thread_.join();
  for (int fd : fds_) {
    if (fd >= 0) ::close(fd);
  }
}

void SlowClients::run() {
  while (!stop_) {
    int connected = 0;
    for (std::size_t i = 0; i < fds_.size(); ++i) {
      int& fd = fds_[i];
      if (fd < 0 && (fd = open(i % 2 == 0)) < 0) continue;
      char drained[512];  // what the server answers (an error, before it closes) is dropped
      const ssize_t got = ::recv(fd, drained, sizeof drained, MSG_DONTWAIT);
      const bool closed = got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
      ssize_t sent = -1;
      if (!closed) {
        auto start = pending_.find(fd);
        if (start == pending_.end()) {
          sent = ::send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else if (::send(fd, start->second.data(), start->second.size(),
                          MSG_NOSIGNAL | MSG_DONTWAIT) ==
                   static_cast<ssize_t>(start->second.size())) {
          pending_.erase(start);  // connected (a start this short is sent whole or not at all)
          sent = 1;
        }
      }
      if (sent == 1) {
        ++connected;
      } else if (closed || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        pending_.erase(fd);
        ::close(fd);
        fd = -1;
        ++reopened_;
      }
    }
    connected_ = connected;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// A non-blocking connection with the start of a request queued behind its connect.
int SlowClients::open(bool trickle_head) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port_));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  pending_[fd] = trickle_head ? "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
                              : "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                "application/json\r\nContent-Length: 60000\r\n\r\n{";
  return fd;
}

}  // namespace tramite::testing
