-- Authentication (password hashes and login backoff, API tokens by their hash); the outbox rows
-- still to deliver, by kind.
CREATE TABLE credentials (user_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL, failures INTEGER NOT NULL, locked_until INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE api_tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);
CREATE INDEX outbox_pending ON outbox (kind, id) WHERE done_at IS NULL;
