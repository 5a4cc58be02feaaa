// The API's handlers: the audit ledger (key, checkpoints, proofs) and verifiable bundles.
#include "api_impl.h"

namespace tramite::api {

Result<HttpResponse> Api::Impl::latestCheckpoint(Context&) {
  auto cp = inTransaction<std::optional<audit::Checkpoint>>(
      *store_, storage::TxMode::kRead,
      [](storage::Transaction& tx) { return tx.latestCheckpoint(); });
  if (!cp) return cp.status();
  if (!cp->has_value()) return Status(ErrorCode::kNotFound, "no checkpoint has been signed yet");
  const audit::Checkpoint& k = **cp;
  json::Value out = audit::checkpointJson(k);
  out.set("signed_text", audit::signedText(k));
  return jsonResponse(200, out);
}

Result<HttpResponse> Api::Impl::inclusionProof(Context& c) {
  auto index = intParam(c, "index", 0, 999'999'999, -1);
  if (!index) return index.status();
  if (*index < 0) return Status(ErrorCode::kInvalidArgument, "give the entry's index");
  auto size = intParam(c, "size", 0, 999'999'999, 0);
  if (!size) return size.status();
  auto proof = inTransaction<audit::InclusionProof>(
      *store_, storage::TxMode::kRead, [&](storage::Transaction& tx) {
        return audit::proveInclusion(tx, static_cast<std::uint64_t>(*index),
                                     static_cast<std::uint64_t>(*size));
      });
  if (!proof) return proof.status();
  return jsonResponse(200,
                      json::Value(json::Object{{"index", static_cast<std::int64_t>(proof->index)},
                                               {"size", static_cast<std::int64_t>(proof->size)},
                                               {"leaf_hash", audit::toHex(proof->leaf)},
                                               {"root", audit::toHex(proof->root)},
                                               {"path", audit::hashesJson(proof->path)}}));
}

Result<HttpResponse> Api::Impl::consistencyProof(Context& c) {
  auto first = intParam(c, "first", 1, 999'999'999, 0);
  if (!first) return first.status();
  auto second = intParam(c, "second", 1, 999'999'999, 0);
  if (!second) return second.status();
  auto proof = inTransaction<std::vector<audit::Hash>>(
      *store_, storage::TxMode::kRead, [&](storage::Transaction& tx) {
        return audit::proveConsistency(tx, static_cast<std::uint64_t>(*first),
                                       static_cast<std::uint64_t>(*second));
      });
  if (!proof) return proof.status();
  return jsonResponse(
      200, json::Value(json::Object{
               {"first", *first}, {"second", *second}, {"path", audit::hashesJson(*proof)}}));
}

// The key checkpoints are signed with, for auditors to verify and witness them with; the
// fingerprint is what they compare out of band.
Result<HttpResponse> Api::Impl::ledgerKey(Context&) {
  const audit::Signer* signer = options_.ledger_signer.get();
  if (!signer) return Status(ErrorCode::kNotFound, "this server signs no checkpoints");
  return jsonResponse(200, json::Value(json::Object{{"algorithm", "Ed25519"},
                                                    {"key_id", signer->keyId()},
                                                    {"fingerprint_sha256", signer->fingerprint()},
                                                    {"public_key_pem", signer->publicKeyPem()}}));
}

Result<HttpResponse> Api::Impl::bundle(Context& c) {
  const std::string& id = c.path.at("id");
  if (Status st = mayReadInstance(c.who, id); !st) return st;
  const audit::Signer* signer = options_.ledger_signer.get();
  auto zip = audit::exportBundle(*engine_, *store_, id, signer,
                                 signer ? signer->publicKeyPem() : std::string(), clock_.nowMs(),
                                 options_.checkpoint_stamp);
  if (!zip) return zip.status();
  return bytesResponse(std::move(zip).value(), "application/zip", "expediente-" + id + ".zip", "");
}

// The routes of this resource (see Route in api_impl.h).
std::vector<Api::Impl::Route> Api::Impl::auditRoutes() {
  using I = Impl;
  return {
      Route("instanceBundle", "GET", "/api/v1/instances/{id}/bundle", Access::kUser, &I::bundle)
          .summary("The expediente bundle: documents, signatures, history, ledger entries with "
                   "inclusion proofs and the signed checkpoint (zip); check it with `tramite audit "
                   "verify-bundle`")
          .returns(200, kBinary, "zip", "application/zip")
          .fails({403, 409}),
      Route("getLedgerKey", "GET", "/api/v1/audit/key", Access::kPublic, &I::ledgerKey)
          .summary("The public key that signs the ledger's checkpoints, with its fingerprint")
          .returns(
              200, "LedgerKey",
              "algorithm, key_id, fingerprint_sha256 (SHA-256 of the raw key) and the key as PEM")
          .fails({404}),
      Route("getLatestCheckpoint", "GET", "/api/v1/audit/checkpoint", Access::kMonitor,
            &I::latestCheckpoint)
          .summary("The ledger's latest signed checkpoint")
          .returns(200, "Checkpoint", "checkpoint")
          .fails({404}),
      Route("getInclusionProof", "GET", "/api/v1/audit/proofs/inclusion", Access::kMonitor,
            &I::inclusionProof)
          .summary("RFC 9162 inclusion proof of a ledger entry")
          .query("index", "the entry", R"({"type": "integer", "minimum": 0})", true)
          .query("size", "the tree size (default: the current head)",
                 R"({"type": "integer", "minimum": 0})")
          .returns(200, "InclusionProof", "proof")
          .fails({400}),
      Route("getConsistencyProof", "GET", "/api/v1/audit/proofs/consistency", Access::kMonitor,
            &I::consistencyProof)
          .summary("RFC 9162 consistency proof between two tree sizes")
          .query("first", "the smaller size", R"({"type": "integer", "minimum": 0})", true)
          .query("second", "the larger size", R"({"type": "integer", "minimum": 0})", true)
          .returns(200, "ConsistencyProof", "proof")
          .fails({400}),
  };
}

}  // namespace tramite::api
