-- Authentication (password hashes and login backoff, API tokens by their hash); the outbox rows
-- still to deliver, by kind.
CREATE TABLE credentials (user_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL, failures BIGINT NOT NULL, locked_until BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE TABLE api_tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT NOT NULL);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);
CREATE INDEX outbox_pending ON outbox (kind, id) WHERE done_at IS NULL;
