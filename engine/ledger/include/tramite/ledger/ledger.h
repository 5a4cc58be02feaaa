// Ledger operations over a store: signing checkpoints, inclusion and consistency proofs, and
// the offline verification behind `tramite audit verify`.
// Thread safety: each call uses its own transactions; call from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tramite/audit/checkpoint.h"
#include "tramite/signing/cms.h"
#include "tramite/storage/store.h"

namespace tramite::audit {

// Signs the ledger's current head and stores the checkpoint, unless the latest checkpoint
// already has that size (then it is returned) or the ledger is empty (nullopt).
// Errors: the store's.
//
// With stamp, the checkpoint's signed text is timestamped (RFC 3161) before it is stored, and
// outside any transaction: a slow TSA holds no writer. A stamp that fails leaves this
// checkpoint without a token (stamp reports its own failure); the next one, chained to it, is
// stamped when the TSA answers again. When another process stored a checkpoint meanwhile,
// that one is returned and this one dropped, so the chain stays one line.
using CheckpointStamp = std::function<Result<std::string>(const std::string& signed_text)>;
Result<std::optional<Checkpoint>> checkpointLedger(storage::Store& store, const Signer& signer,
                                                   TimePoint now,
                                                   const CheckpointStamp& stamp = {});

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
  std::uint64_t stamped = 0;      // checkpoints carrying a TSA timestamp token
  std::uint64_t timestamped = 0;  // of those, the tokens that verified (with a TimestampCheck)
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

// Checks a TSA timestamp token over a checkpoint's signed text: the TSA's time (genTime), or
// why the token does not verify (its imprint, its signature, its chain to a trusted TSA).
using TimestampCheck =
    std::function<Result<TimePoint>(const std::string& token, const std::string& signed_text)>;
// The check of tokens from a TSA whose certificate chains to tsa_ca (the TSA's time).
TimestampCheck timestampsCheckedBy(signing::TrustStore tsa_ca);

// Reads the whole store in one read transaction and checks it: every history row has its
// place in the ledger, hashes to its recorded leaf, and comes in seq order; the recomputed
// tree matches the stored subtrees, the head and every checkpoint's root; and every
// checkpoint is signed by `key` (when given; without a key signatures are not checked).
// With a trusted checkpoint, the first trusted->size entries must still have its root
// (finding "rewritten") and the ledger must still hold them (finding "truncated"). With
// timestamps, each checkpoint's TSA token must verify over its signed text, and the
// checkpoint's signed_at must not be later than the TSA's time by more than 5 minutes (a
// checkpoint backdated on the server's clock) (finding "timestamp").
// Errors: the store's (an unreadable store is an error; a tampered one is a report).
Result<VerifyReport> verifyLedger(storage::Store& store, const CheckpointVerifier* key,
                                  const TrustedCheckpoint* trusted = nullptr,
                                  const TimestampCheck* timestamps = nullptr);

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
