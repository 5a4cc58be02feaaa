#include "task_support.h"

#include "tramite/runtime/directory.h"
#include "tramite/text.h"

namespace tramite::runtime::internal {

std::string deadlineSendId(const std::string& key) {
  return "tramite.deadline." + key;
}

json::Value businessData(const json::Value& snapshot) {
  json::Object out;
  if (snapshot.isObject()) {
    for (const auto& [k, v] : snapshot.asObject()) {
      if (k.empty() || k[0] == '_') continue;
      if (v.isNumber() || v.isBool() || (v.isString() && v.asString().size() <= 256)) {
        out.emplace_back(k, v);
      }
    }
  }
  return json::Value(std::move(out));
}

json::Value parsedOr(const std::string& text) {
  auto v = json::parse(text);
  return v ? *v : json::Value(json::Object{});
}

TaskState taskStateOf(const TaskRecord& t) {
  auto s = parseTaskState(t.status);
  return s ? *s : TaskState::kError;
}

std::string timerKey(const TaskRecord& t, const json::Value& spec) {
  const std::string group = stringMember(spec, "group");
  return "task." + (group.empty() ? t.id : group);
}

void addUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

void refreshVisibility(TaskRecord& t, const json::Value& spec) {
  const TaskState s = taskStateOf(t);
  t.open = !isTaskFinal(s);
  t.principals.clear();
  if (!t.open) return;
  const bool offered =
      s == TaskState::kReady || s == TaskState::kSuspendedReady || s == TaskState::kCreated;
  if (offered) {
    t.principals = stringsFrom(spec.find("potential"));
  } else {
    t.principals.push_back("owner:" + t.owner);
    const std::string by = stringMember(spec, "delegated_by");
    if (!by.empty() && by != t.owner) addUnique(t.principals, "user:" + by);
  }
  for (const std::string& role : stringsFrom(spec.find("escalated_to"))) {
    addUnique(t.principals, "role:" + role);
  }
}

Result<std::vector<storage::UserRecord>> actingAs(storage::Transaction& tx, const std::string& id,
                                                  std::int64_t day) {
  std::vector<storage::UserRecord> people;
  auto me = tx.user(id);
  if (!me) return me.status();
  if (!me->has_value()) return people;
  people.push_back(**me);
  auto subs = tx.standingInFor(id, day);
  if (!subs) return subs.status();
  for (const storage::SubstitutionRecord& s : *subs) {
    auto absent = tx.user(s.user);
    if (!absent) return absent.status();
    if (absent->has_value()) people.push_back(**absent);
  }
  return people;
}

std::vector<std::string> principalsOfPeople(const std::vector<storage::UserRecord>& people,
                                            bool personal, bool group) {
  std::vector<std::string> out;
  for (const storage::UserRecord& u : people) {
    if (personal) {
      out.push_back("owner:" + u.id);
      out.push_back("user:" + u.id);
    }
    if (group) {
      out.push_back("unit:" + u.unit);
      for (const std::string& role : u.roles) out.push_back("role:" + role);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool validPrincipal(const std::string& p) {
  for (const char* prefix : {"user:", "role:", "unit:"}) {
    const std::string pre(prefix);
    if (p.rfind(pre, 0) == 0) return isWorkflowName(p.substr(pre.size()));
  }
  return false;
}

}  // namespace tramite::runtime::internal
