// Durability of SQLite commits made outside SQLite's write lock (pipelined sync). Not a
// public header.
//
// With synchronous=FULL, SQLite syncs the write-ahead log inside COMMIT, while it still holds
// the write lock, so no other transaction can write during the fdatasync. With pipelined
// sync the connections run at synchronous=NORMAL (COMMIT writes the WAL frames without
// syncing them), the committing transaction hands the writer connection on, and only then
// syncs the WAL itself; its commit() returns after that sync, so every commit a caller is
// told of is as durable as under FULL, while the next transaction's statements run during
// the sync. Commits are numbered in the order they begin (there is one writer), and one
// fdatasync that starts after commit n has finished makes every commit up to n durable.
//
// Other connections can read a commit before it is durable, so every transaction except a
// read-ahead waits at its end until each commit begun before that is durable (awaitDurable):
// nothing anyone reads leaves the process before it would survive a power loss.
//
// Thread-safe. A failed sync is permanent (the kernel may have dropped the pages it could not
// write): every later sync and wait reports kUnavailable until the process restarts and
// SQLite recovers the WAL as it is on disk.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "tramite/status.h"

namespace tramite::storage {

class WalSync {
 public:
  // wal_path: the database's "-wal" file, opened on the first sync (it exists once a commit
  // has been made). sync: makes an open file's data durable, returning 0 or -1 with errno
  // (fdatasync when empty).
  WalSync(std::string wal_path, std::function<int(int)> sync);
  ~WalSync();
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  // Called just before COMMIT: the commit's number.
  std::uint64_t begin();
  // Called after COMMIT returned, whether it succeeded or not, and after the writer
  // connection was handed on: syncs the WAL, after which commit n and every earlier one are
  // durable. Errors: kUnavailable when the WAL cannot be opened or synced, or was removed
  // while open (then and later).
  Status sync(std::uint64_t n);
  // Returns once every commit begun so far is durable. Errors: kUnavailable after a failed
  // sync.
  Status awaitDurable();

 private:
  Status openOnce();  // with mu_ held

  const std::string wal_path_;
  const std::function<int(int)> sync_;
  std::mutex mu_;
  std::condition_variable durable_cv_;
  std::uint64_t begun_ = 0;
  std::uint64_t durable_ = 0;  // every commit numbered up to this one is durable
  int fd_ = -1;
  std::string failure_;  // why a sync failed; empty while none has
};

}  // namespace tramite::storage
