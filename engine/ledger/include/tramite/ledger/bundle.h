// The expediente bundle: one zip an auditor can check offline, years later, without trusting
// the database's administrator. It holds an instance's documents and signatures, its history,
// its ledger entries with inclusion proofs, and the signed checkpoint they lead to (layout
// in engine/audit/FORMAT.md).
//
// Thread safety: both functions may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tramite/audit/checkpoint.h"
#include "tramite/ledger/ledger.h"
#include "tramite/runtime/engine.h"
#include "tramite/signing/cms.h"
#include "tramite/storage/store.h"

namespace tramite::audit {

// Builds the bundle (zip bytes) of an instance. When signer is given the ledger is first
// checkpointed (timestamped by stamp, when given), so the proofs cover every entry up to now;
// otherwise entries after the latest checkpoint are included without a proof.
// public_key_pem is copied into the bundle for convenience (an auditor checks against a key
// they hold). Errors: kNotFound; the store's; kFailedPrecondition when there is no checkpoint
// at all.
Result<std::string> exportBundle(runtime::Engine& engine, storage::Store& store,
                                 const std::string& instance_id, const Signer* signer,
                                 const std::string& public_key_pem, TimePoint now,
                                 const CheckpointStamp& stamp = {});

struct BundleReport {
  std::uint64_t entries = 0;     // ledger entries proved against the checkpoint
  std::uint64_t documents = 0;   // document files whose hash matched their ledger entry
  std::uint64_t signatures = 0;  // signatures that verified over their documents
  std::uint64_t checkpoint_size = 0;
  TimePoint checkpoint_timestamp = 0;  // the TSA's time on the checkpoint, when it verified
  std::vector<std::string> findings;   // every problem, in the order found
  bool ok() const { return findings.empty(); }
};

// Checks a bundle offline: the checkpoint's signature with key; every ledger entry's leaf
// hash and its inclusion proof to the checkpoint's root; the history against the entries;
// every document's and signature's bytes against the hashes the ledger recorded; each
// signature over its document against trust (when given) at the time the ledger recorded
// it, and the checkpoint's TSA timestamp (when it has one) against trust. Errors: kInvalidArgument
// when the bytes are not a readable bundle (a readable bundle with problems is a report).
Result<BundleReport> verifyBundle(const std::string& zip, const CheckpointVerifier& key,
                                  const signing::TrustStore* trust);

}  // namespace tramite::audit
