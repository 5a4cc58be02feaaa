#include "tramite/runtime/engine.h"

#include <algorithm>
#include <memory>
#include <random>
#include <thread>

#include "engine_internal.h"
#include "event_policy.h"
#include "form_check.h"
#include "group_commit.h"
#include "overlay.h"
#include "step.h"
#include "tramite/documents/document_work.h"
#include "tramite/scxml/datamodel.h"
#include "tramite/scxml/interpreter.h"
#include "tramite/scxml/parser.h"
#include "tramite/scxml/session_codec.h"
#include "tramite/tasks/task_work.h"
#include "tramite/text.h"
#include "tramite/workflow/vocabulary.h"

namespace tramite::runtime {

namespace internal {

std::string newId(TimePoint now) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  // UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids made
  // close in time sort together, so the rows of the instances and tasks being worked on share
  // index pages instead of landing on a random page each (fewer pages written per commit).
  const auto ms = static_cast<std::uint64_t>(std::max<TimePoint>(now, 0)) & 0xFFFFFFFFFFFFull;
  const std::uint64_t hi = (ms << 16) | 0x7000u | (rng() & 0x0FFFu);
  const std::uint64_t lo = (rng() & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  std::string out;
  out.reserve(36);
  auto put = [&](std::uint64_t v, int from, int to) {
    for (int i = from; i < to; ++i) out += kHex[(v >> ((15 - i) * 4)) & 0xF];
  };
  put(hi, 0, 8);
  out += '-';
  put(hi, 8, 12);
  out += '-';
  put(hi, 12, 16);
  out += '-';
  put(lo, 0, 4);
  out += '-';
  put(lo, 4, 16);
  return out;
}

Result<std::optional<storage::UserRecord>> activeUser(storage::Transaction& tx,
                                                      const std::string& id) {
  auto user = tx.user(id);
  if (!user || !user->has_value() || (*user)->active) return user;
  return std::optional<storage::UserRecord>();
}

scxml::ParseResult parseDeployed(const std::string& xml, const std::string& source_name) {
  scxml::ParseOptions options;
  options.load_src = false;
  return scxml::parseString(xml, source_name, "/nonexistent", workflow::parseOptions(options));
}

bool retryable(const Status& st) {
  return st.code() == ErrorCode::kConflict || st.code() == ErrorCode::kUnavailable;
}

void backoff(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  int cap = std::min(2000, 50 << std::min(attempt, 6));
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % static_cast<unsigned>(cap)));
}

std::string timerPayload(const scxml::Event& event, const std::string& to) {
  json::Value v(json::Object{{"event", scxml::eventToJson(event)}});
  if (!to.empty()) v.set("to", to);
  return json::dump(v);
}

std::string eventText(const scxml::Event& event) {
  return json::dump(scxml::eventToJson(event));
}

Result<scxml::Event> eventFromText(const std::string& text) {
  auto v = json::parse(text);
  if (!v) return v.status();
  return scxml::eventFromJson(*v);
}

}  // namespace internal

using namespace internal;

// ---- engine -----------------------------------------------------------------------------------

Engine::Engine(std::shared_ptr<storage::Store> store, const Clock& clock, EngineOptions options)
    : store_(std::move(store)),
      clock_(clock),
      options_(std::move(options)),
      calendar_(options_.calendar ? options_.calendar
                                  : std::make_shared<const calendar::BusinessCalendar>()),
      group_commit_(std::make_unique<internal::GroupCommit>(*store_, options_)),
      blobs_(options_.blobs ? options_.blobs
                            : std::shared_ptr<storage::BlobStore>(storage::databaseBlobStore())) {
  // The vocabulary's own extensions: documents first, so that a state's <w:requires> is
  // checked before its tasks close (a refused exit leaves them open).
  extensions_.push_back(documents::documentWork(options_.templates, blobs_, options_.seal));
  extensions_.push_back(tasks::taskWork());
  for (auto& extension : options_.extensions) extensions_.push_back(extension);
}

void Engine::forgetRecentInstances() {
  group_commit_->recent().clear();
}

GroupCommitStats Engine::groupCommitStats() const {
  return group_commit_->stats();
}

Result<InstanceView> Engine::submit(Work work, std::string instance_id) {
  if (options_.group_commit) return group_commit_->run(std::move(work), std::move(instance_id));
  return transact<InstanceView>(work);
}

Engine::~Engine() = default;

Status Engine::validate(const std::string& name, const std::string& xml) const {
  scxml::ParseResult parsed = parseDeployed(xml, name.empty() ? "document" : name);
  if (!parsed.ok()) return Status(ErrorCode::kInvalidDocument, parsed.errorText());
  return Status::ok();
}

Result<storage::DefinitionRecord> Engine::deploy(const std::string& name, const std::string& xml,
                                                 const std::string& actor) {
  if (name.empty() || name.size() > 200) {
    return Status(ErrorCode::kInvalidArgument, "a definition name must have 1 to 200 characters");
  }
  scxml::ParseResult parsed = parseDeployed(xml, name);
  if (!parsed.ok()) return Status(ErrorCode::kInvalidDocument, parsed.errorText());
  std::string sha = sha256Hex(xml);
  auto deployed = transact<storage::DefinitionRecord>(
      [&](storage::Transaction& tx, bool&) -> Result<storage::DefinitionRecord> {
        auto latest = tx.definition(name, 0);
        if (!latest) return latest.status();
        if (latest->has_value() && (*latest)->sha256 == sha) return **latest;
        auto added = tx.addDefinition(name, sha, xml, clock_.nowMs());
        if (!added) return added.status();
        Status st = tx.appendHistory({storage::HistoryRecord{
            0, "definition:" + name, clock_.nowMs(), actor, "deploy",
            json::dump(json::Value(json::Object{
                {"version", static_cast<std::int64_t>(added->version)}, {"sha256", sha}}))}});
        if (!st) return st;
        return added;
      });
  if (deployed) rememberChart(*deployed, parsed.chart);
  return deployed;
}

Result<std::vector<storage::DefinitionRecord>> Engine::versions(const std::string& name) {
  return transact<std::vector<storage::DefinitionRecord>>(
      [&](storage::Transaction& tx, bool&) { return tx.definitionVersions(name); },
      storage::TxMode::kRead);
}

Result<InstanceView> Engine::start(const StartRequest& request) {
  if (!request.data.isNull() && !request.data.isObject()) {
    return Status(ErrorCode::kInvalidArgument, "initial data must be a JSON object");
  }
  // Idempotency keys are the caller's own: the same key from another user is another key.
  const std::string scope = "start:" + request.definition + ":" + request.actor;
  const std::string id = request.instance_id.empty() ? newId(clock_.nowMs()) : request.instance_id;
  return submit(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<InstanceView> {
        auto prior = storedResult<InstanceView>(tx, scope, request.idempotency_key);
        if (!prior) return prior.status();
        if (prior->has_value()) {
          final_answer = true;
          return **prior;
        }
        auto def = tx.definition(request.definition, request.version);
        if (!def) return def.status();
        if (!def->has_value()) {
          final_answer = true;
          return Status(ErrorCode::kNotFound,
                        "no definition '" + request.definition + "'" +
                            (request.version ? " version " + std::to_string(request.version) : ""));
        }
        auto existing = tx.instance(id);
        if (!existing) return existing.status();
        if (existing->has_value()) {
          // A concurrent start with the same key may have committed since the first look: its
          // instance and its key row commit together, so look again before calling it a clash.
          auto raced = storedResult<InstanceView>(tx, scope, request.idempotency_key);
          if (!raced) return raced.status();
          final_answer = true;
          if (raced->has_value()) return **raced;
          return Status(ErrorCode::kConflict, "instance '" + id + "' already exists");
        }
        Loaded inst;
        inst.rec.id = id;
        inst.rec.definition_id = (*def)->id;
        inst.rec.business_key = request.business_key;
        inst.rec.row_version = 1;
        if (Status st = bindDefinition(tx, inst); !st) return st;
        if (Status st = checkStart(tx, *inst.chart, request, id, final_answer); !st) return st;
        inst.rec.unit = startUnit(*inst.chart, request.data);
        inst.session.id = id;
        Step step(*this, tx, request.actor);
        step.record(
            inst, "start",
            json::Value(json::Object{{"definition", request.definition},
                                     {"version", static_cast<std::int64_t>(inst.def.version)},
                                     {"business_key", request.business_key},
                                     {"data", request.data}}));
        const json::Value* data = request.data.isObject() ? &request.data : nullptr;
        if (Status st = step.start(inst, data, scxml::UndeclaredData::kBind); !st) return st;
        if (Status st = step.commit(inst, /*insert=*/true); !st) return st;
        InstanceView v = view(inst);
        Status st = storeResult(tx, scope, request.idempotency_key, v, step.now());
        if (!st) return st;
        return v;
      },
      id);
}

Status Engine::checkStart(storage::Transaction& tx, const scxml::Chart& chart,
                          const StartRequest& request, const std::string& id, bool& final_answer) {
  if (!chartHasWork(chart)) return Status::ok();
  final_answer = true;  // bad data or a key taken: asking again changes nothing
  if (Status st = checkBusinessKey(request.business_key); !st) return st;
  const std::vector<FieldSpec> inputs = startInputs(chart);
  if (!inputs.empty()) {
    auto problems = checkFields(tx, inputs, request.data);
    if (!problems) {
      final_answer = !retryable(problems.status());
      return problems.status();
    }
    if (!problems->empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    "cannot start '" + request.definition + "': " + join(*problems, "; "));
    }
  }
  // One case per business key and process: the key is taken in the start's transaction, so
  // of two concurrent starts one commits and the other, retried, finds it taken.
  const std::string scope = "business-key:" + request.definition;
  auto taken = tx.idempotentResult(scope, request.business_key);
  if (!taken) {
    final_answer = !retryable(taken.status());
    return taken.status();
  }
  if (taken->has_value()) {
    return Status(ErrorCode::kConflict, "expediente " + request.business_key + " is already case " +
                                            **taken + " of " + request.definition);
  }
  final_answer = false;
  return tx.saveIdempotentResult(scope, request.business_key, id, clock_.nowMs());
}

Result<InstanceView> Engine::send(const std::string& instance_id, const scxml::Event& event,
                                  const std::string& actor, const std::string& idempotency_key,
                                  const std::string& reason) {
  return sendAs(instance_id, event, actor, idempotency_key, reason, /*platform=*/false);
}

Result<InstanceView> Engine::sendFromPlatform(const std::string& instance_id,
                                              const scxml::Event& event,
                                              const std::string& idempotency_key) {
  return sendAs(instance_id, event, kSystemActor, idempotency_key, {}, /*platform=*/true);
}

Result<std::optional<storage::UserRecord>> Engine::senderOf(storage::Transaction& tx,
                                                            const std::string& actor) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(senders_mu_);
    auto it = senders_.find(actor);
    if (it != senders_.end() && now - it->second.read_at < options_.sender_cache) {
      return it->second.user;
    }
  }
  auto user = activeUser(tx, actor);
  if (!user) return user;
  if (options_.sender_cache.count() > 0) {
    std::lock_guard<std::mutex> lock(senders_mu_);
    if (senders_.size() >= 4096) senders_.clear();  // a bound, not an eviction policy
    senders_[actor] = KnownSender{*user, now};
  }
  return user;
}

void Engine::forgetSenders() {
  std::lock_guard<std::mutex> lock(senders_mu_);
  senders_.clear();
}

Status Engine::checkSender(storage::Transaction& tx, const Loaded& inst, const std::string& event,
                           const std::string& actor, const std::string& reason) {
  const EventPolicy policy = EventPolicy::of(*inst.chart);
  Sender sender;
  sender.user = actor;
  sender.reason = reason;
  auto user = senderOf(tx, actor);
  if (!user) return user.status();
  if (user->has_value()) {
    sender.known = true;
    sender.roles = (*user)->roles;
  }
  const bool asks_requester = std::any_of(policy.accepts.begin(), policy.accepts.end(),
                                          [](const AcceptSpec& a) { return a.requester; });
  if (asks_requester) {
    auto first = tx.history(inst.rec.id, 0, 1);
    if (!first) return first.status();
    sender.requester =
        !first->empty() && first->front().kind == "start" && first->front().actor == actor;
  }
  std::vector<std::string> active;  // only a process's declarations depend on its states
  if (policy.process) {
    inst.session.configuration.forEach(
        [&](scxml::StateIndex s) { active.push_back(inst.chart->state(s).id); });
  }
  return mayReceive(policy, active, event, sender);
}

Result<InstanceView> Engine::sendAs(const std::string& instance_id, const scxml::Event& event,
                                    const std::string& actor, const std::string& idempotency_key,
                                    const std::string& reason, bool platform) {
  if (event.name.empty()) return Status(ErrorCode::kInvalidArgument, "an event needs a name");
  // Keys are the caller's own: another user's key is another key.
  const std::string scope = "send:" + instance_id + ":" + actor;
  std::optional<Status> refused;
  auto sent = submit(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<InstanceView> {
        refused.reset();
        auto prior = storedResult<InstanceView>(tx, scope, idempotency_key);
        if (!prior) return prior.status();
        if (prior->has_value()) {
          final_answer = true;
          return **prior;
        }
        auto inst = load(tx, instance_id);
        if (!inst) {
          final_answer = inst.status().code() == ErrorCode::kNotFound;
          return inst.status();
        }
        if (!acceptsEvents(inst->lifecycle)) {
          final_answer = true;
          return Status(ErrorCode::kFailedPrecondition,
                        "instance '" + instance_id + "' is " +
                            std::string(lifecycleName(inst->lifecycle)) +
                            " and does not accept events");
        }
        if (!platform) {
          if (Status st = checkSender(tx, *inst, event.name, actor, reason); !st) {
            final_answer = !retryable(st);
            if (st.code() == ErrorCode::kPermissionDenied) refused = st;
            return st;
          }
        }
        Step step(*this, tx, actor);
        scxml::Event external = event;
        external.type = scxml::EventType::kExternal;
        if (Status st = step.deliver(*inst, external, actor, reason); !st) return st;
        if (Status st = step.commit(*inst, false); !st) return st;
        InstanceView v = view(*inst);
        Status st = storeResult(tx, scope, idempotency_key, v, step.now());
        if (!st) return st;
        return v;
      },
      instance_id);
  if (refused) {
    // The refusal is part of the expediente's record: who tried what, and why not.
    auto recorded = transact<bool>([&](storage::Transaction& tx, bool&) -> Result<bool> {
      json::Value detail(json::Object{
          {"source", "external"}, {"event", event.name}, {"reason", refused->message()}});
      if (!reason.empty()) detail.set("stated_reason", reason);
      Status st = tx.appendHistory({storage::HistoryRecord{0, instance_id, clock_.nowMs(), actor,
                                                           "refused", json::dump(detail)}});
      if (!st) return st;
      return true;
    });
    if (!recorded) return recorded.status();
  }
  return sent;
}

Result<InstanceView> Engine::get(const std::string& instance_id) {
  return transact<InstanceView>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<InstanceView> {
        auto inst = load(tx, instance_id);
        if (!inst) {
          final_answer = true;
          return inst.status();
        }
        return view(*inst);
      },
      storage::TxMode::kRead);
}

Result<InstanceView> Engine::lifecycleOp(const std::string& instance_id, LifecycleOp op,
                                         const std::string& actor,
                                         const std::string& idempotency_key) {
  return transact<InstanceView>(idempotently<InstanceView>(
      "lifecycle:" + instance_id + ":" + std::string(lifecycleOpName(op)) + ":" + actor,
      idempotency_key, clock_,
      [&](storage::Transaction& tx, bool& final_answer) -> Result<InstanceView> {
        auto inst = load(tx, instance_id);
        if (!inst) {
          final_answer = inst.status().code() == ErrorCode::kNotFound;
          return inst.status();
        }
        Step step(*this, tx, actor);
        if (Status st = step.changeLifecycle(*inst, op); !st) {
          final_answer = st.code() == ErrorCode::kFailedPrecondition;
          return st;
        }
        if (op == LifecycleOp::kResume) {
          // Events that arrived while suspended are delivered next, in order.
          if (auto r = tx.releaseDeferred(instance_id); !r) return r.status();
        }
        if (Status st = step.commit(*inst, false); !st) return st;
        return view(*inst);
      }));
}

Result<InstanceView> Engine::suspend(const std::string& id, const std::string& actor,
                                     const std::string& key) {
  return lifecycleOp(id, LifecycleOp::kSuspend, actor, key);
}
Result<InstanceView> Engine::resume(const std::string& id, const std::string& actor,
                                    const std::string& key) {
  return lifecycleOp(id, LifecycleOp::kResume, actor, key);
}
Result<InstanceView> Engine::terminate(const std::string& id, const std::string& actor,
                                       const std::string& key) {
  return lifecycleOp(id, LifecycleOp::kTerminate, actor, key);
}

Result<InstanceView> Engine::migrate(const std::string& instance_id, std::int32_t to_version,
                                     const std::map<std::string, std::string>& mapping,
                                     const std::string& actor, const std::string& idempotency_key) {
  return transact<InstanceView>(idempotently<InstanceView>(
      "migrate:" + instance_id + ":" + actor, idempotency_key, clock_,
      [&](storage::Transaction& tx, bool& final_answer) -> Result<InstanceView> {
        final_answer = true;  // only storage conflicts below are worth a retry
        auto inst = load(tx, instance_id);
        if (!inst) return inst.status();
        if (isEnded(inst->lifecycle)) {
          return Status(
              ErrorCode::kFailedPrecondition,
              "instance '" + instance_id + "' is " + std::string(lifecycleName(inst->lifecycle)));
        }
        if (!inst->session.invocations.empty()) {
          return Status(
              ErrorCode::kFailedPrecondition,
              "instance '" + instance_id + "' has active invocations; migrate it when they end");
        }
        auto target = tx.definition(inst->def.name, to_version);
        if (!target) {
          final_answer = false;
          return target.status();
        }
        if (!target->has_value()) {
          return Status(ErrorCode::kNotFound, "definition '" + inst->def.name +
                                                  "' has no version " + std::to_string(to_version));
        }
        // The instance as it will be: same row, bound to the target version.
        Loaded next;
        next.rec = inst->rec;
        next.rec.definition_id = (*target)->id;
        next.lifecycle = inst->lifecycle;
        if (Status st = bindDefinition(tx, next); !st) return st;
        const scxml::Chart& chart = *next.chart;
        // Map every active atomic state; refuse unknown ones, naming them all.
        std::vector<std::string> from = scxml::activeAtomicStates(*inst->chart, inst->session);
        json::Array mapped;
        std::vector<std::string> unknown;
        json::Object applied;
        for (const std::string& s : from) {
          auto it = mapping.find(s);
          std::string to = it == mapping.end() ? s : it->second;
          scxml::StateIndex idx = chart.find(to);
          if (idx == scxml::kNoState || !chart.state(idx).isAtomic()) {
            unknown.push_back(to);
            continue;
          }
          mapped.emplace_back(to);
          applied.emplace_back(s, to);
        }
        for (const auto& [k, v] : mapping) {
          if (std::find(from.begin(), from.end(), k) == from.end()) {
            return Status(ErrorCode::kInvalidArgument,
                          "the mapping names '" + k + "', which is not an active state");
          }
        }
        if (!unknown.empty()) {
          std::string list;
          for (const auto& u : unknown) list += (list.empty() ? "'" : ", '") + u + "'";
          return Status(ErrorCode::kInvalidArgument,
                        "version " + std::to_string(to_version) + " has no atomic state " + list);
        }
        // Re-encode the session against the target chart: same data and id counter, mapped
        // configuration; history values are dropped (they name states of the old version).
        auto encoded = json::parse(scxml::encodeSession(*inst->chart, inst->session, *inst->dm));
        if (!encoded) return encoded.status();
        json::Object rebuilt;
        for (auto& [k, v] : encoded->asObject()) {
          if (k == "history" || k == "data_bound") continue;
          rebuilt.emplace_back(k, k == "configuration" ? json::Value(mapped) : v);
        }
        auto session = scxml::decodeSession(chart, json::dump(json::Value(std::move(rebuilt))),
                                            *next.dm, options_.basichttp_base);
        if (!session) return session.status();
        next.session = std::move(session).value();
        Step step(*this, tx, actor);
        step.record(
            *inst, "migrate",
            json::Value(json::Object{{"from_version", static_cast<std::int64_t>(inst->def.version)},
                                     {"to_version", static_cast<std::int64_t>(to_version)},
                                     {"mapping", json::Value(std::move(applied))}}));
        final_answer = false;
        if (Status st = step.commit(next, false); !st) return st;
        return view(next);
      }));
}

Result<std::vector<storage::HistoryRecord>> Engine::history(const std::string& instance_id) {
  return transact<std::vector<storage::HistoryRecord>>(
      [&](storage::Transaction& tx, bool&) -> Result<std::vector<storage::HistoryRecord>> {
        std::vector<storage::HistoryRecord> all;
        std::int64_t after = 0;
        while (true) {
          auto page = tx.history(instance_id, after, 1000);
          if (!page) return page.status();
          if (page->empty()) return all;
          after = page->back().seq;
          for (auto& r : *page) all.push_back(std::move(r));
        }
      },
      storage::TxMode::kRead);
}

}  // namespace tramite::runtime
