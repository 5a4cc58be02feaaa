// The API's handlers: service.
#include "api_impl.h"

namespace tramite::api {

Result<HttpResponse> Api::Impl::healthz(Context&) {
  return jsonResponse(200, json::Value(json::Object{{"status", "ok"}}));
}

Result<HttpResponse> Api::Impl::readyz(Context&) {
  auto tx = store_->begin(storage::TxMode::kRead);
  if (!tx)
    return Status(ErrorCode::kUnavailable, "the store is not reachable: " + tx.status().message());
  return jsonResponse(200, json::Value(json::Object{{"status", "ready"},
                                                    {"store", store_->dialectName()},
                                                    {"schema", store_->schemaVersion()}}));
}

Result<HttpResponse> Api::Impl::metrics(Context&) {
  std::string out;
  metrics_.appendTo(out);
  const TimePoint now = clock_.nowMs();
  auto stats = inTransaction<storage::StoreStatistics>(
      *store_, storage::TxMode::kRead,
      [&](storage::Transaction& tx) { return tx.statistics(now); });
  if (!stats) return stats.status();
  out += "# HELP tramite_instances Instances stored, by lifecycle state.\n";
  out += "# TYPE tramite_instances gauge\n";
  for (const auto& [lifecycle, n] : stats->instances_by_lifecycle) {
    out += "tramite_instances{state=\"" + promLabel(lifecycle) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP tramite_tasks_open Open human tasks.\n# TYPE tramite_tasks_open gauge\n";
  out += "tramite_tasks_open " + std::to_string(stats->open_tasks) + "\n";
  out += "# HELP tramite_tasks_overdue Open human tasks past their due date.\n";
  out += "# TYPE tramite_tasks_overdue gauge\n";
  out += "tramite_tasks_overdue " + std::to_string(stats->overdue_tasks) + "\n";
  const double lag =
      stats->oldest_due_timer > 0 ? static_cast<double>(now - stats->oldest_due_timer) / 1000.0 : 0;
  char number[32];
  std::snprintf(number, sizeof number, "%.3f", lag);
  out += "# HELP tramite_timer_lag_seconds How late the oldest due, unfired timer is.\n";
  out += "# TYPE tramite_timer_lag_seconds gauge\n";
  out += "tramite_timer_lag_seconds " + std::string(number) + "\n";
  out += "# HELP tramite_parked_rows Timer and inbox rows parked after failing for good.\n";
  out += "# TYPE tramite_parked_rows gauge\n";
  out += "tramite_parked_rows " + std::to_string(stats->parked) + "\n";
  const runtime::GroupCommitStats commits = engine_->groupCommitStats();
  out += "# HELP tramite_group_commit_batches_total Write transactions of group commit.\n";
  out += "# TYPE tramite_group_commit_batches_total counter\n";
  out += "tramite_group_commit_batches_total " + std::to_string(commits.batches) + "\n";
  out += "# HELP tramite_group_commit_requests_total Requests written by group commit.\n";
  out += "# TYPE tramite_group_commit_requests_total counter\n";
  out += "tramite_group_commit_requests_total " + std::to_string(commits.requests) + "\n";
  out += "# HELP tramite_group_commit_failures_total Group commits whose transaction failed.\n";
  out += "# TYPE tramite_group_commit_failures_total counter\n";
  out += "tramite_group_commit_failures_total " + std::to_string(commits.failed) + "\n";
  out += "# HELP tramite_group_commit_seconds_total Committers' time by phase.\n";
  out += "# TYPE tramite_group_commit_seconds_total counter\n";
  for (const auto& [phase, total] : {std::pair{"taking_writer", commits.taking_writer},
                                     {"gathering", commits.gathering},
                                     {"writing", commits.writing},
                                     {"committing", commits.committing}}) {
    std::snprintf(number, sizeof number, "%.6f", std::chrono::duration<double>(total).count());
    out +=
        "tramite_group_commit_seconds_total{phase=\"" + std::string(phase) + "\"} " + number + "\n";
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(out);
  return r;
}

Result<HttpResponse> Api::Impl::openapi(Context&) {
  HttpResponse r;
  r.body = Api::openApiDocument();
  return r;
}

// The routes of this resource (see Route in api_impl.h).
std::vector<Api::Impl::Route> Api::Impl::serviceRoutes() {
  using I = Impl;
  return {
      Route("healthz", "GET", "/healthz", Access::kPublic, &I::healthz)
          .summary("Liveness")
          .returns(200, "Health", "alive"),
      Route("readyz", "GET", "/readyz", Access::kPublic, &I::readyz)
          .summary("Readiness: the store answers")
          .returns(200, "Readiness", "ready")
          .fails({503}),
      Route("metrics", "GET", "/metrics", Access::kMonitor, &I::metrics)
          .summary("Prometheus metrics",
                   "Requests by route and status, latency histogram, instances by state, open and "
                   "overdue tasks, timer lag. Admin, auditor or compliance office.")
          .returns(200, kText, "text exposition format", "text/plain"),
      Route("openApiDocument", "GET", "/api/v1/openapi.json", Access::kPublic, &I::openapi)
          .summary("This document")
          .returns(200, "OpenApiDocument", "OpenAPI 3 document"),
  };
}

}  // namespace tramite::api
