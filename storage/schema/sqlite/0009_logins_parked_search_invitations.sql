-- Failed logins by the name tried (known or not), the session epoch a password change moves
-- on...
CREATE TABLE login_attempts (name TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until INTEGER NOT NULL, updated_at INTEGER NOT NULL);
ALTER TABLE credentials ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
-- ... and the timer and inbox rows parked after failing for good.
CREATE TABLE parked (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, source_id INTEGER NOT NULL, instance_id TEXT NOT NULL, payload TEXT NOT NULL, error TEXT NOT NULL, parked_at INTEGER NOT NULL);
-- ... and what searches over instances read: their active states and unit, newest first.
ALTER TABLE instances ADD COLUMN states TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN unit TEXT NOT NULL DEFAULT '';
CREATE INDEX instances_created ON instances (created_at, id);
-- ... and invitations to set a first password, by their secret's hash.
CREATE TABLE invitations (secret_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER NOT NULL, created_at INTEGER NOT NULL);
-- ... and each checkpoint's link to the one before it.
ALTER TABLE ledger_checkpoints ADD COLUMN previous TEXT NOT NULL DEFAULT '';
