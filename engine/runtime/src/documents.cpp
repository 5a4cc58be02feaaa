// Documents of instances (content-addressed bytes, versions per name) and signatures on them;
// what documents do inside a step (<w:requires>, <w:render>) is in document_work.cpp.
#include <algorithm>
#include <map>
#include <set>

#include "engine_internal.h"
#include "tramite/documents/document_work.h"
#include "tramite/runtime/directory.h"
#include "tramite/text.h"

namespace tramite::runtime {

namespace {

bool startsWith(const std::string& bytes, std::string_view magic) {
  return bytes.compare(0, magic.size(), magic) == 0;
}

// The media type without parameters, lower case ("Text/HTML; charset=utf-8" -> "text/html").
std::string baseType(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  t.erase(t.find_last_not_of(" \t") + 1);
  t.erase(0, t.find_first_not_of(" \t"));
  return asciiLower(std::move(t));
}

// Whether bytes look like media type `type`.
bool looksLike(const std::string& type, const std::string& bytes) {
  if (type == "application/pdf") return startsWith(bytes, "%PDF-");
  if (type == "image/png") return startsWith(bytes, "\x89PNG\r\n\x1a\n");
  if (type == "image/jpeg") return startsWith(bytes, "\xff\xd8\xff");
  if (type.rfind("text/", 0) == 0) {
    return json::isValidUtf8(bytes) && bytes.find('\0') == std::string::npos;
  }
  if (type.find("openxmlformats") != std::string::npos ||
      type.find("opendocument") != std::string::npos) {
    return startsWith(bytes, "PK\x03\x04");
  }
  return true;  // a type the administrator added: taken as declared
}

Status checkUpload(const DocumentUpload& u, const DocumentPolicy& policy, std::string& type) {
  if (!isWorkflowName(u.name)) {
    return Status(ErrorCode::kInvalidArgument,
                  "document name '" + u.name + "' must match [a-z][a-z0-9_-]{0,63}");
  }
  if (u.filename.size() > 255 ||
      std::any_of(u.filename.begin(), u.filename.end(),
                  [](unsigned char c) { return c < 0x20 || c == '/' || c == '\\' || c == 0x7f; })) {
    return Status(ErrorCode::kInvalidArgument,
                  "a filename may not hold slashes or control characters (at most 255 bytes)");
  }
  if (static_cast<std::int64_t>(u.bytes.size()) > policy.max_bytes) {
    return Status(ErrorCode::kResourceExhausted,
                  "the document has " + std::to_string(u.bytes.size()) + " bytes; the limit is " +
                      std::to_string(policy.max_bytes));
  }
  if (u.bytes.empty()) return Status(ErrorCode::kInvalidArgument, "the document is empty");
  type = baseType(u.content_type);
  if (std::find(policy.content_types.begin(), policy.content_types.end(), type) ==
      policy.content_types.end()) {
    return Status(ErrorCode::kUnsupportedMedia,
                  "content type '" + type +
                      "' is not taken (taken: " + join(policy.content_types, ", ") + ")");
  }
  if (!looksLike(type, u.bytes)) {
    return Status(ErrorCode::kUnsupportedMedia, "the bytes are not " + type + " as declared");
  }
  if (type.rfind("text/", 0) == 0) type += "; charset=utf-8";
  return Status::ok();
}

}  // namespace

using documents::documentDetail;
using documents::signatureDetail;

std::vector<DocumentView> documentViews(std::vector<storage::DocumentRecord> docs,
                                        const std::vector<storage::SignatureRecord>& sigs) {
  std::vector<DocumentView> out;
  out.reserve(docs.size());
  for (storage::DocumentRecord& d : docs) {
    DocumentView v{std::move(d), {}};
    for (const storage::SignatureRecord& s : sigs) {
      if (s.document_id == v.document.id) v.signatures.push_back(s);
    }
    out.push_back(std::move(v));
  }
  return out;
}

json::Value DocumentView::toJson() const {
  json::Value v = documentDetail(document);
  v.set("id", document.id);
  v.set("instance", document.instance_id);
  v.set("filename", document.filename);
  v.set("created_by", document.created_by);
  v.set("created_at", document.created_at);
  json::Array sigs;
  for (const storage::SignatureRecord& s : signatures) sigs.push_back(signatureJson(s));
  v.set("signatures", json::Value(std::move(sigs)));
  return v;
}

// ---- engine --------------------------------------------------------------------------------

Result<DocumentView> Engine::attachDocument(const DocumentUpload& upload) {
  std::string type;
  if (Status st = checkUpload(upload, options_.documents, type); !st) return st;
  const std::string sha = sha256Hex(upload.bytes);
  return transact<DocumentView>([&](storage::Transaction& tx,
                                    bool& final_answer) -> Result<DocumentView> {
    auto refuse = [&](ErrorCode code, std::string why) {
      final_answer = true;
      return Status(code, std::move(why));
    };
    auto inst = tx.instance(upload.instance_id);
    if (!inst) return inst.status();
    if (!inst->has_value()) {
      return refuse(ErrorCode::kNotFound, "no instance '" + upload.instance_id + "'");
    }
    auto lifecycle = parseLifecycle((*inst)->lifecycle);
    if (!lifecycle) return lifecycle.status();
    if (isEnded(*lifecycle)) {
      return refuse(ErrorCode::kFailedPrecondition, "the expediente is closed (" +
                                                        (*inst)->lifecycle +
                                                        "): documents can no longer be added");
    }
    if (!upload.task_id.empty()) {
      auto task = tx.task(upload.task_id);
      if (!task) return task.status();
      if (!task->has_value() || (*task)->instance_id != upload.instance_id) {
        return refuse(ErrorCode::kNotFound,
                      "instance '" + upload.instance_id + "' has no task '" + upload.task_id + "'");
      }
    }
    if (upload.actor != kSystemActor) {
      auto user = activeUser(tx, upload.actor);
      if (!user) return user.status();
      if (!user->has_value()) {
        return refuse(ErrorCode::kPermissionDenied, "'" + upload.actor + "' is no active user");
      }
    }
    if (Status st = blobs_->put(tx, sha, upload.bytes); !st) return st;
    const TimePoint now = clock_.nowMs();
    storage::DocumentRecord record{internal::newId(now),
                                   upload.instance_id,
                                   upload.task_id,
                                   upload.name,
                                   0,
                                   sha,
                                   type,
                                   static_cast<std::int64_t>(upload.bytes.size()),
                                   upload.filename,
                                   "upload",
                                   upload.actor,
                                   now};
    auto added = tx.addDocument(record);
    if (!added) return added.status();
    Status h = tx.appendHistory({storage::HistoryRecord{
        0, upload.instance_id, now, upload.actor, "document", json::dump(documentDetail(*added))}});
    if (!h) return h;
    return DocumentView{std::move(added).value(), {}};
  });
}

Result<std::vector<DocumentView>> Engine::documents(const std::string& instance_id) {
  return transact<std::vector<DocumentView>>(
      [&](storage::Transaction& tx, bool&) -> Result<std::vector<DocumentView>> {
        auto docs = tx.documentsOf(instance_id);
        if (!docs) return docs.status();
        auto sigs = tx.signaturesOf(instance_id);
        if (!sigs) return sigs.status();
        return documentViews(std::move(docs).value(), *sigs);
      },
      storage::TxMode::kRead);
}

Result<DocumentView> Engine::document(const std::string& document_id) {
  return transact<DocumentView>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<DocumentView> {
        auto doc = tx.document(document_id);
        if (!doc) return doc.status();
        if (!doc->has_value()) {
          final_answer = true;
          return Status(ErrorCode::kNotFound, "no document '" + document_id + "'");
        }
        auto sigs = tx.signaturesOf((*doc)->instance_id);
        if (!sigs) return sigs.status();
        return std::move(documentViews({std::move(**doc)}, *sigs).front());
      },
      storage::TxMode::kRead);
}

Result<std::string> Engine::blob(const std::string& sha256) {
  return transact<std::string>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<std::string> {
        auto bytes = blobs_->get(tx, sha256);
        if (!bytes) return bytes.status();
        if (!bytes->has_value()) {
          final_answer = true;
          return Status(ErrorCode::kNotFound, "no stored bytes with SHA-256 " + sha256);
        }
        return std::move(**bytes);
      },
      storage::TxMode::kRead);
}

Result<storage::SignatureRecord> Engine::addSignature(const std::string& document_id,
                                                      const std::string& p7s,
                                                      const std::string& actor) {
  if (!options_.trust_store) {
    return Status(ErrorCode::kFailedPrecondition,
                  "no trust store is configured (tramite.signing.trust_store): signatures "
                  "cannot be checked");
  }
  auto doc = document(document_id);
  if (!doc) return doc.status();
  auto content = blob(doc->document.sha256);
  if (!content) return content.status();
  const TimePoint now = clock_.nowMs();
  auto check = options_.trust_store->verifyDetached(p7s, *content, now);
  if (!check) return check.status();
  const std::string uid = check->signer.uid;  // check is replaced when timestamped
  if (uid.empty()) {
    return Status(ErrorCode::kFailedPrecondition, "binding: the certificate (" +
                                                      check->signer.subject +
                                                      ") names no user (no UID attribute)");
  }
  auto signer = transact<std::optional<storage::UserRecord>>(
      [&](storage::Transaction& tx, bool&) { return activeUser(tx, uid); }, storage::TxMode::kRead);
  if (!signer) return signer.status();
  if (!signer->has_value()) {
    return Status(ErrorCode::kFailedPrecondition,
                  "binding: the certificate is issued to '" + uid + "', who is no active user");
  }
  if (actor != uid) {
    // Who the certificate names records the signature, from their own session: nobody
    // records a colleague's signature they came by (a .p7s downloaded from another case).
    return Status(ErrorCode::kPermissionDenied,
                  "binding: the signature is " + uid + "'s; only " + uid +
                      " may record it, from their own session (" + actor + " may not)");
  }
  const std::string original_sha = sha256Hex(p7s);
  std::string stored = p7s;
  if (options_.timestamp_authority) {
    // Outside any transaction: the TSA is a network peer.
    auto query = signing::timestampQuery(p7s);
    if (!query) return query.status();
    auto reply = options_.timestamp_authority(*query);
    if (!reply) return reply.status();
    auto stamped = signing::attachTimestamp(p7s, *query, *reply);
    if (!stamped) return stamped.status();
    check = options_.trust_store->verifyDetached(*stamped, *content, now);
    if (!check) return check.status();
    stored = std::move(stamped).value();
  }
  const std::string p7s_sha = sha256Hex(stored);
  return transact<storage::SignatureRecord>(
      [&](storage::Transaction& tx, bool& final_answer) -> Result<storage::SignatureRecord> {
        auto refuse = [&](ErrorCode code, std::string why) {
          final_answer = true;
          return Status(code, std::move(why));
        };
        auto user = activeUser(tx, uid);
        if (!user) return user.status();
        if (!user->has_value()) {
          return refuse(ErrorCode::kFailedPrecondition, "binding: the certificate is issued to '" +
                                                            uid + "', who is no active user");
        }
        // A signature is recorded once: the same signature bytes on another document or
        // expediente are a replay. The key's primary key holds across concurrent uploads.
        auto replayed = tx.idempotentResult("signature", original_sha);
        if (!replayed) return replayed.status();
        if (replayed->has_value()) {
          return refuse(ErrorCode::kConflict,
                        "this signature is already recorded (" + **replayed +
                            "); a signature is bound to one document version");
        }
        auto sigs = tx.signaturesOf(doc->document.instance_id);
        if (!sigs) return sigs.status();
        for (const storage::SignatureRecord& s : *sigs) {
          if (s.document_id == document_id && s.fingerprint == check->signer.fingerprint) {
            return refuse(ErrorCode::kConflict, "version " + std::to_string(doc->document.version) +
                                                    " of '" + doc->document.name +
                                                    "' is already signed with this certificate");
          }
        }
        if (Status st = blobs_->put(tx, p7s_sha, stored); !st) return st;
        storage::SignatureRecord record{internal::newId(now),
                                        document_id,
                                        doc->document.instance_id,
                                        uid,
                                        check->signer.subject,
                                        check->signer.issuer,
                                        check->signer.serial,
                                        check->signer.fingerprint,
                                        check->signing_time,
                                        check->timestamp ? check->timestamp->time : 0,
                                        p7s_sha,
                                        actor,
                                        now};
        if (Status st = tx.addSignature(record); !st) return st;
        if (Status st =
                tx.saveIdempotentResult("signature", original_sha, "document " + document_id, now);
            !st) {
          return st;
        }
        Status h = tx.appendHistory(
            {storage::HistoryRecord{0, record.instance_id, now, actor, "signature",
                                    json::dump(signatureDetail(record, doc->document))}});
        if (!h) return h;
        return record;
      });
}

}  // namespace tramite::runtime
