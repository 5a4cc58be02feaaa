#include "metrics.h"

#include <cstdio>

namespace tramite::api {

std::string promLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Metrics::record(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::appendTo(std::string& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  char number[64];
  out += "# HELP tramite_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE tramite_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "tramite_http_requests_total{route=\"" + promLabel(key.first) + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP tramite_http_request_duration_seconds Time to answer a request, by route.\n";
  out += "# TYPE tramite_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    const std::string label = "route=\"" + promLabel(route) + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      std::snprintf(number, sizeof number, "%g", kBuckets[i]);
      out += "tramite_http_request_duration_seconds_bucket{" + label + ",le=\"" + number + "\"} " +
             std::to_string(h.buckets[i]) + "\n";
    }
    out += "tramite_http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    std::snprintf(number, sizeof number, "%.6f", h.sum);
    out += "tramite_http_request_duration_seconds_sum{" + label + "} " + number + "\n";
    out += "tramite_http_request_duration_seconds_count{" + label + "} " + std::to_string(h.count) +
           "\n";
  }
}

}  // namespace tramite::api
