#include "tramite/runtime/directory.h"

#include <algorithm>
#include <set>

#include "tramite/calendar/calendar.h"
#include "tramite/file.h"
#include "tramite/json.h"
#include "tramite/text.h"

namespace tramite::runtime {

bool isWorkflowName(const std::string& s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

namespace {

// name@domain with a dot in the domain, printable ASCII without spaces: what a mail header
// can carry as it is (no line break can reach one).
bool plausibleEmail(const std::string& address) {
  const auto at = address.find('@');
  if (at == 0 || at == std::string::npos || address.find('@', at + 1) != std::string::npos ||
      address.size() > 254 || address.find('.', at) == std::string::npos || address.back() == '.') {
    return false;
  }
  return std::all_of(address.begin(), address.end(), [](char c) {
    return c > ' ' && c < 127 && c != '<' && c != '>' && c != ',' && c != ';' && c != '"';
  });
}

class Reader {
 public:
  std::vector<std::string> problems;

  const json::Array* list(const json::Value& root, const char* key) {
    const json::Value* v = root.find(key);
    if (!v) return nullptr;
    if (!v->isArray()) {
      problems.push_back(std::string("\"") + key + "\" must be an array");
      return nullptr;
    }
    return &v->asArray();
  }
  // A string member; "" (and a problem when required) when absent or not a string.
  std::string text(const json::Value& entry, const std::string& where, const char* key,
                   bool required = true) {
    const json::Value* v = entry.find(key);
    if (v && v->isString()) return v->asString();
    if (v || required) problems.push_back(where + ": \"" + key + "\" must be a string");
    return {};
  }
  std::string id(const json::Value& entry, const std::string& where, std::set<std::string>& seen) {
    std::string id = text(entry, where, "id");
    if (id.empty()) return id;
    if (!isWorkflowName(id)) {
      problems.push_back(where + ": id '" + id + "' must match [a-z][a-z0-9_-]{0,63}");
    } else if (!seen.insert(id).second) {
      problems.push_back(where + ": id '" + id + "' is repeated");
    }
    return id;
  }
};

}  // namespace

Result<storage::DirectoryRecords> parseDirectory(const std::string& json_text) {
  auto root = json::parse(json_text);
  if (!root) return Status(ErrorCode::kInvalidArgument, "directory: " + root.status().message());
  if (!root->isObject()) {
    return Status(ErrorCode::kInvalidArgument, "directory: the document must be a JSON object");
  }
  Reader r;
  storage::DirectoryRecords out;
  std::set<std::string> units;
  std::set<std::string> roles;
  std::set<std::string> users;
  if (const json::Array* list = r.list(*root, "units")) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string where = "units[" + std::to_string(i) + "]";
      const json::Value& e = (*list)[i];
      out.units.push_back(
          {r.id(e, where, units), r.text(e, where, "name"), r.text(e, where, "area", false)});
    }
  }
  if (const json::Array* list = r.list(*root, "roles")) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string where = "roles[" + std::to_string(i) + "]";
      out.roles.push_back({r.id((*list)[i], where, roles), r.text((*list)[i], where, "name")});
    }
  }
  if (const json::Array* list = r.list(*root, "users")) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string where = "users[" + std::to_string(i) + "]";
      const json::Value& e = (*list)[i];
      storage::UserRecord u;
      u.id = r.id(e, where, users);
      u.name = r.text(e, where, "name");
      u.unit = r.text(e, where, "unit");
      if (!u.unit.empty() && !units.count(u.unit)) {
        r.problems.push_back(where + ": unknown unit '" + u.unit + "'");
      }
      const json::Value* rs = e.find("roles");
      if (rs && rs->isArray()) {
        for (const json::Value& role : rs->asArray()) {
          if (!role.isString() || !roles.count(role.asString())) {
            r.problems.push_back(where + ": unknown role " + json::dump(role));
          } else {
            u.roles.push_back(role.asString());
          }
        }
      } else if (rs) {
        r.problems.push_back(where + ": \"roles\" must be an array of role ids");
      }
      std::sort(u.roles.begin(), u.roles.end());
      u.roles.erase(std::unique(u.roles.begin(), u.roles.end()), u.roles.end());
      u.email = r.text(e, where, "email", false);
      if (!u.email.empty() && !plausibleEmail(u.email)) {
        r.problems.push_back(where + ": \"email\" is not an address (name@domain): '" + u.email +
                             "'");
      }
      if (const json::Value* a = e.find("active")) {
        if (a->isBool()) {
          u.active = a->asBool();
        } else {
          r.problems.push_back(where + ": \"active\" must be true or false");
        }
      }
      out.users.push_back(std::move(u));
    }
  }
  if (const json::Array* list = r.list(*root, "substitutions")) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string where = "substitutions[" + std::to_string(i) + "]";
      const json::Value& e = (*list)[i];
      storage::SubstitutionRecord s;
      s.user = r.text(e, where, "user");
      s.substitute = r.text(e, where, "substitute");
      s.reason = r.text(e, where, "reason", false);
      for (const std::string* who : {&s.user, &s.substitute}) {
        if (!who->empty() && !users.count(*who)) {
          r.problems.push_back(where + ": unknown user '" + *who + "'");
        }
      }
      if (!s.user.empty() && s.user == s.substitute) {
        r.problems.push_back(where + ": a user cannot substitute for themselves");
      }
      auto from = calendar::Date::parse(r.text(e, where, "from"));
      auto to = calendar::Date::parse(r.text(e, where, "to"));
      if (!from || !to) {
        r.problems.push_back(where + ": \"from\" and \"to\" must be dates (YYYY-MM-DD)");
      } else if (*to < *from) {
        r.problems.push_back(where + ": \"to\" is before \"from\"");
      } else {
        s.from_day = from->serial();
        s.to_day = to->serial();
      }
      out.substitutions.push_back(std::move(s));
    }
  }
  if (!r.problems.empty()) {
    return Status(ErrorCode::kInvalidArgument, "directory: " + join(r.problems, "\n"));
  }
  return out;
}

json::Value userJson(const storage::UserRecord& u) {
  return json::Value(
      json::Object{{"id", u.id},
                   {"name", u.name},
                   {"unit", u.unit},
                   {"roles", json::Value(json::Array(u.roles.begin(), u.roles.end()))},
                   {"active", u.active},
                   {"email", u.email}});
}

json::Value directoryToJson(const storage::DirectoryRecords& d) {
  json::Array units;
  for (const storage::UnitRecord& u : d.units) {
    units.emplace_back(json::Object{{"id", u.id}, {"name", u.name}, {"area", u.area}});
  }
  json::Array roles;
  for (const storage::RoleRecord& r : d.roles) {
    roles.emplace_back(json::Object{{"id", r.id}, {"name", r.name}});
  }
  json::Array users;
  for (const storage::UserRecord& u : d.users) users.push_back(userJson(u));
  json::Array substitutions;
  for (const storage::SubstitutionRecord& s : d.substitutions) {
    substitutions.emplace_back(
        json::Object{{"user", s.user},
                     {"substitute", s.substitute},
                     {"from", calendar::Date::fromSerial(s.from_day).toString()},
                     {"to", calendar::Date::fromSerial(s.to_day).toString()},
                     {"reason", s.reason}});
  }
  return json::Value(json::Object{{"units", json::Value(std::move(units))},
                                  {"roles", json::Value(std::move(roles))},
                                  {"users", json::Value(std::move(users))},
                                  {"substitutions", json::Value(std::move(substitutions))}});
}

Result<storage::DirectoryRecords> loadDirectoryFile(const std::string& path) {
  return parseFile(path, "directory file", parseDirectory);
}

}  // namespace tramite::runtime
