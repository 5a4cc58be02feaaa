// Authentication for the API: passwords (Argon2id hashes), short-lived session tokens
// (HS256 JWTs via Poco::JWT), long-lived API tokens (random secrets kept as SHA-256), and
// backoff after failed logins. Internal to the api module.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tramite/api/api.h"
#include "tramite/clock.h"
#include "tramite/json.h"
#include "tramite/status.h"
#include "tramite/storage/store.h"

namespace tramite::api {

// Who is calling, as the directory said at most ApiOptions::principal_cache_ms ago.
struct Principal {
  std::string user;
  std::string name;
  std::string unit;
  std::vector<std::string> roles;

  bool has(const std::string& role) const;
  bool admin() const { return has("admin"); }
  // Auditors and the compliance office read everything.
  bool monitor() const { return admin() || has("auditor") || has("oficial_cumplimiento"); }
  // A user whose only role is auditor reads everything and changes nothing.
  bool readOnly() const;
};

class Auth {
 public:
  // Thread-safe; store and clock must outlive it.
  Auth(std::shared_ptr<storage::Store> store, const Clock& clock, const ApiOptions& options);

  // Checks a password and issues a session token: {"token", "token_type", "expires_at",
  // "user"}. Every attempt is counted by the name tried, known or not, before the password
  // is checked (atomically, across servers); after lockout_after consecutive ones the name
  // waits. Errors: kUnauthenticated (unknown user, wrong password, inactive user: one
  // message for all), kRateLimited (backoff after failures; *retry_after_ms says how long).
  Result<json::Value> login(const std::string& user, const std::string& password,
                            std::int64_t* retry_after_ms);
  // The principal of an "Authorization: Bearer ..." header. Errors: kUnauthenticated.
  // A token seen in the last principal_cache_ms is answered from memory (its expiry still
  // checked); revokeApiToken and forgetPrincipals take effect at once in this process, and a
  // change made elsewhere (another server, the CLI) within principal_cache_ms.
  Result<Principal> authenticate(const std::string& authorization);
  // Forgets every remembered principal: the directory changed.
  void forgetPrincipals();

  // Sets user's password and ends their earlier sessions (their session tokens stop being
  // accepted). With current, it must be user's present password (checked and throttled like
  // a login). Errors: kInvalidArgument (too short), kPermissionDenied (current is wrong),
  // kRateLimited, kNotFound.
  Status setPassword(const std::string& user, const std::string& password,
                     const std::string* current = nullptr);
  // An invitation for user to set their first password: {"user", "invitation" (the secret,
  // shown once), "expires_at"}. Errors: kNotFound (no such user).
  Result<json::Value> invite(const std::string& user, std::int64_t lifetime_ms);
  // Sets the password of an invitation's user and uses the invitation up. Errors:
  // kInvalidArgument (password too short), kUnauthenticated (unknown, used or expired).
  Result<std::string> acceptInvitation(const std::string& secret, const std::string& password);
  Result<json::Value> createApiToken(const std::string& user, const std::string& name,
                                     std::int64_t lifetime_ms);
  Result<std::vector<storage::ApiTokenRecord>> apiTokens(const std::string& user);
  // Errors: kNotFound when no token with that id is in force.
  Status revokeApiToken(const std::string& id);

 private:
  // The active user's principal. Errors: kUnauthenticated (unknown or inactive user).
  static Result<Principal> principalOf(storage::Transaction& tx, const std::string& user);
  Result<Principal> principalOf(const std::string& user);
  // Reads the principal of a bearer secret: an API token from the store, or a session token
  // verified by its signature; secret_hash is its SHA-256 (hex). *valid_until is when the
  // token expires (0: never).
  Result<Principal> readPrincipal(const std::string& secret, const std::string& secret_hash,
                                  TimePoint now, TimePoint* valid_until);

  struct Remembered {
    Principal principal;
    TimePoint valid_until;  // the token's expiry, 0 for none
    TimePoint read_at;
  };

  std::shared_ptr<storage::Store> store_;
  const Clock& clock_;
  ApiOptions options_;
  std::string dummy_hash_;  // verified against for unknown users, so timing does not tell
  std::mutex remembered_mu_;
  std::unordered_map<std::string, Remembered> remembered_;  // by the secret's SHA-256
};

// Runs body(tx) in a store transaction, committing when it succeeds (mode kRead: no commit
// needed, the transaction is rolled back).
template <typename T, typename Body>
Result<T> inTransaction(storage::Store& store, storage::TxMode mode, Body&& body) {
  auto tx = store.begin(mode);
  if (!tx) return tx.status();
  Result<T> out = body(**tx);
  if (out && mode == storage::TxMode::kWrite) {
    if (Status st = (*tx)->commit(); !st) return st;
  }
  return out;
}

}  // namespace tramite::api
