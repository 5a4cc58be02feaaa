// Definitions: versions of a process by name.
#include "sql_transaction.h"

namespace tramite::storage::sql {

using Poco::Int64;

Result<DefinitionRecord> SqlTransaction::addDefinition(const std::string& name,
                                                       const std::string& sha256,
                                                       const std::string& xml, TimePoint now) {
  return guarded("add definition", [&]() -> Result<DefinitionRecord> {
    DefinitionRecord r{0, name, 0, sha256, xml, now};
    runSql("SELECT COALESCE(MAX(version), 0) + 1 FROM definitions WHERE name = ?", {name},
           [&](const Row& c) { r.version = static_cast<std::int32_t>(c.integer(0)); });
    runSql(
        "INSERT INTO definitions (name, version, sha256, xml, created_at) VALUES (?, ?, ?, ?, "
        "?) RETURNING id",
        {name, Int64{r.version}, sha256, xml, Int64{now}},
        [&](const Row& c) { r.id = c.integer(0); });
    return r;
  });
}

Result<std::optional<DefinitionRecord>> SqlTransaction::definition(const std::string& name,
                                                                   std::int32_t version) {
  if (version > 0) {
    return selectOne<DefinitionRecord>(
        "read definition", kDefinitionHeader + std::string(" WHERE name = ? AND version = ?"),
        {name, Int64{version}}, readDefinition);
  }
  return selectOne<DefinitionRecord>(
      "read definition",
      kDefinitionHeader + std::string(" WHERE name = ? ORDER BY version DESC LIMIT 1"), {name},
      readDefinition);
}

Result<std::optional<DefinitionRecord>> SqlTransaction::definitionById(std::int64_t id) {
  return selectOne<DefinitionRecord>("read definition",
                                     kDefinitionColumns + std::string(" WHERE id = ?"), {Int64{id}},
                                     readDefinition);
}

Result<std::vector<DefinitionRecord>> SqlTransaction::definitionVersions(const std::string& name) {
  return selectAll<DefinitionRecord>(
      "list definitions", kDefinitionHeader + std::string(" WHERE name = ? ORDER BY version"),
      {name}, readDefinition);
}

// ---- generic reads (directory, tasks) ----

DefinitionRecord SqlTransaction::readDefinition(const Row& c) {
  return DefinitionRecord{c.integer(0), c.text(1), static_cast<std::int32_t>(c.integer(2)),
                          c.text(3),    c.text(4), c.integer(5)};
}

}  // namespace tramite::storage::sql
