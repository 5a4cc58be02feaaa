// The API's handlers: documents and signatures.
#include "api_impl.h"

namespace tramite::api {

// The document, after checking the caller may read its instance.
Result<runtime::DocumentView> Api::Impl::readableDocument(const Context& c) {
  auto doc = engine_->document(c.path.at("id"));
  if (!doc) return doc.status();
  if (Status st = mayReadInstance(c.who, doc->document.instance_id); !st) return st;
  return doc;
}

HttpResponse Api::Impl::bytesResponse(std::string bytes, std::string type,
                                      const std::string& filename, const std::string& etag) {
  HttpResponse r;
  r.content_type = std::move(type);
  r.body = std::move(bytes);
  std::string quoted;  // printable ASCII without quotes or backslashes: a safe header value
  for (char ch : filename)
    quoted += (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') ? ch : '_';
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + quoted + "\"");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Content-Security-Policy", "sandbox");
  if (!etag.empty()) r.headers.emplace_back("ETag", "\"" + etag + "\"");
  return r;
}

Result<HttpResponse> Api::Impl::listDocuments(Context& c) {
  const std::string& id = c.path.at("id");
  if (Status st = mayReadInstance(c.who, id); !st) return st;
  auto docs = engine_->documents(id);
  if (!docs) return docs.status();
  json::Array out;
  for (const runtime::DocumentView& d : *docs) out.push_back(d.toJson());
  return jsonResponse(200, json::objectOf("documents", std::move(out)));
}

Result<HttpResponse> Api::Impl::uploadDocument(Context& c) {
  const std::string& id = c.path.at("id");
  if (Status st = mayReadInstance(c.who, id); !st) return st;
  runtime::DocumentUpload upload;
  upload.instance_id = id;
  upload.name = c.path.at("name");
  upload.content_type = c.req.header("content-type");
  if (const std::string* task = c.req.param("task")) upload.task_id = *task;
  if (const std::string* filename = c.req.param("filename")) upload.filename = *filename;
  upload.bytes = c.req.body;
  upload.actor = c.actor();
  auto doc = engine_->attachDocument(upload);
  if (!doc) return doc.status();
  HttpResponse r = jsonResponse(201, doc->toJson());
  r.headers.emplace_back("Location", "/api/v1/documents/" + doc->document.id);
  return r;
}

Result<HttpResponse> Api::Impl::getDocument(Context& c) {
  auto doc = readableDocument(c);
  if (!doc) return doc.status();
  return jsonResponse(200, doc->toJson());
}

Result<HttpResponse> Api::Impl::documentContent(Context& c) {
  auto doc = readableDocument(c);
  if (!doc) return doc.status();
  auto bytes = engine_->blob(doc->document.sha256);
  if (!bytes) return bytes.status();
  const storage::DocumentRecord& d = doc->document;
  return bytesResponse(std::move(bytes).value(), d.content_type,
                       d.filename.empty() ? d.name : d.filename, d.sha256);
}

// A signer need not take part in the expediente (a lawyer handed the acta signs it where
// she is): the engine records a signature only from the user its certificate names.
Result<HttpResponse> Api::Impl::addSignature(Context& c) {
  const std::string type = c.req.header("content-type");
  if (type.rfind("application/pkcs7-signature", 0) != 0 &&
      type.rfind("application/octet-stream", 0) != 0) {
    return Status(ErrorCode::kUnsupportedMedia,
                  "this call takes a detached CMS signature in DER "
                  "(Content-Type: application/pkcs7-signature)");
  }
  auto sig = engine_->addSignature(c.path.at("id"), c.req.body, c.actor());
  if (!sig) return sig.status();
  return jsonResponse(201, runtime::signatureJson(*sig));
}

Result<HttpResponse> Api::Impl::signatureContent(Context& c) {
  auto doc = readableDocument(c);
  if (!doc) return doc.status();
  for (const storage::SignatureRecord& s : doc->signatures) {
    if (s.id != c.path.at("signature")) continue;
    auto bytes = engine_->blob(s.p7s_sha256);
    if (!bytes) return bytes.status();
    return bytesResponse(std::move(bytes).value(), "application/pkcs7-signature",
                         doc->document.name + "-" + s.signer + ".p7s", s.p7s_sha256);
  }
  return Status(ErrorCode::kNotFound, "document '" + doc->document.id + "' has no signature '" +
                                          c.path.at("signature") + "'");
}

// The routes of this resource (see Route in api_impl.h).
std::vector<Api::Impl::Route> Api::Impl::documentRoutes() {
  using I = Impl;
  return {
      Route("listDocuments", "GET", "/api/v1/instances/{id}/documents", Access::kUser,
            &I::listDocuments)
          .summary("Every version of every document of an instance, with signatures")
          .returns(200, "DocumentList", "documents by name then version")
          .fails({403}),
      Route("uploadDocument", "POST", "/api/v1/instances/{id}/documents/{name}", Access::kWriter,
            &I::uploadDocument)
          .summary("Upload the next version of a named document (raw body; its Content-Type must "
                   "be taken and match the bytes)")
          .upload()
          .query("task", "the task it belongs to")
          .query("filename", "shown on download")
          .takes(kBinary, "application/pdf")
          .takes(kBinary, "*/*")
          .returns(201, "Document", "stored, recorded in the history and the audit ledger")
          .fails({400, 409}),
      Route("getDocument", "GET", "/api/v1/documents/{id}", Access::kUser, &I::getDocument)
          .summary("One document version with its signatures")
          .returns(200, "Document", "the document")
          .fails({403}),
      Route("getDocumentContent", "GET", "/api/v1/documents/{id}/content", Access::kUser,
            &I::documentContent)
          .summary("A document version's bytes (ETag: its SHA-256)")
          .returns(200, kBinary, "the bytes, with the stored content type", "*/*")
          .fails({403}),
      Route("addSignature", "POST", "/api/v1/documents/{id}/signatures", Access::kWriter,
            &I::addSignature)
          .summary("Add a detached CMS signature (DER .p7s) over the document version; checked "
                   "against the trust store, bound to the user of its certificate UID, timestamped "
                   "when a TSA is configured")
          .upload()
          .takes(kBinary, "application/pkcs7-signature")
          .returns(201, "Signature", "recorded in the history and the audit ledger")
          .fails({400, 409, 503}),
      Route("getSignatureP7s", "GET", "/api/v1/documents/{id}/signatures/{signature}/p7s",
            Access::kUser, &I::signatureContent)
          .summary("A signature as stored (DER .p7s, with its timestamp token when it has one)")
          .returns(200, kBinary, "DER", "application/pkcs7-signature")
          .fails({403}),
  };
}

}  // namespace tramite::api
