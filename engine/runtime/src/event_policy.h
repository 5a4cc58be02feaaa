// Who may send an instance an external event (the API's events and BasicHTTP routes, the
// CLI): the process's <w:accepts> declarations, the events the engine raises itself, and the
// roles that only read. Pure: the caller reads the sender's directory entry.
#pragma once

#include <string>
#include <vector>

#include "tramite/scxml/chart.h"
#include "tramite/status.h"

namespace tramite::runtime {

// One <w:accepts>: event (a name; it also covers its descendants "event.*"), who may send
// it, and the state it is declared in ("" for the document root: always).
struct AcceptSpec {
  std::string event;
  std::vector<std::string> roles;
  bool requester = false;  // who="requester": whoever started the expediente
  std::string state;
};

// The external-event rules of one chart.
struct EventPolicy {
  std::vector<AcceptSpec> accepts;
  // Events the chart's vocabulary raises (deadline raises, task and approval events): they
  // come only from the engine, like task.*, done.* and error.*.
  std::vector<std::string> raised;
  // A chart with workflow vocabulary is a process: it accepts only what it declares. A plain
  // SCXML document (no urn:tramite:workflow:1 element) accepts any event that is not raised
  // by the engine.
  bool process = false;

  static EventPolicy of(const scxml::Chart& chart);
};

// The sender of an external event as the directory knows them.
struct Sender {
  std::string user;
  bool known = false;  // an active user of the directory
  std::vector<std::string> roles;
  bool requester = false;  // started the instance
  std::string reason;      // an administrator's stated reason
};

// True for events only the engine raises: task.*, done.*, error.*, and policy.raised.
bool raisedByEngine(const EventPolicy& policy, const std::string& event);

// The administrator's role.
constexpr const char* kAdminRole = "admin";

// Users whose every role only reads (auditor, oficial_cumplimiento): they never move a case.
bool readsOnly(const std::vector<std::string>& roles);

// Users with the admin's role or a reading role: they see every case.
bool seesEveryCase(const std::vector<std::string>& roles);

// Whether sender may send event to an instance of the chart, given its active state ids
// (atomic states and their ancestors). Errors: kPermissionDenied naming the reason.
Status mayReceive(const EventPolicy& policy, const std::vector<std::string>& active,
                  const std::string& event, const Sender& sender);

}  // namespace tramite::runtime
