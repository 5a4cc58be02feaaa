// The vocabulary's step extensions (tramite/runtime/step_extension.h) that the engine
// registers, and what they share with the rest of the engine. Internal to this module.
//
// Order matters where two act on one state: documents come first, so that a state's
// <w:requires> is checked before its tasks close (a refused exit leaves the tasks open).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "tramite/json.h"
#include "tramite/runtime/step_extension.h"
#include "tramite/signing/cms.h"
#include "tramite/storage/blobs.h"

namespace tramite::runtime::internal {

// The signer of a rendered document's institutional seal, in signature rows.
inline constexpr const char* kSealSigner = "seal";

// A document and a signature as history rows and answers name them.
json::Value documentDetail(const storage::DocumentRecord& d);
json::Value signatureDetail(const storage::SignatureRecord& s, const storage::DocumentRecord& d);

// A task history row's detail: the task's id, name, the operation and its status, plus extra.
json::Value taskRowDetail(const storage::TaskRecord& t, std::string_view op, json::Value extra);

// <w:requires> (checked when a guarded transition is taken or a state is left) and
// <w:render> (kept when executed, rendered with the directory's names after the macrostep,
// stored and sealed). templates: by name; seal: may be null (documents stay unsigned).
std::unique_ptr<StepExtension> documentWork(std::map<std::string, std::string> templates,
                                            std::shared_ptr<storage::BlobStore> blobs,
                                            std::shared_ptr<const signing::Sealer> seal);

// <w:task>, <w:approval> and <w:deadline>: tasks created when their state is entered and
// exited when it is left or the instance ends; deadline timers set and cancelled with them.
std::unique_ptr<StepExtension> taskWork();

}  // namespace tramite::runtime::internal
