// Ledger operations over a store: signing checkpoints, inclusion and consistency proofs, and
// the offline verification behind `tramite audit verify`.
// Thread safety: each call uses its own transactions; call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tramite/audit/checkpoint.h"
#include "tramite/storage/store.h"

namespace tramite::audit {

// Signs the ledger's current head and stores the checkpoint, unless the latest checkpoint
// already has that size (then it is returned) or the ledger is empty (nullopt).
// Errors: the store's.
Result<std::optional<Checkpoint>> checkpointLedger(storage::Store& store, const Signer& signer,
                                                   TimePoint now);

struct InclusionProof {
  std::uint64_t index = 0;
  std::uint64_t size = 0;
  Hash leaf{};
  std::vector<Hash> path;
  Hash root{};
};

// Proof that entry `index` is in the tree of `size` entries (size 0: the current head).
// Errors: kInvalidArgument when index >= size or size exceeds the ledger; the store's.
Result<InclusionProof> proveInclusion(storage::Transaction& tx, std::uint64_t index,
                                      std::uint64_t size);
// Proof that the tree of `first` entries is a prefix of the tree of `second`.
// Errors: kInvalidArgument unless 0 < first <= second <= the ledger's size; the store's.
Result<std::vector<Hash>> proveConsistency(storage::Transaction& tx, std::uint64_t first,
                                           std::uint64_t second);

// One problem found by verifyLedger.
struct Finding {
  std::int64_t index = -1;  // the ledger entry concerned, -1 when none has an index
  std::int64_t seq = 0;     // its history row, 0 when there is none
  std::string kind;         // altered | inserted | deleted | reordered | checkpoint | head | node
  std::string message;
};

struct VerifyReport {
  std::uint64_t entries = 0;      // history rows read
  std::uint64_t checkpoints = 0;  // checkpoints whose root and signature were checked
  std::vector<Finding> findings;  // in ledger order: the first is the earliest problem
  bool ok() const { return findings.empty(); }
};

// A checkpoint the verifier holds apart from the database (an auditor's witness record, a
// printout): a tree size and its root. Whoever controls the database and the signing key
// can rewrite history and re-sign it; they cannot change what was kept elsewhere.
struct TrustedCheckpoint {
  std::uint64_t size = 0;
  Hash root{};
};

// Reads the whole store in one read transaction and checks it: every history row has its
// place in the ledger, hashes to its recorded leaf, and comes in seq order; the recomputed
// tree matches the stored subtrees, the head and every checkpoint's root; and every
// checkpoint is signed by `key` (when given; without a key signatures are not checked).
// With a trusted checkpoint, the first trusted->size entries must still have its root
// (finding "rewritten") and the ledger must still hold them (finding "truncated").
// Errors: the store's (an unreadable store is an error; a tampered one is a report).
Result<VerifyReport> verifyLedger(storage::Store& store, const CheckpointVerifier* key,
                                  const TrustedCheckpoint* trusted = nullptr);

// An auditor's witness (`tramite audit witness`): checks the store's newest signed
// checkpoint against the last one this witness saw (record, an append-only text file of
// lines "SIZE ROOT SIGNED_AT SIGNATURE"): signed by key, no smaller, and an extension of it
// by a consistency proof from the store; then appends it. A rewrite or a truncation since the
// last witnessed checkpoint is reported, and nothing is appended. Errors: kFailedPrecondition
// with what was found (signature, truncation, rewrite); kNotFound (no checkpoint yet);
// kInvalidArgument (a malformed record); the store's.
struct Witnessed {
  Checkpoint checkpoint;       // the newest checkpoint, now recorded
  std::uint64_t previous = 0;  // the size of the last one witnessed before (0: none)
};
Result<Witnessed> witnessCheckpoint(storage::Store& store, const CheckpointVerifier& key,
                                    const std::string& record_path);
// The last checkpoint of a witness record, as a trusted checkpoint. Errors: kNotFound
// (empty or missing record), kInvalidArgument (malformed).
Result<TrustedCheckpoint> lastWitnessed(const std::string& record_path);

}  // namespace tramite::audit
