// SCXML events (section 5.10.1) as they travel between queues, sessions and datamodels.
#pragma once

#include <cstdint>
#include <string>

#include "tramite/json.h"

namespace tramite::scxml {

inline constexpr const char* kScxmlProcessorType =
    "http://www.w3.org/TR/scxml/#SCXMLEventProcessor";
inline constexpr const char* kBasicHttpProcessorType =
    "http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor";

enum class EventType : std::uint8_t { kPlatform, kInternal, kExternal };

// "platform" | "internal" | "external"
const char* eventTypeName(EventType t);

struct Event {
  std::string name;
  EventType type = EventType::kExternal;
  std::string sendid;
  std::string origin;
  std::string origintype;
  std::string invokeid;
  json::Value data;
  std::string raw;  // the message as received, for events from a network processor (_event.raw)

  static Event external(std::string name, json::Value data = {}) {
    Event e;
    e.name = std::move(name);
    e.data = std::move(data);
    return e;
  }
};

// A platform error event (error.execution, error.communication, ...) with
// _event.data = {"message": message}; sendid names a failed <send>, invokeid an <invoke>.
Event errorEvent(std::string name, const std::string& message, std::string sendid = {},
                 std::string invokeid = {});

// The done.invoke.<invokeid> event a finished child session sends its parent (SCXML 6.4),
// carrying the child's done data.
Event doneInvokeEvent(const std::string& invokeid, const std::string& child_session_id,
                      json::Value donedata);

// The event as JSON, omitting empty fields: {"name", "type", "sendid", ..., "data"}.
json::Value eventToJson(const Event& e);
// Inverse of eventToJson; unknown members are refused.
Result<Event> eventFromJson(const json::Value& v);

}  // namespace tramite::scxml
