-- Durable history consumers: each one's cursor (the ledger index of the next row it reads)
-- and the lease that says which server runs it.
CREATE TABLE consumers (
  name TEXT PRIMARY KEY,
  position INTEGER NOT NULL DEFAULT 0,
  holder TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0
);

-- In-app notifications per user, written by the notification consumer.
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  business_key TEXT NOT NULL,
  task_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  source_idx INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  read_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at = 0;

-- Outbox deliveries that failed wait for their next attempt.
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';

-- Where a user's e-mail notifications go ('' for none).
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
