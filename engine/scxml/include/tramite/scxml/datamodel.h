// The datamodel interface the interpreter evaluates through (SCXML section 5).
// A DataModel belongs to one session. Thread safety: none; a session is stepped by one
// thread at a time and its datamodel with it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tramite/json.h"
#include "tramite/scxml/chart.h"
#include "tramite/scxml/event.h"
#include "tramite/status.h"

namespace tramite::scxml {

// Lets In() ask about the current configuration.
class StateQuery {
 public:
  virtual ~StateQuery() = default;
  virtual bool isActive(std::string_view state_id) const = 0;
};

struct SystemVariables {
  std::string session_id;
  std::string name;          // the <scxml name>
  json::Value ioprocessors;  // {"scxml": {"location": ...}, "<type URI>": {...}}
};

// The system variables of a session of chart: _sessionid, _name and _ioprocessors with the
// SCXML processor's location "#_scxml_<id>" and, when basichttp_base is set, the BasicHTTP
// processor's (under its URI and as "basichttp") at basichttp_base + "/" + session id.
// _ioprocessors is left null when no expression of the chart can observe it.
SystemVariables systemVariablesFor(const Chart& chart, const std::string& session_id,
                                   const std::string& basichttp_base = {});

// Every evaluation failure is returned as a Status (never thrown); the interpreter turns it
// into error.execution.
class DataModel {
 public:
  virtual ~DataModel() = default;

  // Binds _sessionid, _name, _ioprocessors. Called once, before anything else.
  virtual Status setSystemVariables(const SystemVariables& vars) = 0;
  // The query In() consults; the pointer stays valid while the interpreter runs a step.
  virtual void setStateQuery(const StateQuery* query) = 0;

  // Creates the variable of a <data> element. When override_value is given (an <invoke>
  // param for a top-level data of the child), it replaces the declared value. On failure
  // the variable exists but is unbound (nil/null) and an error is returned.
  virtual Status declare(const DataDecl& decl, const json::Value* override_value) = 0;
  // Binds _event.
  virtual void setEvent(const Event& event) = 0;

  virtual Result<bool> evaluateCondition(const Expr& cond) = 0;
  virtual Result<json::Value> evaluate(const Expr& expr) = 0;
  // Evaluates to a string (for eventexpr, targetexpr, delayexpr, ...).
  virtual Result<std::string> evaluateString(const Expr& expr) = 0;
  virtual Status assign(const Expr& location, const Expr& expr) = 0;
  virtual Status assignValue(const Expr& location, const json::Value& value) = 0;
  // <assign> with inline content instead of expr.
  virtual Status assignContent(const Expr& location, const Content& content) = 0;
  virtual Status runScript(const Expr& script) = 0;
  // Iterates a shallow copy of the array, binding item (and index) before each body run.
  // body returns false to stop the iteration early (its own error was already reported).
  virtual Status forEach(const Expr& array, const Expr& item, const Expr& index,
                         const std::function<bool()>& body) = 0;

  // The variables (not the system ones) as a JSON object, and back.
  virtual json::Value snapshot() const = 0;
  virtual Status restore(const json::Value& snapshot) = 0;
};

// Creates the datamodel a chart asks for ("null" or "lua").
// Errors: kInvalidArgument for an unknown datamodel name.
Result<std::unique_ptr<DataModel>> createDataModel(const ChartPtr& chart);

}  // namespace tramite::scxml
