-- The directory, human tasks and their queues. A task is listed in task_queue once per principal
-- that sees it while it is open; sort_due is due_at, or kNoDue for tasks without a deadline, and
-- rank is 10 - priority, so both queue orders are ascending index scans.
CREATE TABLE units (id TEXT PRIMARY KEY, name TEXT NOT NULL, area TEXT NOT NULL);
CREATE TABLE roles (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL, unit TEXT NOT NULL, roles TEXT NOT NULL, active BIGINT NOT NULL);
CREATE TABLE substitutions (user_id TEXT NOT NULL, substitute TEXT NOT NULL, from_day BIGINT NOT NULL, to_day BIGINT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX substitutions_substitute ON substitutions (substitute, from_day);
CREATE TABLE tasks (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, business_key TEXT NOT NULL, definition TEXT NOT NULL, state TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL, owner TEXT NOT NULL, priority BIGINT NOT NULL, due_at BIGINT NOT NULL, sort_due BIGINT NOT NULL, rank BIGINT NOT NULL, spec TEXT NOT NULL, data TEXT NOT NULL, result TEXT NOT NULL, principals TEXT NOT NULL, is_open BIGINT NOT NULL, row_version BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE INDEX tasks_instance ON tasks (instance_id, created_at);
CREATE INDEX tasks_open_due ON tasks (sort_due, id) WHERE is_open = 1;
CREATE INDEX tasks_open_rank ON tasks (rank, sort_due, id) WHERE is_open = 1;
CREATE TABLE task_queue (principal TEXT NOT NULL, task_id TEXT NOT NULL, sort_due BIGINT NOT NULL, rank BIGINT NOT NULL);
CREATE INDEX task_queue_due ON task_queue (principal, sort_due, task_id);
CREATE INDEX task_queue_rank ON task_queue (principal, rank, sort_due, task_id);
CREATE INDEX task_queue_task ON task_queue (task_id);
