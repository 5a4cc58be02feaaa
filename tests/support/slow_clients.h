// Connections that hold a server the way slow or hostile clients would, for the tests and
// benchmarks of the server's event loop.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace tramite::testing {

// Keeps n connections to 127.0.0.1:port busy from one thread of its own: even ones trickle a
// header line a byte at a time, odd ones a body that never ends, one byte each per 200 ms
// tick; a connection the server closes is opened again at once. Stops and closes them all
// when destroyed.
class SlowClients {
 public:
  SlowClients(int port, int n);
  ~SlowClients();
  SlowClients(const SlowClients&) = delete;
  SlowClients& operator=(const SlowClients&) = delete;

  int connected() const { return connected_; }  // sending bytes at the last tick
  int reopened() const { return reopened_; }    // closed by the server and opened again

 private:
  void run();
  int open(bool trickle_head);

  const int port_;
  std::vector<int> fds_;
  std::map<int, std::string> pending_;  // the start of a request not sent yet, by descriptor
  std::atomic<bool> stop_{false};
  std::atomic<int> connected_{0};
  std::atomic<int> reopened_{0};
  std::thread thread_;
};

}  // namespace tramite::testing
