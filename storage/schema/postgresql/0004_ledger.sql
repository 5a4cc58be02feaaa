-- The audit ledger. Each history row gets its leaf index and leaf hash; the head row holds the
-- tree's size, the last history seq and the right edge of the tree; complete subtrees of 256
-- leaves and more are kept for proofs; signed checkpoints. Rows written before this version are
-- appended to the ledger by the migration, in seq order.
ALTER TABLE history ADD COLUMN ledger_idx BIGINT;
ALTER TABLE history ADD COLUMN leaf_hash TEXT;
CREATE UNIQUE INDEX history_ledger ON history (ledger_idx);
CREATE TABLE ledger_head (id BIGINT PRIMARY KEY, size BIGINT NOT NULL, last_seq BIGINT NOT NULL, frontier TEXT NOT NULL);
INSERT INTO ledger_head (id, size, last_seq, frontier) VALUES (1, 0, 0, '');
CREATE TABLE ledger_nodes (level BIGINT NOT NULL, idx BIGINT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (level, idx));
CREATE TABLE ledger_checkpoints (size BIGINT PRIMARY KEY, root TEXT NOT NULL, signed_at BIGINT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL);
