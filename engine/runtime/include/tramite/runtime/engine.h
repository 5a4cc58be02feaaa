// The durable engine: SCXML definitions and instances kept in a Store. Every operation
// runs in one store transaction (the instance's new session, its timers, inbox rows for
// other instances, outbox rows and history rows commit together), with optimistic
// versioning on the instance row: a concurrent writer loses, and the engine retries it.
// A crash may delay work, never lose or duplicate it.
//
// Thread safety: every public method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tramite/calendar/calendar.h"
#include "tramite/clock.h"
#include "tramite/json.h"
#include "tramite/runtime/lifecycle.h"
#include "tramite/runtime/tasks.h"
#include "tramite/scxml/chart.h"
#include "tramite/scxml/event.h"
#include "tramite/status.h"
#include "tramite/storage/store.h"

namespace tramite::runtime {

struct StartRequest {
  std::string definition;    // deployed definition name
  std::int32_t version = 0;  // 0: the latest version
  std::string business_key;  // e.g. the expediente number
  json::Value data;          // initial data: an object, or null
  std::string actor;
  std::string idempotency_key;  // optional: a retried start returns the first result
  std::string instance_id;      // optional: generated when empty
};

// What callers see of an instance.
struct InstanceView {
  std::string id;
  std::string definition;
  std::int32_t version = 0;
  std::string business_key;
  std::string lifecycle;
  std::vector<std::string> configuration;  // sorted active atomic state ids
  json::Value data;                        // the datamodel's variables
  std::int64_t row_version = 0;

  json::Value toJson() const;
  static Result<InstanceView> fromJson(const json::Value& v);
};

struct EngineOptions {
  // Per operation, on version conflicts or a busy store. On PostgreSQL every write waits its
  // turn for the ledger head, so a contended instance needs more attempts than before the
  // ledger: two engines on one hot instance used up 32 in 5 runs of 12.
  int max_attempts = 96;
  std::size_t max_local_events = 10'000;  // self-sent events handled inside one operation
  // Group commit: concurrent start/send calls are computed together against a snapshot and
  // written in one transaction (one fsync); a failing request leaves nothing behind.
  bool group_commit = true;
  int max_batch = 128;
  // Batches in flight at once: with 2, one batch is computed while the previous one commits
  // (more helps a networked database).
  int commit_pipelines = 2;
  // The business calendar deadlines are counted on (default: national holidays only).
  std::shared_ptr<const calendar::BusinessCalendar> calendar;
  // Where instances receive BasicHTTP events (the server's public URL + "/api/v1/basichttp");
  // instances see _ioprocessors.basichttp.location = base + "/" + instance id. Their
  // BasicHTTP sends become "send.http" outbox rows for the server to deliver.
  std::string basichttp_base;
};

class Engine {
 public:
  // store: shared with other engines/processes; clock: injected (tests use ManualClock).
  Engine(std::shared_ptr<storage::Store> store, const Clock& clock, EngineOptions options = {});
  ~Engine();

  // Deploys a document as the next version of name. Deploying bytes identical to the latest
  // version returns that version. Errors: kInvalidDocument with every validation problem
  // ("file:line: message" lines) — nothing is stored then.
  Result<storage::DefinitionRecord> deploy(const std::string& name, const std::string& xml,
                                           const std::string& actor);
  Result<std::vector<storage::DefinitionRecord>> versions(const std::string& name);
  // Validates a document as deploy() would, storing nothing. Errors: kInvalidDocument.
  Status validate(const std::string& name, const std::string& xml) const;

  // Starts an instance pinned to a definition version and runs its first macrostep.
  // Errors: kNotFound (definition), kConflict (instance id taken).
  Result<InstanceView> start(const StartRequest& request);

  // Delivers an external event and runs its macrostep. A repeated idempotency key returns
  // the first result and changes nothing. Errors: kNotFound, kFailedPrecondition (the
  // instance is suspended or ended).
  Result<InstanceView> send(const std::string& instance_id, const scxml::Event& event,
                            const std::string& actor, const std::string& idempotency_key = {});

  Result<InstanceView> get(const std::string& instance_id);
  // Lifecycle operations; a repeated idempotency key returns the first result and changes
  // nothing. Errors: kNotFound, kFailedPrecondition (illegal in the current state).
  Result<InstanceView> suspend(const std::string& instance_id, const std::string& actor,
                               const std::string& idempotency_key = {});
  Result<InstanceView> resume(const std::string& instance_id, const std::string& actor,
                              const std::string& idempotency_key = {});
  Result<InstanceView> terminate(const std::string& instance_id, const std::string& actor,
                                 const std::string& idempotency_key = {});

  // Moves a running or suspended instance to another version of its definition. Each active
  // atomic state maps to mapping[id], or to the same id when unmapped. Errors:
  // kInvalidArgument naming every state the target version does not have;
  // kFailedPrecondition while the instance has active invocations.
  Result<InstanceView> migrate(const std::string& instance_id, std::int32_t to_version,
                               const std::map<std::string, std::string>& mapping,
                               const std::string& actor, const std::string& idempotency_key = {});

  // The instance's history in order.
  Result<std::vector<storage::HistoryRecord>> history(const std::string& instance_id);

  // Fires timers due at the clock's now (each exactly once, across engines); returns how
  // many fired. Events for suspended instances wait until resume.
  Result<int> fireDueTimers(int limit = 64);
  // Delivers events one instance sent another (parent/child); returns how many.
  Result<int> drainInbox(int limit = 64);
  // Runs timers and inbox until neither has anything ready now.
  Status runPending();
  Result<std::optional<TimePoint>> nextTimerDue();

  // ---- directory ----
  // Replaces the stored directory (units, roles, users, substitutions); recorded in the
  // history of "admin:directory" with the actor.
  Status importDirectory(const storage::DirectoryRecords& directory,
                         const std::string& actor = "system");
  Result<storage::DirectoryRecords> directory();

  // ---- human tasks ----
  // Tasks are created when a state declaring them is entered and leave the queues (exited)
  // when it is exited; deadlines are timers on the business calendar.
  Result<TaskView> task(const std::string& task_id);
  Result<std::vector<TaskView>> tasksOf(const std::string& instance_id);
  // Performs one operation on a task as action.actor, enforcing who may act (potential and
  // actual owners, their substitutes, the "admin" role) and the process's separation of
  // duties; completing raises the task's event into its instance in the same transaction.
  // Each operation is a history row with its actor. Errors: kNotFound; kPermissionDenied
  // (unknown or inactive user, not a candidate or owner, separation of duties);
  // kConflict (someone else claimed/finished the task first, or expected_version is stale);
  // kFailedPrecondition (the lifecycle forbids the operation, or the instance is suspended);
  // kInvalidArgument (bad decision, form values or targets).
  Result<TaskView> actOnTask(const std::string& task_id, const TaskAction& action);
  // A page of a queue. Errors: kNotFound (unknown user), kInvalidArgument (bad filter or
  // cursor).
  Result<QueuePage> queue(const QueueRequest& request);

 private:
  struct Loaded;
  class Step;
  class Batcher;
  class TaskOperation;
  using Work = std::function<Result<InstanceView>(storage::Transaction&, bool&)>;
  // Runs a start/send body through the batcher (or alone when group commit is off);
  // instance_id, when known, is read ahead with the rest of its batch.
  Result<InstanceView> submit(Work work, std::string instance_id);

  Result<scxml::ChartPtr> chartFor(storage::Transaction& tx, std::int64_t definition_id,
                                   storage::DefinitionRecord* record);
  void rememberChart(storage::DefinitionRecord record, scxml::ChartPtr chart);
  Result<Loaded> load(storage::Transaction& tx, const std::string& instance_id);
  // Sets loaded.chart/def from loaded.rec.definition_id and gives it a fresh datamodel.
  Status bindDefinition(storage::Transaction& tx, Loaded& loaded);
  InstanceView view(const Loaded& loaded) const;
  TaskView taskView(const storage::TaskRecord& record) const;
  Result<InstanceView> lifecycleOp(const std::string& instance_id, LifecycleOp op,
                                   const std::string& actor, const std::string& idempotency_key);
  // Runs body in a transaction, committing when it succeeds; retries conflicts.
  template <typename T, typename Body>
  Result<T> transact(Body&& body, storage::TxMode mode = storage::TxMode::kWrite);
  // Runs once(tx) in its own transaction up to limit times, until it returns 0 (nothing
  // left); returns how many rounds did something.
  template <typename Once>
  Result<int> repeat(int limit, Once&& once);

  std::shared_ptr<storage::Store> store_;
  const Clock& clock_;
  EngineOptions options_;
  std::shared_ptr<const calendar::BusinessCalendar> calendar_;
  std::unique_ptr<Batcher> batcher_;
  std::mutex charts_mu_;
  std::unordered_map<std::int64_t, std::pair<scxml::ChartPtr, storage::DefinitionRecord>> charts_;
};

}  // namespace tramite::runtime
