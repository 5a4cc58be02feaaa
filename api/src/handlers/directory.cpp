// The API's handlers: directory.
#include "api_impl.h"

namespace tramite::api {

Result<HttpResponse> Api::Impl::users(Context&) {
  auto dir = engine_->directory();
  if (!dir) return dir.status();
  json::Array users;
  for (const storage::UserRecord& u : dir->users) users.push_back(runtime::userJson(u));
  return jsonResponse(200, json::objectOf("users", std::move(users)));
}

Result<HttpResponse> Api::Impl::roles(Context&) {
  auto dir = engine_->directory();
  if (!dir) return dir.status();
  json::Array roles;
  for (const storage::RoleRecord& r : dir->roles) {
    roles.emplace_back(json::Object{{"id", r.id}, {"name", r.name}});
  }
  json::Array units;
  for (const storage::UnitRecord& u : dir->units) {
    units.emplace_back(json::Object{{"id", u.id}, {"name", u.name}, {"area", u.area}});
  }
  return jsonResponse(200, json::objectOf("roles", std::move(roles), "units", std::move(units)));
}

Result<HttpResponse> Api::Impl::putDirectory(Context& c) {
  auto body = jsonBody(c);
  if (!body) return body.status();
  auto dir = runtime::parseDirectory(c.req.body);
  if (!dir) return dir.status();
  if (Status st = engine_->importDirectory(*dir, c.actor()); !st) return st;
  auth_.forgetPrincipals();
  return jsonResponse(
      200, json::Value(json::Object{
               {"units", static_cast<std::int64_t>(dir->units.size())},
               {"roles", static_cast<std::int64_t>(dir->roles.size())},
               {"users", static_cast<std::int64_t>(dir->users.size())},
               {"substitutions", static_cast<std::int64_t>(dir->substitutions.size())}}));
}

Result<HttpResponse> Api::Impl::getDirectory(Context&) {
  auto dir = engine_->directory();
  if (!dir) return dir.status();
  return jsonResponse(200, runtime::directoryToJson(*dir));
}

// Adds or changes one user (deactivate with "active": false).
Result<HttpResponse> Api::Impl::putUser(Context& c) {
  auto body = jsonBody(c);
  if (!body) return body.status();
  Fields f(*body, {"name", "unit", "roles", "active", "email"});
  storage::UserRecord u;
  u.id = c.path.at("id");
  u.name = f.text("name", true);
  u.unit = f.text("unit", true);
  u.roles = f.texts("roles");
  u.email = f.text("email");
  const json::Value* active = body->find("active");
  if (active && !active->isBool()) {
    return Status(ErrorCode::kInvalidArgument, "field 'active' must be true or false");
  }
  u.active = !active || active->asBool();
  if (!f.status()) return f.status();
  if (Status st = engine_->putUser(u, c.actor()); !st) return st;
  auth_.forgetPrincipals();
  return jsonResponse(200, runtime::userJson(u));
}

// An invitation for a user to set their first password (the secret is shown once).
Result<HttpResponse> Api::Impl::invite(Context& c) {
  auto body = jsonBody(c, /*required=*/false);
  if (!body) return body.status();
  Fields f(*body, {"expires_in_days"});
  const std::int64_t days = f.integer("expires_in_days");
  if (!f.status()) return f.status();
  if (days < 0 || days > 30) {
    return Status(ErrorCode::kInvalidArgument, "expires_in_days is 1 to 30 (0: 7)");
  }
  const std::string& user = c.path.at("id");
  auto made = auth_.invite(user, (days == 0 ? 7 : days) * 86'400'000);
  if (!made) return made.status();
  if (Status st = adminHistory("users", c.actor(), "invitation.create",
                               json::Value(json::Object{{"user", user}}));
      !st) {
    return st;
  }
  return jsonResponse(201, *made);
}

Result<HttpResponse> Api::Impl::acceptInvitation(Context& c) {
  auto body = jsonBody(c);
  if (!body) return body.status();
  Fields f(*body, {"invitation", "password"});
  const std::string secret = f.text("invitation", true);
  const std::string password = f.text("password", true);
  if (!f.status()) return f.status();
  auto user = auth_.acceptInvitation(secret, password);
  if (!user) return user.status();
  if (Status st = adminHistory("users", *user, "password.set",
                               json::Value(json::Object{{"user", *user}, {"by", "invitation"}}));
      !st) {
    return st;
  }
  return jsonResponse(200, json::Value(json::Object{{"user", *user}, {"password_set", true}}));
}

// The routes of this resource (see Route in api_impl.h).
std::vector<Api::Impl::Route> Api::Impl::directoryRoutes() {
  using I = Impl;
  return {
      Route("listUsers", "GET", "/api/v1/users", Access::kMonitor, &I::users)
          .summary("The directory's users")
          .returns(200, "UserList", "users"),
      Route("setPassword", "PUT", "/api/v1/users/{id}/password", Access::kUser, &I::setPassword)
          .summary("Set a password (one's own, or any as admin)")
          .takes("NewPassword")
          .returns(200, "PasswordSet", "set")
          .fails({403}),
      Route("listRoles", "GET", "/api/v1/roles", Access::kUser, &I::roles)
          .summary("Roles and organisational units")
          .returns(200, "RolesAndUnits", "roles and units"),
      Route("putDirectory", "PUT", "/api/v1/directory", Access::kAdmin, &I::putDirectory)
          .summary("Replace the directory")
          .takes(R"({"type": "object", "description": "as config/directory.json"})")
          .returns(200, "DirectoryCounts", "counts of what was stored"),
      Route("getDirectory", "GET", "/api/v1/directory", Access::kAdmin, &I::getDirectory)
          .summary("The whole directory, in the form PUT /api/v1/directory takes")
          .returns(200, "Directory", "units, roles, users and substitutions"),
      Route("putUser", "PUT", "/api/v1/users/{id}", Access::kAdmin, &I::putUser)
          .summary("Add or change one user (deactivate with active false)")
          .takes("UserChange")
          .returns(200, "User", "the user as stored"),
      Route("inviteUser", "POST", "/api/v1/users/{id}/invitation", Access::kAdmin, &I::invite)
          .summary("Invite a user to set their first password (the secret is shown once)")
          .mayTake("InvitationRequest")
          .returns(201, "Invitation", "user, invitation (the secret) and expires_at"),
      Route("acceptInvitation", "POST", "/api/v1/invitations/accept", Access::kPublic,
            &I::acceptInvitation)
          .summary("Set one's first password with an invitation")
          .takes("InvitationAcceptance")
          .returns(200, "PasswordSet", "the user whose password is set")
          .fails({401}),
  };
}

}  // namespace tramite::api
