#include "tramite/scxml/event.h"

namespace tramite::scxml {

Event errorEvent(std::string name, const std::string& message, std::string sendid,
                 std::string invokeid) {
  Event e;
  e.name = std::move(name);
  e.type = EventType::kPlatform;
  e.sendid = std::move(sendid);
  e.invokeid = std::move(invokeid);
  e.data = json::Value(json::Object{{"message", json::Value(message)}});
  return e;
}

Event doneInvokeEvent(const std::string& invokeid, const std::string& child_session_id,
                      json::Value donedata) {
  Event e;
  e.name = "done.invoke." + invokeid;
  e.invokeid = invokeid;
  e.origin = "#_scxml_" + child_session_id;
  e.origintype = kScxmlProcessorType;
  e.data = std::move(donedata);
  return e;
}

json::Value eventToJson(const Event& e) {
  json::Object o;
  o.emplace_back("name", e.name);
  if (e.type != EventType::kExternal) o.emplace_back("type", eventTypeName(e.type));
  if (!e.sendid.empty()) o.emplace_back("sendid", e.sendid);
  if (!e.origin.empty()) o.emplace_back("origin", e.origin);
  if (!e.origintype.empty()) o.emplace_back("origintype", e.origintype);
  if (!e.invokeid.empty()) o.emplace_back("invokeid", e.invokeid);
  if (!e.data.isNull()) o.emplace_back("data", e.data);
  if (!e.raw.empty()) o.emplace_back("raw", e.raw);
  return json::Value(std::move(o));
}

Result<Event> eventFromJson(const json::Value& v) {
  if (!v.isObject()) return Status(ErrorCode::kInvalidArgument, "an event must be a JSON object");
  Event e;
  for (const auto& [key, value] : v.asObject()) {
    if (key == "data") {
      e.data = value;
      continue;
    }
    if (!value.isString()) {
      return Status(ErrorCode::kInvalidArgument, "event member '" + key + "' must be a string");
    }
    const std::string& s = value.asString();
    if (key == "name")
      e.name = s;
    else if (key == "sendid")
      e.sendid = s;
    else if (key == "origin")
      e.origin = s;
    else if (key == "origintype")
      e.origintype = s;
    else if (key == "invokeid")
      e.invokeid = s;
    else if (key == "raw")
      e.raw = s;
    else if (key == "type") {
      if (s == "platform")
        e.type = EventType::kPlatform;
      else if (s == "internal")
        e.type = EventType::kInternal;
      else if (s == "external")
        e.type = EventType::kExternal;
      else
        return Status(ErrorCode::kInvalidArgument, "unknown event type '" + s + "'");
    } else {
      return Status(ErrorCode::kInvalidArgument, "unknown event member '" + key + "'");
    }
  }
  if (e.name.empty()) return Status(ErrorCode::kInvalidArgument, "an event needs a name");
  return e;
}

}  // namespace tramite::scxml
