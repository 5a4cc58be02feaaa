// Authentication: credentials, login attempts, invitations, API tokens.
#include "sql_transaction.h"

namespace tramite::storage::sql {

using Poco::Int64;

Result<std::optional<CredentialRecord>> SqlTransaction::credential(const std::string& user) {
  return selectOne<CredentialRecord>(
      "read credential",
      "SELECT user_id, password_hash, failures, locked_until, updated_at, session_epoch FROM "
      "credentials WHERE user_id = ?",
      {user}, [](const Row& c) {
        return CredentialRecord{c.text(0),    c.text(1),    c.integer(2),
                                c.integer(3), c.integer(4), c.integer(5)};
      });
}

Status SqlTransaction::addInvitation(const std::string& secret_hash, const std::string& user,
                                     TimePoint expires_at, TimePoint now) {
  return guarded("add invitation", [&]() -> Status {
    runSql(
        "INSERT INTO invitations (secret_hash, user_id, expires_at, used_at, created_at) "
        "VALUES (?, ?, ?, 0, ?)",
        {secret_hash, user, Int64{expires_at}, Int64{now}}, {});
    return Status::ok();
  });
}

Result<std::optional<std::string>> SqlTransaction::takeInvitation(const std::string& secret_hash,
                                                                  TimePoint now) {
  return selectOne<std::string>(
      "take invitation",
      "UPDATE invitations SET used_at = ? WHERE secret_hash = ? AND used_at = 0 AND "
      "expires_at > ? RETURNING user_id",
      {Int64{now}, secret_hash, Int64{now}}, [](const Row& c) { return c.text(0); });
}

Result<LoginAttemptRecord> SqlTransaction::countLoginAttempt(const std::string& name,
                                                             TimePoint now) {
  return guarded("count login attempt", [&]() -> Result<LoginAttemptRecord> {
    runSql(
        "INSERT INTO login_attempts (name, failures, locked_until, updated_at) VALUES (?, 0, "
        "0, ?) ON CONFLICT (name) DO NOTHING",
        {name, now}, {});
    LoginAttemptRecord out{name, 0, 0, false};
    // One statement: a concurrent attempt waits for this row, then sees the lock.
    runSql(
        "UPDATE login_attempts SET failures = failures + 1, updated_at = ? WHERE name = ? AND "
        "locked_until <= ? RETURNING failures, locked_until",
        {now, name, now}, [&](const Row& c) {
          out.failures = c.integer(0);
          out.locked_until = c.integer(1);
          out.counted = true;
        });
    if (out.counted) return out;
    runSql("SELECT failures, locked_until FROM login_attempts WHERE name = ?", {name},
           [&](const Row& c) {
             out.failures = c.integer(0);
             out.locked_until = c.integer(1);
           });
    return out;
  });
}

Status SqlTransaction::lockLogin(const std::string& name, TimePoint until) {
  return guarded("lock login", [&]() -> Status {
    runSql("UPDATE login_attempts SET locked_until = ? WHERE name = ?", {until, name}, {});
    return Status::ok();
  });
}

Status SqlTransaction::clearLoginAttempts(const std::string& name) {
  return guarded("clear login attempts", [&]() -> Status {
    runSql("DELETE FROM login_attempts WHERE name = ?", {name}, {});
    return Status::ok();
  });
}

Status SqlTransaction::putCredential(const CredentialRecord& r) {
  return guarded("write credential", [&]() -> Status {
    runSql(
        "INSERT INTO credentials (user_id, password_hash, failures, locked_until, updated_at, "
        "session_epoch) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
        "password_hash = excluded.password_hash, failures = excluded.failures, locked_until = "
        "excluded.locked_until, updated_at = excluded.updated_at, session_epoch = "
        "excluded.session_epoch",
        {r.user, r.password_hash, r.failures, r.locked_until, r.updated_at, r.session_epoch}, {});
    return Status::ok();
  });
}

Status SqlTransaction::addApiToken(const ApiTokenRecord& r) {
  return guarded("add API token", [&]() -> Status {
    runSql(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, "
        "revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {r.id, r.user, r.name, r.token_hash, r.created_at, r.expires_at, r.revoked_at}, {});
    return Status::ok();
  });
}

Result<std::optional<ApiTokenRecord>> SqlTransaction::apiTokenByHash(
    const std::string& token_hash) {
  return selectOne<ApiTokenRecord>("read API token",
                                   std::string(kTokenSelect) + " WHERE token_hash = ?",
                                   {token_hash}, readToken);
}

Result<std::vector<ApiTokenRecord>> SqlTransaction::apiTokens(const std::string& user) {
  return selectAll<ApiTokenRecord>(
      "read API tokens",
      std::string(kTokenSelect) + " WHERE user_id = ? OR ? = '' ORDER BY created_at, id",
      {user, user}, readToken);
}

Result<bool> SqlTransaction::revokeApiToken(const std::string& id, TimePoint at) {
  return guarded("revoke API token", [&]() -> Result<bool> {
    return runSql("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0",
                  {Int64{at}, id}, {}) == 1;
  });
}

ApiTokenRecord SqlTransaction::readToken(const Row& c) {
  return ApiTokenRecord{c.text(0),    c.text(1),    c.text(2),   c.text(3),
                        c.integer(4), c.integer(5), c.integer(6)};
}

}  // namespace tramite::storage::sql
