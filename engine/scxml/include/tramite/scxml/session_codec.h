// Session state <-> JSON. The format is versioned ("v") and stores state ids, not indexes,
// so it is readable and survives re-parsing the same document. Only atomic states are
// stored: the full configuration is those states plus their ancestors.
#pragma once

#include <string>

#include "tramite/json.h"
#include "tramite/scxml/chart.h"
#include "tramite/scxml/datamodel.h"
#include "tramite/scxml/interpreter.h"

namespace tramite::scxml {

inline constexpr int kSessionFormatVersion = 1;

// Serialises a session and its datamodel variables. Compact: an idle session of a small
// chart is well under 200 bytes.
std::string encodeSession(const Chart& chart, const Session& session, const DataModel& dm);

// Restores a session (and the datamodel's variables) from encodeSession output.
// Errors: kInvalidArgument for malformed input, an unknown format version, or state ids
// the chart does not have. dm must be fresh and belong to this session.
// basichttp_base: as Interpreter::setBasicHttpBase.
Result<Session> decodeSession(const Chart& chart, std::string_view text, DataModel& dm,
                              const std::string& basichttp_base = {});

}  // namespace tramite::scxml
