// The rows the store keeps, as plain values: what Transaction (transaction.h) reads and writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tramite/audit/merkle.h"
#include "tramite/clock.h"

namespace tramite::storage {

struct DefinitionRecord {
  std::int64_t id = 0;
  std::string name;
  std::int32_t version = 0;
  std::string sha256;  // hex digest of the document bytes
  std::string xml;     // empty in listings
  TimePoint created_at = 0;
};

struct InstanceRecord {
  std::string id;
  std::int64_t definition_id = 0;
  std::string business_key;      // e.g. the expediente number
  std::string lifecycle;         // created | running | suspended | completed | terminated | failed
  std::string session;           // the interpreter session as versioned JSON
  std::int64_t row_version = 0;  // optimistic concurrency: bumped by every update
  TimePoint created_at = 0;
  TimePoint updated_at = 0;
  // Written with the row for searches (not read back by instance()): the active atomic
  // states as " a b " (each between spaces; every write), and the unit the case belongs to
  // ("" for none; written when the row is inserted, never changed).
  std::string states;
  std::string unit;
};

// A search over instances (searchInstances): every non-empty criterion must hold.
struct InstanceQuery {
  std::string definition;        // a definition name
  std::string business_key;      // a prefix of the business key
  std::string lifecycle;         // running, completed, ...
  std::string state;             // an active atomic state
  std::string unit;              // the case's unit
  TimePoint created_from = 0;    // created at or after (0: any)
  TimePoint created_before = 0;  // created before (0: any)
  // Participation: a case someone in participants acted in (its history), or whose task
  // reaches one of principals ("user:", "role:", "unit:", "owner:"). Both empty: any case.
  std::vector<std::string> participants;
  std::vector<std::string> principals;
  // Keyset page, newest first: rows strictly before (after_created, after_id).
  TimePoint after_created = 0;
  std::string after_id;
  int limit = 50;
};

// What a search returns of an instance.
struct InstanceSummary {
  std::string id;
  std::string definition;
  std::int32_t version = 0;
  std::string business_key;
  std::string lifecycle;
  std::string states;
  std::string unit;
  TimePoint created_at = 0;
  TimePoint updated_at = 0;
};

// A write of one instance row: an insert when expected_version is 0, otherwise an update
// that applies only where the stored row_version equals expected_version.
struct InstanceWrite {
  InstanceRecord record;
  std::int64_t expected_version = 0;
};

struct IdempotencyRecord {
  std::string scope;
  std::string key;
  std::string result;
  TimePoint created_at = 0;
};

struct TimerRecord {
  std::int64_t id = 0;
  std::string instance_id;
  std::string sendid;
  TimePoint due_at = 0;
  std::string event;  // the event as JSON
};

struct InboxRecord {
  std::int64_t seq = 0;
  std::string instance_id;
  std::string event;  // JSON
  TimePoint created_at = 0;
};

// One row of an instance's history. Rows are append-only and numbered by seq, so a later
// ledger can chain them.
struct HistoryRecord {
  std::int64_t seq = 0;
  std::string instance_id;
  TimePoint at = 0;
  std::string actor;
  std::string kind;    // event | transition | enter | exit | timer | lifecycle | migrate | ...
  std::string detail;  // JSON
};

struct OutboxRecord {
  std::int64_t id = 0;
  std::string instance_id;
  std::string kind;     // send.http | email
  std::string payload;  // JSON
  TimePoint created_at = 0;
  // Deliveries that failed and wait to be tried again (retryOutbox): how many were tried,
  // not before when, and why the last one failed.
  std::int32_t attempts = 0;
  TimePoint next_attempt_at = 0;
  std::string last_error;
};

// An in-app notification for one user, written by the notification consumer from one
// history row (source_idx, its ledger index).
struct NotificationRecord {
  std::int64_t id = 0;  // given by the store
  std::string user;
  std::string instance_id;
  std::string business_key;
  std::string task_id;  // "" when it concerns no one task
  std::string kind;     // task | escalation | deadline
  std::string subject;  // Spanish, one line
  std::string body;     // Spanish: the expediente, the task, why this person gets it
  std::int64_t source_idx = 0;
  TimePoint created_at = 0;
  TimePoint read_at = 0;  // 0 while unread
};

// ---- directory ----

struct UnitRecord {
  std::string id;    // e.g. "gj"
  std::string name;  // e.g. "Gerencia Jurídica"
  std::string area;  // the PAT's area, e.g. "Subdirección Administrativa"
};

struct RoleRecord {
  std::string id;  // e.g. "abogado"
  std::string name;
};

struct UserRecord {
  std::string id;  // login name, e.g. "ana_lopez"
  std::string name;
  std::string unit;                // a UnitRecord id
  std::vector<std::string> roles;  // RoleRecord ids, sorted
  bool active = true;
  std::string email;  // where e-mail notifications go; "" for none
};

// During [from_day, to_day] (days since 1970-01-01, local dates) substitute acts for user.
struct SubstitutionRecord {
  std::string user;
  std::string substitute;
  std::int64_t from_day = 0;
  std::int64_t to_day = 0;
  std::string reason;
};

struct DirectoryRecords {
  std::vector<UnitRecord> units;
  std::vector<RoleRecord> roles;
  std::vector<UserRecord> users;
  std::vector<SubstitutionRecord> substitutions;
};

// ---- human tasks ----

// One human task (or one approver's slot of an approval). principals are who see it in their
// queues while it is open: "user:ID", "role:ID", "unit:ID" for potential owners and
// "owner:ID" for the actual owner; a closed task has none.
struct TaskRecord {
  std::string id;
  std::string instance_id;
  std::string business_key;
  std::string definition;  // definition name
  std::string state;       // the SCXML state that created it
  std::string name;        // the task's name in the workflow
  std::string kind;        // task | approval
  std::string title;
  std::string status;  // a TaskState name (task_lifecycle.h)
  std::string owner;   // actual owner, or ""
  std::int32_t priority = 5;
  TimePoint due_at = 0;  // end of the due day; 0 for no deadline
  std::string spec;      // JSON: candidates, form, outcomes, approval rule, ...
  std::string data;      // JSON object: the instance's business data, for queue filters
  std::string result;    // JSON: outcome of a finished task, or "{}"
  std::vector<std::string> principals;
  bool open = true;  // not in a final state
  std::int64_t row_version = 1;
  TimePoint created_at = 0;
  TimePoint updated_at = 0;
};

// An insert when expected_version is 0, otherwise an update applied only where the stored
// row_version equals expected_version (record.row_version is stored as given).
struct TaskWrite {
  TaskRecord record;
  std::int64_t expected_version = 0;
};

// A condition on a task's business data: data.field OP value (value is JSON: a number, a
// string or a boolean; numbers compare numerically, strings exactly).
struct TaskFilter {
  std::string field;  // [a-z_][a-z0-9_]*
  std::string op;     // = != < <= > >=
  std::string value;  // JSON text
};

enum class TaskSort {
  kDue,       // earliest due first (tasks without a deadline last), then id
  kPriority,  // highest priority first, then earliest due, then id
};

// Open tasks visible to any of principals (every open task when empty), due in
// [due_from, due_before), matching every filter, in sort order, after the keyset cursor
// (after_due, after_priority, after_id) when after_id is set.
struct TaskQuery {
  std::vector<std::string> principals;
  TimePoint due_from = 0;
  TimePoint due_before = 0;  // 0: no upper bound
  std::string definition;    // "" for any
  std::vector<TaskFilter> filters;
  TaskSort sort = TaskSort::kDue;
  std::string after_id;
  TimePoint after_due = 0;
  std::int32_t after_priority = 0;
  int limit = 50;
};

// A unit of work. Destroying an uncommitted transaction rolls it back. Not thread-safe.
// Errors: kUnavailable when the database cannot be reached or is busy beyond its timeout;
// kConflict for optimistic-version clashes and duplicate keys; kInternal for SQL bugs.
// ---- authentication ----

// A user's password (an encoded Argon2id hash) and the state of failed logins.
struct CredentialRecord {
  std::string user;
  std::string password_hash;
  std::int64_t failures = 0;   // consecutive failed logins
  TimePoint locked_until = 0;  // no login before this time (backoff after failures)
  TimePoint updated_at = 0;
  // Session tokens carry the epoch they were issued in; changing the password moves it on,
  // and tokens of an earlier epoch are no longer accepted.
  std::int64_t session_epoch = 0;
};

// Failed logins by the name tried, whether or not a user has it (so an unknown name is
// throttled exactly like a known one).
struct LoginAttemptRecord {
  std::string name;
  std::int64_t failures = 0;   // attempts counted since the last success
  TimePoint locked_until = 0;  // no attempt is checked before this time
  bool counted = false;        // countLoginAttempt: this attempt was counted (not locked)
};

// A long-lived API token of a (service) account. Only the token's SHA-256 is stored.
struct ApiTokenRecord {
  std::string id;
  std::string user;
  std::string name;        // what it is for
  std::string token_hash;  // hex SHA-256 of the secret
  TimePoint created_at = 0;
  TimePoint expires_at = 0;  // 0: never
  TimePoint revoked_at = 0;  // 0: in force
};

// Counts for monitoring (the server's /metrics).
struct StoreStatistics {
  std::vector<std::pair<std::string, std::int64_t>> instances_by_lifecycle;  // sorted by name
  std::int64_t open_tasks = 0;
  std::int64_t overdue_tasks = 0;  // open, due before now
  TimePoint oldest_due_timer = 0;  // the earliest unfired timer due before now; 0: none
  std::int64_t parked = 0;         // timer and inbox rows parked after failing
};

// A timer or inbox row whose delivery failed for good: taken out of the way (so the rows
// after it go on) and kept with its error for an operator.
struct ParkedRecord {
  std::int64_t id = 0;
  std::string source;  // "timer" or "inbox"
  std::int64_t source_id = 0;
  std::string instance_id;
  std::string payload;  // the row's event (as stored)
  std::string error;
  TimePoint parked_at = 0;
};

// The audit ledger (engine/audit/FORMAT.md): every history row is a leaf, appended in the
// transaction that appends the row.

// A history row as the ledger records it. index is -1 for a row that has no ledger index
// (only a row written around the store, i.e. inserted by tampering, lacks one).
struct LedgerRow {
  std::int64_t index = -1;
  HistoryRecord row;
  std::string leaf_hash;  // hex, as stored when the row was appended
};

// A stored complete subtree: the hash of leaves [index << level, (index + 1) << level).
struct LedgerNode {
  int level = 0;
  std::uint64_t index = 0;
  audit::Hash hash{};
};

// ---- documents and signatures ----

// One version of a named document of an instance (optionally produced for one of its tasks).
// The bytes live in a blob store under sha256.
struct DocumentRecord {
  std::string id;
  std::string instance_id;
  std::string task_id;  // "" when attached to the instance itself
  std::string name;     // e.g. "acta_apertura_ofertas"
  std::int32_t version = 0;
  std::string sha256;  // hex digest of the bytes
  std::string content_type;
  std::int64_t size = 0;
  std::string filename;  // as uploaded, for downloads
  std::string origin;    // upload | template
  std::string created_by;
  TimePoint created_at = 0;
};

// A verified detached CMS signature on one document version. The .p7s is a blob too.
struct SignatureRecord {
  std::string id;
  std::string document_id;
  std::string instance_id;
  std::string signer;  // the directory user the certificate is bound to, or "seal"
  std::string subject;
  std::string issuer;
  std::string serial;
  std::string fingerprint;  // hex SHA-256 of the signer's certificate
  TimePoint signing_time = 0;
  TimePoint timestamp_at = 0;  // the RFC 3161 token's time; 0 without one
  std::string p7s_sha256;
  std::string created_by;
  TimePoint created_at = 0;
};

}  // namespace tramite::storage
