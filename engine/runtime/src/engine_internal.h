// Engine internals shared by its source files: helpers, a loaded instance, and transact()
// (step.h has Step, the work of one operation inside its transaction). Not a public header.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "task_spec.h"
#include "tramite/audit/merkle.h"
#include "tramite/runtime/engine.h"
#include "tramite/scxml/datamodel.h"
#include "tramite/scxml/interpreter.h"
#include "tramite/scxml/parser.h"
#include "tramite/scxml/session_codec.h"
#include "tramite/step/extension.h"

namespace tramite::runtime {

namespace internal {

inline constexpr const char* kSystemActor = step::kSystemActor;

// A new UUID (version 7: the time `now`, then 74 random bits) in its text form, for
// instances and tasks. Thread-safe.
std::string newId(TimePoint now);
// Documents reach the engine from outside (the API): they may not read server files.
scxml::ParseResult parseDeployed(const std::string& xml, const std::string& source_name);
bool retryable(const Status& st);
// Sleeps a random, growing while before retry number attempt.
void backoff(int attempt);
// A timer's payload: the event, and the instance it goes to when that is not the sender.
std::string timerPayload(const scxml::Event& event, const std::string& to);
std::string eventText(const scxml::Event& event);
// The directory's user id when it exists and is active; nullopt otherwise.
Result<std::optional<storage::UserRecord>> activeUser(storage::Transaction& tx,
                                                      const std::string& id);
Result<scxml::Event> eventFromText(const std::string& text);

// Idempotency keys, for any view with toJson/fromJson (InstanceView, TaskView).
// The result stored for key in scope; nullopt for none (or an empty key).
template <typename View>
Result<std::optional<View>> storedResult(storage::Transaction& tx, const std::string& scope,
                                         const std::string& key) {
  if (key.empty()) return std::optional<View>();
  auto prior = tx.idempotentResult(scope, key);
  if (!prior) return prior.status();
  if (!prior->has_value()) return std::optional<View>();
  auto v = json::parse(**prior);
  if (!v) return v.status();
  auto stored = View::fromJson(*v);
  if (!stored) return stored.status();
  return std::optional<View>(std::move(stored).value());
}

// Stores v as the result for key in scope (nothing for an empty key).
template <typename View>
Status storeResult(storage::Transaction& tx, const std::string& scope, const std::string& key,
                   const View& v, TimePoint now) {
  if (key.empty()) return Status::ok();
  return tx.saveIdempotentResult(scope, key, json::dump(v.toJson()), now);
}

// body(tx, final_answer) -> Result<View>, made idempotent: with a key, a repeat within scope
// returns the stored first result instead, and a success stores its result in the same
// transaction. The returned callable runs wherever body would (transact, group commit).
template <typename View, typename Body>
auto idempotently(std::string scope, std::string key, const Clock& clock, Body body) {
  return [scope = std::move(scope), key = std::move(key), &clock, body = std::move(body)](
             storage::Transaction& tx, bool& final_answer) -> Result<View> {
    auto prior = storedResult<View>(tx, scope, key);
    if (!prior) return prior.status();
    if (prior->has_value()) {
      final_answer = true;
      return std::move(**prior);
    }
    Result<View> v = body(tx, final_answer);
    if (v) {
      if (Status st = storeResult(tx, scope, key, *v, clock.nowMs()); !st) return st;
    }
    return v;
  };
}

}  // namespace internal

struct Engine::Loaded {
  storage::InstanceRecord rec;
  storage::DefinitionRecord def;
  scxml::ChartPtr chart;
  std::unique_ptr<scxml::DataModel> dm;
  scxml::Session session;
  Lifecycle lifecycle = Lifecycle::kCreated;
};

// ---- one operation's work inside its transaction --------------------------------------------

using audit::sha256Hex;
using internal::activeUser;
using internal::eventText;
using internal::kSystemActor;
using internal::parseDeployed;
using internal::timerPayload;

template <typename T, typename Body>
Result<T> Engine::transact(Body&& body, storage::TxMode mode) {
  Status last(ErrorCode::kUnavailable, "no attempt made");
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) internal::backoff(attempt);
    auto tx = store_->begin(mode);
    if (!tx) {
      last = tx.status();
      if (internal::retryable(last)) continue;
      return last;
    }
    bool final_answer = false;
    Result<T> r = body(**tx, final_answer);
    if (!r) {
      last = r.status();
      if (!final_answer && internal::retryable(last)) continue;
      return r;
    }
    Status committed = (*tx)->commit();
    if (committed) {
      if (mode == storage::TxMode::kWrite) forgetRecentInstances();
      return r;
    }
    last = committed;
    if (!internal::retryable(last)) return last;
  }
  return Status(last.code(), "gave up after " + std::to_string(options_.max_attempts) +
                                 " attempts: " + last.message());
}

}  // namespace tramite::runtime
