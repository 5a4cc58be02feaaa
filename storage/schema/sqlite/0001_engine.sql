-- The engine's tables.
CREATE TABLE definitions (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL, xml TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (name, version));
CREATE TABLE instances (id TEXT PRIMARY KEY, definition_id INTEGER NOT NULL REFERENCES definitions (id), business_key TEXT NOT NULL, lifecycle TEXT NOT NULL, session TEXT NOT NULL, row_version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX instances_business_key ON instances (business_key);
CREATE TABLE idempotency (scope TEXT NOT NULL, key TEXT NOT NULL, result TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE timers (id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, sendid TEXT NOT NULL, due_at INTEGER NOT NULL, event TEXT NOT NULL);
CREATE INDEX timers_due ON timers (due_at, id);
CREATE INDEX timers_instance ON timers (instance_id, sendid);
CREATE TABLE inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, event TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE history (seq INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX history_instance ON history (instance_id, seq);
CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL, done_at INTEGER);
CREATE TABLE deferred (seq INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, event TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX deferred_instance ON deferred (instance_id, seq);
