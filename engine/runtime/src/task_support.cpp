#include "task_support.h"

#include "tramite/runtime/directory.h"
#include "tramite/text.h"

namespace tramite::runtime::internal {

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
