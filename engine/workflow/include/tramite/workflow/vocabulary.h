// Tramite's workflow vocabulary, urn:tramite:workflow:1: the elements processes use beside
// SCXML (inputs, accepted events, tasks, approvals, deadlines, required documents, rendered
// documents). Its XSD (workflows/schema/tramite-workflow-1.xsd, compiled in), where each
// element may stand, and the rules across attributes an XSD 1.0 cannot state, as an
// scxml::Vocabulary the generic parser validates. What the elements ask of a state, read
// from a compiled chart: specs.h.
#pragma once

#include "tramite/scxml/parser.h"
#include "tramite/scxml/vocabulary.h"

namespace tramite::workflow {

inline constexpr const char* kNamespace = "urn:tramite:workflow:1";

// The vocabulary (one object, alive for the whole process). Thread-safe.
const scxml::Vocabulary& vocabulary();

// options, with the vocabulary among its vocabularies: what every parse of a process uses.
scxml::ParseOptions parseOptions(scxml::ParseOptions options = {});

}  // namespace tramite::workflow
