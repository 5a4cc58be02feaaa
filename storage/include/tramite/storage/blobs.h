// Content-addressed storage for document bytes: each blob is named by the hex SHA-256 of its
// bytes, so storing the same document twice keeps one copy and a blob that reads back with
// another digest has been tampered with. Two kinds: files under a directory (the default,
// under the server's data directory) and rows of the database (store.h: putBlob/blob).
//
// Thread safety: both kinds may be used from any thread; the database kind works inside the
// caller's transaction.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "tramite/status.h"
#include "tramite/storage/store.h"

namespace tramite::storage {

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Stores bytes under sha256 (the caller's digest of them). The filesystem kind writes the
  // file durably (temporary file, fsync, rename) before returning, outside tx: a rolled-back
  // transaction leaves at most an unreferenced blob, never a reference without one.
  // Errors: kUnavailable when the bytes cannot be written.
  virtual Status put(Transaction& tx, const std::string& sha256, const std::string& bytes) = 0;
  // The bytes of sha256, or nullopt when there is no such blob. Errors: kInternal when the
  // stored bytes no longer hash to sha256; kUnavailable when they cannot be read.
  virtual Result<std::optional<std::string>> get(Transaction& tx, const std::string& sha256) = 0;
  virtual const char* kind() const = 0;  // "filesystem" | "database"
};

// Blobs as files dir/ab/cdef... (created as needed).
std::unique_ptr<BlobStore> filesystemBlobStore(std::string dir);
// Blobs as rows of the store's blobs table.
std::unique_ptr<BlobStore> databaseBlobStore();

}  // namespace tramite::storage
