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

  static Event external(std::string name, json::Value data = {}) {
    Event e;
    e.name = std::move(name);
    e.data = std::move(data);
    return e;
  }
};

// The event as JSON, omitting empty fields: {"name", "type", "sendid", ..., "data"}.
json::Value eventToJson(const Event& e);
// Inverse of eventToJson; unknown members are refused.
Result<Event> eventFromJson(const json::Value& v);

}  // namespace tramite::scxml
