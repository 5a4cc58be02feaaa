// The API's handlers: the audit ledger.
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

}  // namespace tramite::api
