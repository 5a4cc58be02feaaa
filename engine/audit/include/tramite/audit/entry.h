// A ledger entry: one history row, as the bytes its leaf hash is computed over (FORMAT.md).
#pragma once

#include <cstdint>
#include <string>

#include "tramite/audit/merkle.h"
#include "tramite/clock.h"

namespace tramite::audit {

// Complete subtrees of 2^kStoredLevel leaves and more are stored as they complete, so a
// proof reads at most 2^kStoredLevel leaf hashes plus one node per level above.
constexpr int kStoredLevel = 8;

// The fields of a history row that the ledger covers. seq locates the row in the database;
// it is not hashed: the entry's place in the ledger is its leaf index.
struct LedgerEntry {
  std::string instance_id;
  TimePoint at = 0;
  std::string actor;
  std::string kind;
  std::string detail;
};

// Version 1 entry bytes: 0x01, `at` as 8 bytes big-endian two's complement, then
// instance_id, actor, kind and detail, each as a 4-byte big-endian length and its bytes.
std::string entryBytes(const LedgerEntry& entry);
// leafHash(entryBytes(entry)).
Hash entryLeafHash(const LedgerEntry& entry);

}  // namespace tramite::audit
