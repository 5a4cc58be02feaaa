// Durable storage behind narrow interfaces. One SQL implementation over Poco::Data with two
// dialects: SQLite (embedded default) and PostgreSQL (scale-out). Everything an engine step
// writes goes through one Transaction (transaction.h: its facets per entity), so a step
// commits whole or not at all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tramite/clock.h"
#include "tramite/status.h"
#include "tramite/storage/transaction.h"

namespace tramite::storage {

struct StoreOptions {
  // SQLite: PRAGMA synchronous (FULL keeps every commit durable across power loss).
  std::string sqlite_synchronous = "FULL";
  // SQLite on a file with synchronous=FULL: each commit syncs the write-ahead log itself,
  // after handing the write lock to the next transaction, instead of inside SQLite's COMMIT
  // (which then runs at synchronous=NORMAL), so that the next transaction writes during the
  // sync. commit() still returns only once the commit is durable, and no transaction but a
  // kReadAhead ends before every commit it could have seen is durable. Off by default: the
  // engine measured no faster with it and dearer per event (its batches are smaller); it may
  // pay where a sync is slow and many requests wait (bench/README.md).
  bool sqlite_pipelined_sync = false;
  // How pipelined sync makes the WAL's data durable, given its file descriptor: returns 0, or
  // -1 with errno set. fdatasync when empty (tests substitute their own).
  std::function<int(int)> sqlite_wal_sync;
  int busy_timeout_ms = 10'000;
  // SQLite: memory-mapped I/O is off by default: with a growing file every connection
  // remaps, and the unmapping and page faults cost a third of the engine's task throughput
  // (bench_http: 1,183 -> 1,642 completions/s without it). Reads go through each
  // connection's page cache instead, of sqlite_cache_kib.
  std::int64_t sqlite_mmap_bytes = 0;
  std::int64_t sqlite_cache_kib = 32 * 1024;
  // Connections for reads, and for writes on PostgreSQL; SQLite on a file has one more, its
  // only writer.
  int pool_size = 8;
};

enum class TxMode {
  kWrite,  // takes the write lock up front (SQLite: BEGIN IMMEDIATE)
  kRead,   // reads a consistent snapshot without blocking writers; writes are a bug
  // Reads like kRead, but may end before the commits it saw are durable (SQLite with
  // pipelined sync): for computing writes whose own commit makes what they read durable.
  // Anything else learned from it may be shown only after Store::awaitDurable().
  kReadAhead,
};

// Thread-safe: begin() may be called from any thread; each transaction uses its own
// connection from a pool.
class Store {
 public:
  virtual ~Store() = default;
  virtual Result<std::unique_ptr<Transaction>> begin(TxMode mode = TxMode::kWrite) = 0;
  virtual const char* dialectName() const = 0;
  // How many write transactions are worth having in flight at once: callers that batch
  // writes then serialise them themselves instead of waiting on the database lock. SQLite:
  // 1, as it admits one writer; 2 with pipelined sync (one writing while the one before it
  // syncs). 0 when the database admits concurrent writers and the caller chooses.
  virtual int commitSlots() const = 0;
  // Returns once every commit begun so far is durable (at once where commit() is durable
  // before others can read it). Thread-safe. Errors: kUnavailable when the log cannot be
  // synced.
  virtual Status awaitDurable() = 0;
  // Schema version after migrations.
  virtual int schemaVersion() const = 0;
};

// Opens (creating if needed) and migrates a store. URIs:
//   sqlite:/path/to/file.db      sqlite::memory: (tests)
//   postgresql://user@host:port/dbname   (libpq keyword strings also accepted after
//   "postgresql:" as "postgresql:host=... port=...")
// Errors: kInvalidArgument for an unknown scheme; kUnavailable when the database cannot
// be opened; kFailedPrecondition when its schema is newer than this build knows.
Result<std::unique_ptr<Store>> openStore(const std::string& uri, const StoreOptions& options = {});

// The URI of a data directory's embedded store (the default of `tramite serve --data-dir`).
std::string dataDirStoreUri(const std::string& data_dir);

}  // namespace tramite::storage
