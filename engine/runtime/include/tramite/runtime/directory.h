// The institution's directory: organisational units (the PAT's units), roles, users and
// substitutes during absences, read from config/directory.json and stored by the engine
// (Engine::importDirectory). Pure functions; thread-safe.
#pragma once

#include <string>

#include "tramite/json.h"
#include "tramite/status.h"
#include "tramite/storage/store.h"

namespace tramite::runtime {

// Reads a directory from JSON:
//   {"units": [{"id": "gj", "name": "Gerencia Jurídica", "area": "Subdirección ..."}],
//    "roles": [{"id": "abogado", "name": "Abogado(a)"}],
//    "users": [{"id": "ana_lopez", "name": "Ana López", "unit": "gj", "roles": ["abogado"],
//               "active": true}],
//    "substitutions": [{"user": "ana_lopez", "substitute": "beto_ruiz",
//                       "from": "2024-08-01", "to": "2024-08-15", "reason": "vacaciones"}]}
// Ids are workflow names ([a-z][a-z0-9_-]{0,63}), unique per kind; users name known units
// and roles; a substitution names two different known users and a from <= to date range.
// Errors: kInvalidArgument naming the first bad entry (every problem is listed, one a line).
Result<storage::DirectoryRecords> parseDirectory(const std::string& json_text);
// One user as the directory's JSON holds it: {"id", "name", "unit", "roles", "active"}.
json::Value userJson(const storage::UserRecord& user);
// The directory in the form parseDirectory reads (so it reads back to the same records).
json::Value directoryToJson(const storage::DirectoryRecords& directory);
// Errors: kNotFound when the file cannot be read, or parseDirectory's.
Result<storage::DirectoryRecords> loadDirectoryFile(const std::string& path);

// True for a valid workflow name (ids of users, roles, units, tasks).
bool isWorkflowName(const std::string& s);

}  // namespace tramite::runtime
