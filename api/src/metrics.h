// Request metrics in Prometheus' text format: requests by route and status, and a latency
// histogram by route. Thread-safe. Internal to the api module.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace tramite::api {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

  void record(const std::string& route, int status, double seconds);
  // Appends the request families (tramite_http_requests_total,
  // tramite_http_request_duration_seconds) to out.
  void appendTo(std::string& out) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

// A label value with \, " and newlines escaped.
std::string promLabel(const std::string& value);

}  // namespace tramite::api
