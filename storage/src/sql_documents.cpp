// Documents, signatures and blobs kept in the database.
#include "sql_transaction.h"

namespace tramite::storage::sql {

using Poco::Int64;

Result<DocumentRecord> SqlTransaction::addDocument(const DocumentRecord& record) {
  return guarded("add document", [&]() -> Result<DocumentRecord> {
    DocumentRecord r = record;
    runSql("SELECT COALESCE(MAX(version), 0) FROM documents WHERE instance_id = ? AND name = ?",
           {r.instance_id, r.name},
           [&](const Row& c) { r.version = static_cast<std::int32_t>(c.integer(0) + 1); });
    runSql(
        "INSERT INTO documents (id, instance_id, task_id, name, version, sha256, content_type, "
        "size, filename, origin, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)",
        {r.id, r.instance_id, r.task_id, r.name, Int64{r.version}, r.sha256, r.content_type,
         Int64{r.size}, r.filename, r.origin, r.created_by, Int64{r.created_at}},
        {});
    return r;
  });
}

Result<std::optional<DocumentRecord>> SqlTransaction::document(const std::string& id) {
  return selectOne<DocumentRecord>("read document", std::string(kDocumentSelect) + " WHERE id = ?",
                                   {id}, readDocument);
}

Result<std::vector<DocumentRecord>> SqlTransaction::documentsOf(const std::string& instance_id) {
  return selectAll<DocumentRecord>(
      "read documents",
      std::string(kDocumentSelect) + " WHERE instance_id = ? ORDER BY name, version", {instance_id},
      readDocument);
}

Status SqlTransaction::addSignature(const SignatureRecord& r) {
  return guarded("add signature", [&]() -> Status {
    runSql(
        "INSERT INTO signatures (id, document_id, instance_id, signer, subject, issuer, serial, "
        "fingerprint, signing_time, timestamp_at, p7s_sha256, created_by, created_at) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {r.id, r.document_id, r.instance_id, r.signer, r.subject, r.issuer, r.serial, r.fingerprint,
         Int64{r.signing_time}, Int64{r.timestamp_at}, r.p7s_sha256, r.created_by,
         Int64{r.created_at}},
        {});
    return Status::ok();
  });
}

Result<std::vector<SignatureRecord>> SqlTransaction::signaturesOf(const std::string& instance_id) {
  return selectAll<SignatureRecord>(
      "read signatures",
      "SELECT id, document_id, instance_id, signer, subject, issuer, serial, fingerprint, "
      "signing_time, timestamp_at, p7s_sha256, created_by, created_at FROM signatures WHERE "
      "instance_id = ? ORDER BY created_at, id",
      {instance_id}, [](const Row& c) {
        return SignatureRecord{c.text(0),  c.text(1),  c.text(2),    c.text(3),    c.text(4),
                               c.text(5),  c.text(6),  c.text(7),    c.integer(8), c.integer(9),
                               c.text(10), c.text(11), c.integer(12)};
      });
}

Status SqlTransaction::putBlob(const std::string& sha256, const std::string& bytes) {
  return guarded("write blob", [&]() -> Status {
    runSql(
        "INSERT INTO blobs (sha256, size, content) VALUES (?, ?, ?) ON CONFLICT (sha256) DO "
        "NOTHING",
        {sha256, Int64{static_cast<std::int64_t>(bytes.size())}, base64Encode(bytes)}, {});
    return Status::ok();
  });
}

Result<std::optional<std::string>> SqlTransaction::blob(const std::string& sha256) {
  return guarded("read blob", [&]() -> Result<std::optional<std::string>> {
    std::optional<std::string> out;
    Status bad;
    runSql("SELECT content FROM blobs WHERE sha256 = ?", {sha256}, [&](const Row& c) {
      out = base64Decode(c.text(0));
      if (!out) bad = Status(ErrorCode::kInternal, "blob " + sha256 + " is not base64");
    });
    if (!bad) return bad;
    return out;
  });
}

DocumentRecord SqlTransaction::readDocument(const Row& c) {
  return DocumentRecord{
      c.text(0),  c.text(1),    c.text(2),    c.text(3), static_cast<std::int32_t>(c.integer(4)),
      c.text(5),  c.text(6),    c.integer(7), c.text(8), c.text(9),
      c.text(10), c.integer(11)};
}

}  // namespace tramite::storage::sql
