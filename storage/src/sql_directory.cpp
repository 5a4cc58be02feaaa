// The directory: units, roles, users, substitutions.
#include "sql_transaction.h"
#include "tramite/text.h"

namespace tramite::storage::sql {

using Poco::Int64;

Status SqlTransaction::replaceDirectory(const DirectoryRecords& dir) {
  return guarded("replace directory", [&]() -> Status {
    for (const char* table : {"substitutions", "users", "roles", "units"}) {
      exec(std::string("DELETE FROM ") + table);
    }
    json::Array units;
    for (const UnitRecord& u : dir.units) units.emplace_back(json::Array{u.id, u.name, u.area});
    json::Array roles;
    for (const RoleRecord& r : dir.roles) roles.emplace_back(json::Array{r.id, r.name});
    json::Array users;
    for (const UserRecord& u : dir.users) {
      users.emplace_back(json::Array{u.id, u.name, u.unit, join(u.roles, " "),
                                     std::int64_t{u.active ? 1 : 0}, u.email});
    }
    json::Array subs;
    for (const SubstitutionRecord& s : dir.substitutions) {
      subs.emplace_back(json::Array{s.user, s.substitute, s.from_day, s.to_day, s.reason});
    }
    runBatch(
        "INSERT INTO units (id, name, area) SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2 "
        "FROM {ROWS}",
        std::move(units));
    runBatch("INSERT INTO roles (id, name) SELECT j.value ->> 0, j.value ->> 1 FROM {ROWS}",
             std::move(roles));
    runBatch(
        "INSERT INTO users (id, name, unit, roles, active, email) SELECT j.value ->> 0, j.value "
        "->> 1, j.value ->> 2, j.value ->> 3, CAST(j.value ->> 4 AS {INT}), j.value ->> 5 FROM "
        "{ROWS}",
        std::move(users));
    runBatch(
        "INSERT INTO substitutions (user_id, substitute, from_day, to_day, reason) SELECT "
        "j.value ->> 0, j.value ->> 1, CAST(j.value ->> 2 AS {INT}), CAST(j.value ->> 3 AS "
        "{INT}), j.value ->> 4 FROM {ROWS}",
        std::move(subs));
    return Status::ok();
  });
}

Result<DirectoryRecords> SqlTransaction::directory() {
  return guarded("read directory", [&]() -> Result<DirectoryRecords> {
    DirectoryRecords out;
    runSql("SELECT id, name, area FROM units ORDER BY id", {}, [&](const Row& c) {
      out.units.push_back(UnitRecord{c.text(0), c.text(1), c.text(2)});
    });
    runSql("SELECT id, name FROM roles ORDER BY id", {}, [&](const Row& c) {
      out.roles.push_back(RoleRecord{c.text(0), c.text(1)});
    });
    runSql(std::string(kUserColumns) + " ORDER BY id", {},
           [&](const Row& c) { out.users.push_back(readUser(c)); });
    runSql(
        "SELECT user_id, substitute, from_day, to_day, reason FROM substitutions ORDER BY "
        "user_id, from_day",
        {}, [&](const Row& c) { out.substitutions.push_back(readSubstitution(c)); });
    return out;
  });
}

Result<std::optional<UserRecord>> SqlTransaction::user(const std::string& id) {
  return selectOne<UserRecord>("read user", std::string(kUserColumns) + " WHERE id = ?", {id},
                               readUser);
}

Result<std::vector<SubstitutionRecord>> SqlTransaction::standingInFor(const std::string& substitute,
                                                                      std::int64_t day) {
  return selectAll<SubstitutionRecord>(
      "read substitutions",
      "SELECT user_id, substitute, from_day, to_day, reason FROM substitutions WHERE "
      "substitute = ? AND from_day <= ? AND to_day >= ? ORDER BY user_id",
      {substitute, day, day}, readSubstitution);
}

UserRecord SqlTransaction::readUser(const Row& c) {
  return UserRecord{c.text(0),         c.text(1), c.text(2), splitWords(c.text(3)),
                    c.integer(4) != 0, c.text(5)};
}

SubstitutionRecord SqlTransaction::readSubstitution(const Row& c) {
  return SubstitutionRecord{c.text(0), c.text(1), c.integer(2), c.integer(3), c.text(4)};
}

}  // namespace tramite::storage::sql
