// What a task row holds beyond its columns' plain values: who sees it, its deadline timer's
// key, the business data queues filter on.
#include <algorithm>

#include "tramite/tasks/task_work.h"
#include "tramite/workflow/specs.h"

namespace tramite::tasks {

using lifecycle::isTaskFinal;
using lifecycle::parseTaskState;
using lifecycle::TaskState;
using storage::TaskRecord;
using workflow::stringMember;
using workflow::stringsFrom;

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

json::Value taskRowDetail(const storage::TaskRecord& t, std::string_view op, json::Value extra) {
  json::Value row(json::Object{
      {"task", t.id}, {"name", t.name}, {"op", std::string(op)}, {"status", t.status}});
  if (extra.isObject()) {
    for (auto& [k, v] : extra.asObject()) row.set(k, std::move(v));
  }
  return row;
}

}  // namespace tramite::tasks
