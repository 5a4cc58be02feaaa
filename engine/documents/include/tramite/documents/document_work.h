// Documents as a step extension (tramite/step/extension.h), and how documents and signatures
// are shown in history rows and answers.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "tramite/json.h"
#include "tramite/signing/cms.h"
#include "tramite/step/extension.h"
#include "tramite/storage/blobs.h"
#include "tramite/storage/records.h"

namespace tramite::documents {

// The signer of a rendered document's institutional seal, in signature rows.
inline constexpr const char* kSealSigner = "seal";

// <w:requires> and <w:render>: a transition whose content requires documents, or a state that
// requires them to be left, is refused (naming each document or signature missing) until the
// latest version of each is there, signed as required; a render is kept when executed and
// rendered after the macrostep from the case's data, with the directory's names beside the
// ids it holds, stored in blobs and sealed when seal is set. templates: by name. Stateless;
// shared by every step.
std::unique_ptr<step::Extension> documentWork(std::map<std::string, std::string> templates,
                                              std::shared_ptr<storage::BlobStore> blobs,
                                              std::shared_ptr<const signing::Sealer> seal);

// A signature as answers and bundles show it.
json::Value signatureJson(const storage::SignatureRecord& s);
// A document version and a signature as history rows name them.
json::Value documentDetail(const storage::DocumentRecord& d);
json::Value signatureDetail(const storage::SignatureRecord& s, const storage::DocumentRecord& d);

}  // namespace tramite::documents
