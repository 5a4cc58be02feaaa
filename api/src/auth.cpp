#include "auth.h"

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <argon2.h>
#include <sys/random.h>

#include <algorithm>
#include <sstream>

#include "tramite/audit/merkle.h"

namespace tramite::api {

namespace {

constexpr std::uint32_t kSaltBytes = 16;
constexpr std::uint32_t kHashBytes = 32;
constexpr const char* kApiTokenPrefix = "trm_";
constexpr const char* kInvitationPrefix = "inv_";
constexpr const char* kBadLogin = "invalid username or password";
// Remembered principals at most; past it the memory starts afresh.
constexpr std::size_t kMaxRemembered = 4096;
// Longer login names are no user's: refused without being counted.
constexpr std::size_t kMaxLoginName = 200;
// The session token's claim naming the credential's session epoch it was issued in.
constexpr const char* kEpochClaim = "tramite_epoch";

std::string randomBytes(std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out.data() + got, n - got, 0);
    if (r < 0) throw std::runtime_error("getrandom failed");  // a broken kernel: a bug
    got += static_cast<std::size_t>(r);
  }
  return out;
}

std::string base64url(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder enc(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  enc.rdbuf()->setLineLength(0);
  enc << bytes;
  enc.close();
  return out.str();
}

Result<std::string> hashPassword(const std::string& password, const ApiOptions& o) {
  const std::string salt = randomBytes(kSaltBytes);
  std::string encoded(
      argon2_encodedlen(o.argon2_passes, o.argon2_memory_kib, 1, kSaltBytes, kHashBytes, Argon2_id),
      '\0');
  int rc = argon2id_hash_encoded(o.argon2_passes, o.argon2_memory_kib, 1, password.data(),
                                 password.size(), salt.data(), salt.size(), kHashBytes,
                                 encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return Status(ErrorCode::kInternal, std::string("argon2id: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verifyPassword(const std::string& encoded, const std::string& password) {
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace

bool Principal::has(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool Principal::readOnly() const {
  return std::all_of(roles.begin(), roles.end(),
                     [](const std::string& r) { return r == "auditor"; });
}

Auth::Auth(std::shared_ptr<storage::Store> store, const Clock& clock, const ApiOptions& options)
    : store_(std::move(store)), clock_(clock), options_(options) {
  auto dummy = hashPassword(randomBytes(12), options_);
  if (dummy) dummy_hash_ = *dummy;
}

Result<Principal> Auth::principalOf(storage::Transaction& tx, const std::string& user) {
  auto found = tx.user(user);
  if (!found) return found.status();
  if (!found->has_value() || !(*found)->active) {
    return Status(ErrorCode::kUnauthenticated, "the account '" + user + "' is not active");
  }
  const storage::UserRecord& u = **found;
  return Principal{u.id, u.name, u.unit, u.roles};
}

Result<Principal> Auth::principalOf(const std::string& user) {
  return inTransaction<Principal>(*store_, storage::TxMode::kRead,
                                  [&](storage::Transaction& tx) { return principalOf(tx, user); });
}

Result<json::Value> Auth::login(const std::string& user, const std::string& password,
                                std::int64_t* retry_after_ms) {
  const TimePoint now = clock_.nowMs();
  if (user.empty() || user.size() > kMaxLoginName) {
    verifyPassword(dummy_hash_, password);
    return Status(ErrorCode::kUnauthenticated, kBadLogin);
  }
  // The attempt is counted before the password is checked, in one atomic write: concurrent
  // guesses cannot all be checked, and a name nobody has is throttled like one somebody has.
  auto attempt = inTransaction<storage::LoginAttemptRecord>(
      *store_, storage::TxMode::kWrite,
      [&](storage::Transaction& tx) -> Result<storage::LoginAttemptRecord> {
        auto a = tx.countLoginAttempt(user, now);
        if (!a) return a;
        if (a->counted && a->failures >= options_.lockout_after) {
          const std::int64_t steps =
              std::min<std::int64_t>(a->failures - options_.lockout_after, 30);
          const TimePoint until =
              now + std::min(options_.lockout_base_ms << steps, options_.lockout_max_ms);
          if (Status st = tx.lockLogin(user, until); !st) return st;
        }
        return a;
      });
  if (!attempt) return attempt.status();
  if (!attempt->counted) {
    if (retry_after_ms) *retry_after_ms = attempt->locked_until - now;
    return Status(ErrorCode::kRateLimited,
                  "too many failed logins for '" + user + "'; try again in " +
                      std::to_string((attempt->locked_until - now + 999) / 1000) + " s");
  }
  auto cred = inTransaction<std::optional<storage::CredentialRecord>>(
      *store_, storage::TxMode::kRead,
      [&](storage::Transaction& tx) { return tx.credential(user); });
  if (!cred) return cred.status();
  if (!cred->has_value()) {
    verifyPassword(dummy_hash_, password);  // the same work as for a known user
    return Status(ErrorCode::kUnauthenticated, kBadLogin);
  }
  if (!verifyPassword((*cred)->password_hash, password)) {
    return Status(ErrorCode::kUnauthenticated, kBadLogin);
  }
  auto principal = principalOf(user);
  if (!principal) {
    if (principal.status().code() == ErrorCode::kUnauthenticated) {
      return Status(ErrorCode::kUnauthenticated, kBadLogin);
    }
    return principal.status();
  }
  auto cleared = inTransaction<bool>(*store_, storage::TxMode::kWrite,
                                     [&](storage::Transaction& tx) -> Result<bool> {
                                       if (Status st = tx.clearLoginAttempts(user); !st) return st;
                                       return true;
                                     });
  if (!cleared) return cleared.status();

  Poco::JWT::Token token;
  token.setType("JWT");
  token.setSubject(user);
  token.setId(base64url(randomBytes(12)));
  token.setIssuedAt(Poco::Timestamp(static_cast<Poco::Timestamp::TimeVal>(now) * 1000));
  const TimePoint expires = now + options_.session_lifetime_ms;
  token.setExpiration(Poco::Timestamp(static_cast<Poco::Timestamp::TimeVal>(expires) * 1000));
  token.payload().set(kEpochClaim, static_cast<Poco::Int64>((*cred)->session_epoch));
  Poco::JWT::Signer signer(options_.token_secret);
  const std::string jwt = signer.sign(token, Poco::JWT::Signer::ALGO_HS256);
  return json::Value(json::Object{
      {"token", jwt},
      {"token_type", "Bearer"},
      {"expires_at", expires},
      {"user", user},
      {"roles", json::Value(json::Array(principal->roles.begin(), principal->roles.end()))}});
}

Result<Principal> Auth::authenticate(const std::string& authorization) {
  const std::string kBearer = "Bearer ";
  if (authorization.compare(0, kBearer.size(), kBearer) != 0) {
    return Status(ErrorCode::kUnauthenticated,
                  "this call needs a token: Authorization: Bearer <token> (POST /api/v1/login)");
  }
  const std::string secret = authorization.substr(kBearer.size());
  const TimePoint now = clock_.nowMs();
  const std::string key = audit::sha256Hex(secret);
  if (options_.principal_cache_ms > 0) {
    std::lock_guard<std::mutex> lock(remembered_mu_);
    auto it = remembered_.find(key);
    if (it != remembered_.end()) {
      const Remembered& r = it->second;
      const bool fresh = now >= r.read_at && now - r.read_at < options_.principal_cache_ms;
      if (fresh && (r.valid_until == 0 || now < r.valid_until)) {
        return r.principal;
      }
      remembered_.erase(it);
    }
  }
  TimePoint valid_until = 0;
  auto principal = readPrincipal(secret, key, now, &valid_until);
  if (principal && options_.principal_cache_ms > 0) {
    std::lock_guard<std::mutex> lock(remembered_mu_);
    if (remembered_.size() >= kMaxRemembered) remembered_.clear();
    remembered_[key] = Remembered{*principal, valid_until, now};
  }
  return principal;
}

Result<Principal> Auth::readPrincipal(const std::string& secret, const std::string& secret_hash,
                                      TimePoint now, TimePoint* valid_until) {
  if (secret.rfind(kApiTokenPrefix, 0) == 0) {
    // The token and its user in one read.
    return inTransaction<Principal>(
        *store_, storage::TxMode::kRead, [&](storage::Transaction& tx) -> Result<Principal> {
          auto found = tx.apiTokenByHash(secret_hash);
          if (!found) return found.status();
          if (!found->has_value() || (*found)->revoked_at != 0 ||
              ((*found)->expires_at != 0 && (*found)->expires_at <= now)) {
            return Status(ErrorCode::kUnauthenticated,
                          "the API token is unknown, revoked or expired");
          }
          *valid_until = (*found)->expires_at;
          return principalOf(tx, (*found)->user);
        });
  }
  Poco::JWT::Signer signer(options_.token_secret);
  Poco::JWT::Token token;
  bool valid = false;
  try {
    valid = signer.tryVerify(secret, token);  // throws on text that is not a JWT at all
  } catch (const Poco::Exception&) {
  }
  if (!valid) return Status(ErrorCode::kUnauthenticated, "the session token is not valid");
  const TimePoint expires = token.getExpiration().epochMicroseconds() / 1000;
  if (expires <= now) {
    return Status(ErrorCode::kUnauthenticated, "the session token has expired; log in again");
  }
  *valid_until = expires;
  const Poco::Int64 epoch = token.payload().optValue<Poco::Int64>(kEpochClaim, -1);
  return inTransaction<Principal>(
      *store_, storage::TxMode::kRead, [&](storage::Transaction& tx) -> Result<Principal> {
        auto cred = tx.credential(token.getSubject());
        if (!cred) return cred.status();
        if (!cred->has_value() || (*cred)->session_epoch != epoch) {
          return Status(ErrorCode::kUnauthenticated,
                        "the session has ended (the password was changed); log in again");
        }
        return principalOf(tx, token.getSubject());
      });
}

void Auth::forgetPrincipals() {
  std::lock_guard<std::mutex> lock(remembered_mu_);
  remembered_.clear();
}

Status Auth::setPassword(const std::string& user, const std::string& password,
                         const std::string* current) {
  if (password.size() < 8) {
    return Status(ErrorCode::kInvalidArgument, "a password has at least 8 characters");
  }
  if (current) {
    // The current password is checked like a login: counted, throttled, same answer.
    std::int64_t retry_ms = 0;
    auto checked = login(user, *current, &retry_ms);
    if (!checked) {
      if (checked.status().code() == ErrorCode::kUnauthenticated) {
        return Status(ErrorCode::kPermissionDenied, "the current password is not right");
      }
      return checked.status();
    }
  }
  auto hash = hashPassword(password, options_);
  if (!hash) return hash.status();
  auto done = inTransaction<bool>(
      *store_, storage::TxMode::kWrite, [&](storage::Transaction& tx) -> Result<bool> {
        auto u = tx.user(user);
        if (!u) return u.status();
        if (!u->has_value()) return Status(ErrorCode::kNotFound, "no user '" + user + "'");
        auto before = tx.credential(user);
        if (!before) return before.status();
        // A new epoch: every session token issued before the change stops working.
        const std::int64_t epoch = before->has_value() ? (*before)->session_epoch + 1 : 0;
        if (Status st = tx.putCredential({user, *hash, 0, 0, clock_.nowMs(), epoch}); !st) {
          return st;
        }
        return true;
      });
  if (!done) return done.status();
  forgetPrincipals();
  return Status::ok();
}

Result<json::Value> Auth::invite(const std::string& user, std::int64_t lifetime_ms) {
  const TimePoint now = clock_.nowMs();
  const std::string secret = kInvitationPrefix + base64url(randomBytes(32));
  const TimePoint expires = now + lifetime_ms;
  auto done = inTransaction<bool>(
      *store_, storage::TxMode::kWrite, [&](storage::Transaction& tx) -> Result<bool> {
        auto u = tx.user(user);
        if (!u) return u.status();
        if (!u->has_value()) return Status(ErrorCode::kNotFound, "no user '" + user + "'");
        if (Status st = tx.addInvitation(audit::sha256Hex(secret), user, expires, now); !st) {
          return st;
        }
        return true;
      });
  if (!done) return done.status();
  return json::Value(json::Object{{"user", user}, {"invitation", secret}, {"expires_at", expires}});
}

Result<std::string> Auth::acceptInvitation(const std::string& secret, const std::string& password) {
  if (password.size() < 8) {
    return Status(ErrorCode::kInvalidArgument, "a password has at least 8 characters");
  }
  auto user = inTransaction<std::optional<std::string>>(
      *store_, storage::TxMode::kWrite, [&](storage::Transaction& tx) {
        return tx.takeInvitation(audit::sha256Hex(secret), clock_.nowMs());
      });
  if (!user) return user.status();
  if (!user->has_value()) {
    return Status(ErrorCode::kUnauthenticated, "the invitation is unknown, used or expired");
  }
  if (Status st = setPassword(**user, password); !st) return st;
  return **user;
}

Result<json::Value> Auth::createApiToken(const std::string& user, const std::string& name,
                                         std::int64_t lifetime_ms) {
  const TimePoint now = clock_.nowMs();
  storage::ApiTokenRecord r;
  r.id = "tok-" + base64url(randomBytes(9));
  r.user = user;
  r.name = name;
  const std::string secret = kApiTokenPrefix + base64url(randomBytes(32));
  r.token_hash = audit::sha256Hex(secret);
  r.created_at = now;
  r.expires_at = lifetime_ms > 0 ? now + lifetime_ms : 0;
  auto done = inTransaction<bool>(*store_, storage::TxMode::kWrite,
                                  [&](storage::Transaction& tx) -> Result<bool> {
                                    auto u = tx.user(user);
                                    if (!u) return u.status();
                                    if (!u->has_value())
                                      return Status(ErrorCode::kNotFound, "no user '" + user + "'");
                                    if (Status st = tx.addApiToken(r); !st) return st;
                                    return true;
                                  });
  if (!done) return done.status();
  return json::Value(json::Object{{"id", r.id},
                                  {"user", user},
                                  {"name", name},
                                  {"token", secret},
                                  {"created_at", r.created_at},
                                  {"expires_at", r.expires_at}});
}

Result<std::vector<storage::ApiTokenRecord>> Auth::apiTokens(const std::string& user) {
  return inTransaction<std::vector<storage::ApiTokenRecord>>(
      *store_, storage::TxMode::kRead,
      [&](storage::Transaction& tx) { return tx.apiTokens(user); });
}

Status Auth::revokeApiToken(const std::string& id) {
  auto done = inTransaction<bool>(
      *store_, storage::TxMode::kWrite, [&](storage::Transaction& tx) -> Result<bool> {
        auto revoked = tx.revokeApiToken(id, clock_.nowMs());
        if (!revoked) return revoked.status();
        if (!*revoked) {
          return Status(ErrorCode::kNotFound, "no API token '" + id + "' in force");
        }
        return true;
      });
  if (!done) return done.status();
  forgetPrincipals();
  return Status::ok();
}

}  // namespace tramite::api
