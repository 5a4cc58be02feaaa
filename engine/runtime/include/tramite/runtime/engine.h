// The durable engine: SCXML definitions and instances kept in a Store. Every operation
// runs in one store transaction (the instance's new session, its timers, inbox rows for
// other instances, outbox rows and history rows commit together), with optimistic
// versioning on the instance row: a concurrent writer loses, and the engine retries it.
// A crash may delay work, never lose or duplicate it.
//
// Thread safety: every public method may be called from any thread concurrently.
#pragma once

#include <chrono>
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
#include "tramite/lifecycle/instance_lifecycle.h"
#include "tramite/runtime/documents.h"
#include "tramite/runtime/tasks.h"
#include "tramite/scxml/chart.h"
#include "tramite/scxml/event.h"
#include "tramite/signing/cms.h"
#include "tramite/status.h"
#include "tramite/step/extension.h"
#include "tramite/storage/blobs.h"
#include "tramite/storage/store.h"

namespace tramite::runtime {

// The engine speaks of instances in the instance lifecycle's terms (engine/lifecycle).
using lifecycle::acceptsEvents;
using lifecycle::applyLifecycle;
using lifecycle::isEnded;
using lifecycle::Lifecycle;
using lifecycle::lifecycleName;
using lifecycle::LifecycleOp;
using lifecycle::lifecycleOpName;
using lifecycle::parseLifecycle;

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

// A history row as callers see it (the API, the expediente bundle): seq, at, actor, kind and
// detail (its JSON, or the stored text when that is not JSON).
json::Value historyRowJson(const storage::HistoryRecord& row);

struct EngineOptions {
  // Per operation, on version conflicts or a busy store. On PostgreSQL every write waits its
  // turn for the ledger head, so a contended instance needs more attempts than before the
  // ledger: two engines on one hot instance used up 32 in 5 runs of 12.
  int max_attempts = 96;
  std::size_t max_local_events = 10'000;  // self-sent events handled inside one operation
  // How deep <invoke>d instances may nest (a document invoking itself stops there): a
  // deeper invocation fails with error.execution in its parent.
  std::uint32_t max_invoke_depth = 8;
  // How long the engine may answer "who is this sender" (for external events) from memory:
  // a change made through this engine takes effect at once, one made by another engine on
  // the same database within this time (as the API's principal cache). 0 reads every time.
  std::chrono::milliseconds sender_cache{1000};
  // Told of each timer or inbox row parked after failing for good (the server logs it).
  std::function<void(const storage::ParkedRecord&)> on_parked;
  // Group commit: concurrent operations are each computed against a snapshot and written
  // together in one transaction (one fsync); a failing request leaves nothing behind.
  bool group_commit = true;
  int max_batch = 128;
  // Write transactions in flight at once on a store that takes concurrent writers; SQLite
  // says itself (Store::commitSlots: one, or two with pipelined sync). On PostgreSQL the
  // appends take turns on the ledger head row, so more gain nothing (bench/README.md).
  int commit_pipelines = 2;
  // How long a commit may wait for requests still being computed to join it: a little
  // latency for fewer, fuller commits. It waits only while some request is being computed.
  std::chrono::microseconds commit_delay{1000};
  // Instance rows kept in memory after their commit, for the next request to start from
  // (a hint, checked at commit: see RecentInstances). 0 turns it off.
  std::size_t recent_instances = 4096;
  // The business calendar deadlines are counted on (default: national holidays only).
  std::shared_ptr<const calendar::BusinessCalendar> calendar;
  // Where instances receive BasicHTTP events (the server's public URL + "/api/v1/basichttp");
  // instances see _ioprocessors.basichttp.location = base + "/" + instance id. Their
  // BasicHTTP sends become "send.http" outbox rows for the server to deliver.
  std::string basichttp_base;

  // ---- documents and signatures ----
  // Where document bytes go (default: the database's blobs table).
  std::shared_ptr<storage::BlobStore> blobs;
  DocumentPolicy documents;
  // The CAs uploaded signatures must chain to; without one, uploads of signatures are refused.
  std::shared_ptr<const signing::TrustStore> trust_store;
  // The institutional seal that signs rendered documents; without one they stay unsigned.
  std::shared_ptr<const signing::Sealer> seal;
  // RFC 3161 transport: sends a TimeStampReq (DER) to the configured TSA and returns its
  // TimeStampResp. When set, every uploaded signature is timestamped before it is stored.
  std::function<Result<std::string>(const std::string& query)> timestamp_authority;
  // Mustache templates by name (<w:render template="NAME">), usually templates/*.mustache.
  std::map<std::string, std::string> templates;

  // Step extensions beyond the vocabulary's own (documents, then tasks), called after them
  // in this order (tramite/step/extension.h).
  std::vector<std::shared_ptr<const step::Extension>> extensions;
};

// A search over expedientes by user: what query asks, limited to what user may read.
struct InstanceSearch {
  std::string user;         // who searches
  std::string participant;  // for those who read every case: only cases this user takes part in
  storage::InstanceQuery query;  // criteria; its participation fields are the engine's to set
  // Created on or after from, on or before to (YYYY-MM-DD on the business calendar's clock).
  std::string from;
  std::string to;
  std::string cursor;  // next_cursor of the page before, or empty
};
struct InstancePage {
  std::vector<storage::InstanceSummary> instances;  // newest first
  std::string next_cursor;                          // empty on the last page
};

// What group commit has done since the engine started.
struct GroupCommitStats {
  std::uint64_t batches = 0;   // write transactions it took, committed or not
  std::uint64_t requests = 0;  // requests those carried (every batch carries at least one)
  std::uint64_t failed = 0;    // batches whose transaction failed
  // Committers' time by phase, summed over batches (monotonic clock, not the engine's):
  std::chrono::nanoseconds taking_writer{0};  // taking the write transaction (the one before
                                              // still writing)
  std::chrono::nanoseconds gathering{0};      // waiting for requests still being computed
  std::chrono::nanoseconds writing{0};        // the batch's writes, up to its commit
  std::chrono::nanoseconds committing{0};     // its commit, until durable
};

namespace internal {
class GroupCommit;
}

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

  // Starts an instance pinned to a definition version and runs its first macrostep. A
  // process (a document with workflow vocabulary) needs a business key (no control or
  // bidirectional characters) that no other of its cases has, and data as its <w:input>s
  // declare. Errors: kNotFound (definition), kConflict (instance id taken; the business key
  // is another case's, named), kInvalidArgument (naming each bad field or the key's fault).
  Result<InstanceView> start(const StartRequest& request);

  // Delivers an external event from actor and runs its macrostep. The engine decides who may
  // (event_policy.h): events it raises itself (task.*, done.*, error.*, deadline raises) never
  // come from outside; auditors and the compliance office never move a case; a process
  // accepts only the events it declares (<w:accepts>), from the roles it names, and an
  // administrator only with a reason (recorded in the event's history row). A refusal is
  // recorded as a "refused" history row. A repeated idempotency key (scoped to the actor)
  // returns the first result and changes nothing. Errors: kNotFound, kPermissionDenied,
  // kFailedPrecondition (the instance is suspended or ended).
  Result<InstanceView> send(const std::string& instance_id, const scxml::Event& event,
                            const std::string& actor, const std::string& idempotency_key = {},
                            const std::string& reason = {});
  // Delivers an event the platform itself raises into an instance (error.communication after
  // a failed BasicHTTP post), as the "system" actor. Only for the server's own workers; never
  // reachable from a request.
  Result<InstanceView> sendFromPlatform(const std::string& instance_id, const scxml::Event& event,
                                        const std::string& idempotency_key = {});

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

  // Expedientes matching search.query, newest first, a page at a time. Administrators,
  // auditors and the compliance office search every case (search.participant narrows it to
  // one person's); everyone else only the cases they, or whoever they stand in for today,
  // acted in or have an open task in. Errors: kPermissionDenied (no active user),
  // kInvalidArgument (bad cursor or limit).
  Result<InstancePage> searchInstances(const InstanceSearch& search);

  // The instance's history in order.
  Result<std::vector<storage::HistoryRecord>> history(const std::string& instance_id);

  // Fires timers due at the clock's now (each exactly once, across engines); returns how
  // many fired. Events for suspended instances wait until resume. A timer or inbox row whose
  // delivery fails for good (anything but a store outage) is parked with its error
  // (storage::ParkedRecord, a "parked" history row, options.on_parked) and the rest go on.
  Result<int> fireDueTimers(int limit = 64);
  // Delivers events one instance sent another (parent/child); returns how many.
  Result<int> drainInbox(int limit = 64);
  // Runs timers and inbox until neither has anything ready now.
  Status runPending();
  Result<std::optional<TimePoint>> nextTimerDue();
  // Counters of group commit (thread-safe; all zero when it is off).
  GroupCommitStats groupCommitStats() const;

  // ---- directory ----
  // Replaces the stored directory (units, roles, users, substitutions); recorded in the
  // history of "admin:directory" with the actor.
  Status importDirectory(const storage::DirectoryRecords& directory,
                         const std::string& actor = "system");
  Result<storage::DirectoryRecords> directory();
  // Adds a user, or changes one (name, unit, roles, active: an inactive user can neither log
  // in nor act, and keeps their history), checked as importDirectory checks a whole
  // directory; recorded under "admin:directory" with the actor. Errors: kInvalidArgument
  // naming what is wrong.
  Status putUser(const storage::UserRecord& user, const std::string& actor);

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
  // Whom user answers for today: "owner:", "user:", "unit:" and "role:" principals of the user
  // and of everyone they stand in for (substitutions in force on the calendar's today),
  // sorted; see reaches(). Errors: kNotFound (unknown user).
  Result<std::vector<std::string>> principalsOf(const std::string& user);

  // ---- documents and signatures ----
  // Stores upload.bytes content-addressed and records them as the next version of the named
  // document of the instance (a history row, so a ledger entry). Errors: kNotFound
  // (instance or task); kFailedPrecondition (the instance has ended); kPermissionDenied
  // (the actor is no active user); kInvalidArgument (bad name or filename);
  // kResourceExhausted (over the size limit); kUnsupportedMedia (type not taken, or bytes
  // that are not of the declared type).
  Result<DocumentView> attachDocument(const DocumentUpload& upload);
  // Every version of every document of an instance, with signatures, by name then version.
  Result<std::vector<DocumentView>> documents(const std::string& instance_id);
  Result<DocumentView> document(const std::string& document_id);
  // The bytes of a document or a .p7s by their SHA-256. Errors: kNotFound; kInternal when
  // the stored bytes no longer match their digest.
  Result<std::string> blob(const std::string& sha256);
  // Checks a detached CMS signature (DER) over a document version against the trust store
  // at the clock's time, binds its certificate to the directory user named by its UID,
  // timestamps it when a TSA is configured, and records it (a history row). Errors:
  // kNotFound; kInvalidArgument (not a detached CMS signature); kFailedPrecondition with
  // the reason (document mismatch, unknown CA, expired, key usage, timestamp, no trust
  // store, a certificate bound to no active user); kConflict (already signed with that
  // certificate); kUnavailable (the TSA cannot be reached).
  Result<storage::SignatureRecord> addSignature(const std::string& document_id,
                                                const std::string& p7s, const std::string& actor);

 private:
  struct Loaded;
  class Step;
  class TaskOperation;
  using Work = std::function<Result<InstanceView>(storage::Transaction&, bool&)>;
  // Runs a start/send body through group commit (or alone when it is off);
  // instance_id, when known, is read ahead with the rest of its batch.
  Result<InstanceView> submit(Work work, std::string instance_id);

  Result<scxml::ChartPtr> chartFor(storage::Transaction& tx, std::int64_t definition_id,
                                   storage::DefinitionRecord* record);
  void rememberChart(storage::DefinitionRecord record, scxml::ChartPtr chart);
  Result<Loaded> load(storage::Transaction& tx, const std::string& instance_id);
  // Sets loaded.chart/def from loaded.rec.definition_id and gives it a fresh datamodel.
  Status bindDefinition(storage::Transaction& tx, Loaded& loaded);
  InstanceView view(const Loaded& loaded) const;
  // send() and sendFromPlatform(): checks the sender unless platform is set.
  Result<InstanceView> sendAs(const std::string& instance_id, const scxml::Event& event,
                              const std::string& actor, const std::string& idempotency_key,
                              const std::string& reason, bool platform);
  // A process's start: a business key fit to name an expediente and free in the process
  // (taken here), and data as its <w:input>s declare. Plain SCXML documents take anything.
  // final_answer is set when asking again cannot change the answer.
  Status checkStart(storage::Transaction& tx, const scxml::Chart& chart,
                    const StartRequest& request, const std::string& id, bool& final_answer);
  // Whether actor may send event to the loaded instance now (see send()).
  Status checkSender(storage::Transaction& tx, const Loaded& inst, const std::string& event,
                     const std::string& actor, const std::string& reason);
  TaskView taskView(const storage::TaskRecord& record) const;
  // Delivers a timer's or inbox event inside tx and writes the result; when a <w:requires>
  // refuses it, undoes the step and records a "refused" history row instead.
  Status deliverOrRefuse(storage::Transaction& tx, Step& step, Loaded& inst,
                         const scxml::Event& event);
  Result<InstanceView> lifecycleOp(const std::string& instance_id, LifecycleOp op,
                                   const std::string& actor, const std::string& idempotency_key);
  // After a write outside group commit: the instance rows group commit remembers may be
  // stale.
  void forgetRecentInstances();
  // Runs body in a transaction, committing when it succeeds; retries conflicts.
  template <typename T, typename Body>
  Result<T> transact(Body&& body, storage::TxMode mode = storage::TxMode::kWrite);
  // Runs once(tx, working) in its own transaction up to limit times, until it returns 0
  // (nothing left); returns how many rounds did something. A round that fails for good
  // (not a store outage) parks the row it named in working and counts as done.
  template <typename Once>
  Result<int> repeat(int limit, Once&& once);
  // Takes a failed timer or inbox row out of the queue into the parked rows, with a
  // "parked" history row on its instance, and tells options_.on_parked.
  Status park(storage::ParkedRecord row);

  std::shared_ptr<storage::Store> store_;
  const Clock& clock_;
  EngineOptions options_;
  std::shared_ptr<const calendar::BusinessCalendar> calendar_;
  std::unique_ptr<internal::GroupCommit> group_commit_;
  std::shared_ptr<storage::BlobStore> blobs_;
  // The step's extensions, in the order it calls them: documents, tasks, then options'.
  std::vector<std::shared_ptr<const step::Extension>> extensions_;
  // Directory entries of event senders, read at most sender_cache ago (nullopt: not an
  // active user). Cleared by every directory change made through this engine.
  struct KnownSender {
    std::optional<storage::UserRecord> user;
    std::chrono::steady_clock::time_point read_at;
  };
  Result<std::optional<storage::UserRecord>> senderOf(storage::Transaction& tx,
                                                      const std::string& actor);
  void forgetSenders();
  std::mutex senders_mu_;
  std::unordered_map<std::string, KnownSender> senders_;
  std::mutex charts_mu_;
  std::unordered_map<std::int64_t, std::pair<scxml::ChartPtr, storage::DefinitionRecord>> charts_;
};

}  // namespace tramite::runtime
