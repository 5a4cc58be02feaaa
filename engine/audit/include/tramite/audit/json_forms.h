// The JSON forms of ledger objects, one for every place that writes or reads them (the API's
// audit routes, the expediente bundle and its check).
#pragma once

#include <vector>

#include "tramite/audit/checkpoint.h"
#include "tramite/json.h"

namespace tramite::audit {

// ["hex", ...]: a proof's path.
json::Value hashesJson(const std::vector<Hash>& hashes);
// Errors: kInvalidArgument unless v is an array of 64-digit hex strings.
Result<std::vector<Hash>> hashesFromJson(const json::Value& v);

// {"size", "root" (hex), "signed_at", "key_id", "signature" (hex)}.
json::Value checkpointJson(const Checkpoint& c);
// Errors: kInvalidArgument when a member is missing or of the wrong kind.
Result<Checkpoint> checkpointFromJson(const json::Value& v);

}  // namespace tramite::audit
