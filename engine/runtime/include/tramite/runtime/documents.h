// What callers see of an instance's documents and signatures, and what they hand in.
// Value types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tramite/documents/document_work.h"
#include "tramite/json.h"
#include "tramite/storage/store.h"

namespace tramite::runtime {

// What uploads may be: a size limit and the content types taken. A declared type must be
// in the list and the bytes must look like it (PDF, PNG, JPEG, ZIP-based office documents by
// their signature; text types as UTF-8 without NUL bytes).
struct DocumentPolicy {
  std::int64_t max_bytes = 25 * 1024 * 1024;
  std::vector<std::string> content_types = {
      "application/pdf",
      "image/png",
      "image/jpeg",
      "text/plain",
      "text/html",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "application/vnd.oasis.opendocument.text",
  };
};

struct DocumentUpload {
  std::string instance_id;
  std::string name;     // [a-z][a-z0-9_-]{0,63}, e.g. "acta_apertura_ofertas"
  std::string task_id;  // optional: the task it is attached to
  std::string content_type;
  std::string filename;  // optional: shown on download
  std::string bytes;
  std::string actor;
};

// One document version and the signatures on it.
struct DocumentView {
  storage::DocumentRecord document;
  std::vector<storage::SignatureRecord> signatures;
  json::Value toJson() const;
};

// A signature as answers and bundles show it (engine/documents).
using documents::signatureJson;

// Each document record with the signatures (of sigs) on it, in the records' order.
std::vector<DocumentView> documentViews(std::vector<storage::DocumentRecord> docs,
                                        const std::vector<storage::SignatureRecord>& sigs);

}  // namespace tramite::runtime
