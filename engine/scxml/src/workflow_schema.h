// Validation of Tramite's workflow vocabulary (urn:tramite:workflow:1) inside SCXML
// documents: the XSD in workflows/schema (compiled into the library), then the rules an
// XSD 1.0 cannot express. Private to the parser.
#pragma once

#include <libxml/tree.h>

#include <string>
#include <vector>

#include "tramite/scxml/parser.h"

namespace tramite::scxml {

inline constexpr const char* kWorkflowNamespace = "urn:tramite:workflow:1";

// Appends one diagnostic per problem found in the workflow elements of doc (none when the
// document uses no such element). Thread-safe: the schema is compiled once and shared.
void validateWorkflowElements(xmlDocPtr doc, const std::string& source_name,
                              std::vector<Diagnostic>& out);

}  // namespace tramite::scxml
