#include "event_policy.h"

#include <algorithm>
#include <sstream>

#include "task_spec.h"

namespace tramite::runtime {

namespace {

constexpr const char* kReadingRoles[] = {"auditor", "oficial_cumplimiento"};
constexpr const char* kEnginePrefixes[] = {"task", "done", "error"};

// SCXML event descriptor matching: "a.b" covers "a.b" and "a.b.c", not "a.bc".
bool covers(const std::string& descriptor, const std::string& event) {
  if (event.size() < descriptor.size() || event.compare(0, descriptor.size(), descriptor) != 0) {
    return false;
  }
  return event.size() == descriptor.size() || event[descriptor.size()] == '.';
}

std::vector<std::string> words(const std::string* s) {
  std::vector<std::string> out;
  if (!s) return out;
  std::stringstream ss(*s);
  for (std::string w; ss >> w;) out.push_back(w);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

void collectRaised(const scxml::XmlElement& e, std::vector<std::string>& out) {
  for (const char* a : {"raise", "event", "approved-event", "rejected-event"}) {
    if (e.name == "accepts") break;  // its event is accepted, not raised
    if (const std::string* v = e.attribute(a); v && !v->empty()) out.push_back(*v);
  }
  for (const scxml::XmlElement& c : e.children) collectRaised(c, out);
}

}  // namespace

EventPolicy EventPolicy::of(const scxml::Chart& chart) {
  EventPolicy p;
  p.process = chartHasWork(chart);
  for (std::size_t i = 0; i < chart.states().size(); ++i) {
    const scxml::State& s = chart.states()[i];
    for (const scxml::XmlElement& e : s.extensions) {
      if (e.ns != workflow::kNamespace) continue;
      if (e.name == "accepts") {
        AcceptSpec a;
        if (const std::string* ev = e.attribute("event")) a.event = *ev;
        a.roles = words(e.attribute("roles"));
        const std::string* who = e.attribute("who");
        a.requester = who && *who == "requester";
        if (i != 0) a.state = s.id;
        p.accepts.push_back(std::move(a));
      } else {
        collectRaised(e, p.raised);
      }
    }
  }
  return p;
}

bool raisedByEngine(const EventPolicy& policy, const std::string& event) {
  for (const char* prefix : kEnginePrefixes) {
    if (covers(prefix, event)) return true;
  }
  return std::any_of(policy.raised.begin(), policy.raised.end(),
                     [&](const std::string& r) { return covers(r, event); });
}

namespace {

bool isReadingRole(const std::string& role) {
  return std::any_of(std::begin(kReadingRoles), std::end(kReadingRoles),
                     [&](const char* reading) { return role == reading; });
}

}  // namespace

bool readsOnly(const std::vector<std::string>& roles) {
  return !roles.empty() && std::all_of(roles.begin(), roles.end(), isReadingRole);
}

bool seesEveryCase(const std::vector<std::string>& roles) {
  return std::any_of(roles.begin(), roles.end(),
                     [](const std::string& r) { return r == kAdminRole || isReadingRole(r); });
}

Status mayReceive(const EventPolicy& policy, const std::vector<std::string>& active,
                  const std::string& event, const Sender& sender) {
  auto refuse = [&](const std::string& why) {
    return Status(ErrorCode::kPermissionDenied,
                  sender.user + " may not send '" + event + "': " + why);
  };
  if (raisedByEngine(policy, event)) {
    return refuse(
        "the engine raises it itself (task outcomes, deadlines, documents, done.*, "
        "error.*); it never comes from outside");
  }
  if (sender.known && readsOnly(sender.roles)) {
    return refuse("auditors and the compliance office read expedientes; they do not move them");
  }
  if (!policy.process) return Status::ok();
  if (!sender.known) return refuse("not an active user of the directory");
  const bool admin = has(sender.roles, kAdminRole);
  std::vector<std::string> declared;
  bool in_state = false;
  for (const AcceptSpec& a : policy.accepts) {
    if (!covers(a.event, event)) continue;
    if (!a.state.empty() && !has(active, a.state)) continue;
    in_state = true;
    if (a.requester && sender.requester) return Status::ok();
    if (std::any_of(a.roles.begin(), a.roles.end(),
                    [&](const std::string& r) { return has(sender.roles, r); })) {
      return Status::ok();
    }
    for (const std::string& r : a.roles) declared.push_back(r);
    if (a.requester) declared.emplace_back("the requester");
  }
  if (!in_state) {
    std::vector<std::string> names;
    for (const AcceptSpec& a : policy.accepts) {
      if (a.state.empty() || has(active, a.state)) names.push_back(a.event);
    }
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
    return refuse(
        "this process does not accept it from outside in its current state" +
        (list.empty() ? std::string(" (it accepts none now)") : " (it accepts: " + list + ")"));
  }
  if (admin) {
    if (!sender.reason.empty()) return Status::ok();
    return refuse("an administrator moves an expediente only with a stated reason");
  }
  std::string who;
  for (const std::string& d : declared) who += (who.empty() ? "" : ", ") + d;
  return refuse("only " + who + " may send it");
}

}  // namespace tramite::runtime
