// What the workflow vocabulary (urn:tramite:workflow:1) asks of a state: human tasks,
// approvals and deadlines, read from the chart's foreign elements (the parser has already
// validated them against the XSD), and their JSON form as kept in a task row's spec.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tramite/calendar/calendar.h"
#include "tramite/clock.h"
#include "tramite/json.h"
#include "tramite/scxml/chart.h"
#include "tramite/status.h"
#include "tramite/workflow/vocabulary.h"

namespace tramite::workflow {

struct Candidates {
  std::vector<std::string> roles;
  std::vector<std::string> units;
  std::vector<std::string> users;
  // "role:ID", "unit:ID", "user:ID": the queue principals of potential owners.
  std::vector<std::string> principals() const;
};

struct Breach {
  std::string raise;                // event raised into the instance
  std::string escalate_to;          // role added to the queues of the open tasks
  std::vector<std::string> notify;  // roles/users told through the outbox
};

struct DeadlineSpec {
  enum class Unit { kBusinessDays, kCalendarDays, kHours };
  Unit unit = Unit::kBusinessDays;
  int amount = 0;
  std::vector<Breach> breach;
  std::string describe() const;  // "10 business days"
  json::Value toJson() const;
  static DeadlineSpec fromJson(const json::Value& v);
};

struct FieldSpec {
  std::string name;
  std::string type;  // text number money date boolean choice document user
  std::string label;
  bool required = false;
  std::vector<std::string> options;  // choice
  std::vector<std::string> roles;    // user: the value names an active user holding one
};

struct Exclusion {
  std::string who;   // requester | submitter | approvers
  std::string task;  // submitter: the task whose submitter is excluded
};

struct TaskSpec {
  std::string kind;  // task | approval
  std::string name;
  std::string title;
  Candidates candidates;  // an approval slot: its approver's candidates
  int priority = 5;
  bool skippable = false;
  std::vector<FieldSpec> fields;
  std::vector<std::string> outcomes;
  std::optional<DeadlineSpec> deadline;
  std::string assignee;  // datamodel variable naming the user the task is reserved to
  std::string event;     // task: the completion event (default task.NAME.done)
  // Approvals: the rule over the approver slots; each slot is a task row.
  std::string rule;  // all | any | n-of-m
  int n = 0;
  std::vector<Candidates> approvers;
  std::vector<Exclusion> excludes;
  std::string approved_event;
  std::string rejected_event;

  std::string doneEvent() const { return event.empty() ? "task." + name + ".done" : event; }
  std::string approvedEvent() const {
    return approved_event.empty() ? "task." + name + ".approved" : approved_event;
  }
  std::string rejectedEvent() const {
    return rejected_event.empty() ? "task." + name + ".rejected" : rejected_event;
  }
  // How many approvals decide an approval: all M, 1, or n.
  int needed() const;

  json::Value toJson() const;
  // Errors: kInternal for a malformed stored spec.
  static Result<TaskSpec> fromJson(const json::Value& v);
};

// The string member key of an object; "" when absent or not a string.
std::string stringMember(const json::Value& v, const char* key);
json::Value stringsJson(const std::vector<std::string>& v);
// The strings of a JSON array (other members skipped); empty for null or a non-array.
std::vector<std::string> stringsFrom(const json::Value* v);

// <w:signed-by>: signatures on the document by holders of any of roles: at least count
// distinct signers, or (all) every active user holding one of them.
struct SignedBySpec {
  std::vector<std::string> roles;
  int count = 1;
  bool all = false;
};

// <w:requires>: the latest version of a document, with its signatures, before the process
// may leave the state or take the transition.
struct RequirementSpec {
  std::string document;
  std::vector<SignedBySpec> signed_by;
};

// The <w:requires> of a transition (children of its executable content).
std::vector<RequirementSpec> transitionRequirements(const scxml::Transition& t);

// The tasks, approvals, deadline and requirements a state declares, in document order.
struct StateWork {
  std::vector<TaskSpec> tasks;
  std::optional<DeadlineSpec> deadline;
  std::vector<RequirementSpec> requirements;
  bool empty() const { return tasks.empty() && !deadline; }
};
StateWork stateWork(const scxml::State& state);
// Only the <w:requires> of a state (what leaving it needs), without reading its tasks.
std::vector<RequirementSpec> stateRequirements(const scxml::State& state);
// Whether the state declares a task or approval, and whether a deadline (names only).
bool declaresTasks(const scxml::State& state);
bool declaresDeadline(const scxml::State& state);
// The data a case of the chart starts with (<w:input> directly inside <scxml>), in document
// order; empty when the chart declares none.
std::vector<FieldSpec> startInputs(const scxml::Chart& chart);
// True when the chart is a process: some element of the workflow vocabulary (a task, an
// approval, a deadline, an input, an accepted event, ...) anywhere in it.
bool chartHasWork(const scxml::Chart& chart);

// The due instant of a deadline set now: the end of the due day for day terms (LPA art. 82
// counting on the business calendar), now + hours otherwise. Errors: the calendar's.
struct Due {
  TimePoint at = 0;
  calendar::Date date;
};
Result<Due> dueOf(const DeadlineSpec& d, const calendar::BusinessCalendar& cal, TimePoint now);

}  // namespace tramite::workflow
