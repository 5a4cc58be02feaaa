#include "tramite/audit/json_forms.h"

namespace tramite::audit {

json::Value hashesJson(const std::vector<Hash>& hashes) {
  json::Array out;
  out.reserve(hashes.size());
  for (const Hash& h : hashes) out.emplace_back(toHex(h));
  return json::Value(std::move(out));
}

Result<std::vector<Hash>> hashesFromJson(const json::Value& v) {
  if (!v.isArray()) return Status(ErrorCode::kInvalidArgument, "a hash list is a JSON array");
  std::vector<Hash> out;
  out.reserve(v.asArray().size());
  for (const json::Value& h : v.asArray()) {
    auto hash = h.isString() ? hashFromHex(h.asString())
                             : Result<Hash>(ErrorCode::kInvalidArgument, "a hash is a string");
    if (!hash) return hash.status();
    out.push_back(*hash);
  }
  return out;
}

json::Value checkpointJson(const Checkpoint& c) {
  json::Value v(json::Object{{"size", static_cast<std::int64_t>(c.size)},
                             {"root", toHex(c.root)},
                             {"signed_at", c.signed_at},
                             {"key_id", c.key_id},
                             {"signature", c.signature}});
  if (!c.previous.empty()) v.set("previous", c.previous);
  if (!c.timestamp.empty()) v.set("timestamp", toHex(c.timestamp));
  return v;
}

Result<Checkpoint> checkpointFromJson(const json::Value& v) {
  const json::Value* size = v.find("size");
  const json::Value* root = v.find("root");
  const json::Value* signed_at = v.find("signed_at");
  const json::Value* key_id = v.find("key_id");
  const json::Value* signature = v.find("signature");
  if (!size || !size->isInt() || size->asInt() < 0 || !root || !root->isString() || !signed_at ||
      !signed_at->isInt() || !key_id || !key_id->isString() || !signature ||
      !signature->isString()) {
    return Status(ErrorCode::kInvalidArgument,
                  "a checkpoint has size, root, signed_at, key_id and signature");
  }
  auto hash = hashFromHex(root->asString());
  if (!hash) return hash.status();
  const json::Value* previous = v.find("previous");
  if (previous && !previous->isString()) {
    return Status(ErrorCode::kInvalidArgument, "a checkpoint's previous is a hash in hex");
  }
  std::string token;
  if (const json::Value* timestamp = v.find("timestamp")) {
    auto bytes = timestamp->isString() ? bytesFromHex(timestamp->asString())
                                       : Result<std::string>(ErrorCode::kInvalidArgument, "");
    if (!bytes) {
      return Status(ErrorCode::kInvalidArgument,
                    "a checkpoint's timestamp is a timestamp token (DER) in hex");
    }
    token = std::move(bytes).value();
  }
  return Checkpoint{static_cast<std::uint64_t>(size->asInt()),
                    *hash,
                    signed_at->asInt(),
                    key_id->asString(),
                    signature->asString(),
                    previous ? previous->asString() : "",
                    std::move(token)};
}

}  // namespace tramite::audit
