-- Documents (versions of named documents of an instance), their verified signatures, and blobs
-- for stores that keep document bytes in the database (base64, so both dialects take them as
-- text).
CREATE TABLE documents (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, task_id TEXT NOT NULL, name TEXT NOT NULL, version BIGINT NOT NULL, sha256 TEXT NOT NULL, content_type TEXT NOT NULL, size BIGINT NOT NULL, filename TEXT NOT NULL, origin TEXT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (instance_id, name, version));
CREATE TABLE signatures (id TEXT PRIMARY KEY, document_id TEXT NOT NULL, instance_id TEXT NOT NULL, signer TEXT NOT NULL, subject TEXT NOT NULL, issuer TEXT NOT NULL, serial TEXT NOT NULL, fingerprint TEXT NOT NULL, signing_time BIGINT NOT NULL, timestamp_at BIGINT NOT NULL, p7s_sha256 TEXT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX signatures_instance ON signatures (instance_id, created_at);
CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, content TEXT NOT NULL);
