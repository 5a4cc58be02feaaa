#include "tramite/scxml/session_codec.h"

namespace tramite::scxml {

namespace {

const char* statusName(SessionStatus s) {
  switch (s) {
    case SessionStatus::kNew: return "new";
    case SessionStatus::kRunning: return "running";
    case SessionStatus::kFinished: return "finished";
  }
  return "new";
}

json::Value idList(const Chart& chart, const std::vector<StateIndex>& states) {
  json::Array a;
  for (StateIndex s : states) a.emplace_back(chart.state(s).id);
  return json::Value(std::move(a));
}

Status bad(const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "invalid session state: " + what);
}

Result<StateIndex> stateFrom(const Chart& chart, const json::Value& v) {
  if (!v.isString()) return bad("state ids must be strings");
  StateIndex s = chart.find(v.asString());
  if (s == kNoState) return bad("unknown state '" + v.asString() + "'");
  return s;
}

const std::string* stringMember(const json::Value& o, const char* key) {
  const json::Value* v = o.find(key);
  return v && v->isString() ? &v->asString() : nullptr;
}

}  // namespace

std::string encodeSession(const Chart& chart, const Session& session, const DataModel& dm) {
  json::Object o;
  o.emplace_back("v", kSessionFormatVersion);
  o.emplace_back("id", session.id);
  if (!session.parent_id.empty()) {
    o.emplace_back("parent", session.parent_id);
    o.emplace_back("parent_invokeid", session.parent_invokeid);
    o.emplace_back("depth", static_cast<std::int64_t>(session.depth));
  }
  o.emplace_back("status", statusName(session.status));
  std::vector<StateIndex> atomic;
  session.configuration.forEach([&](StateIndex s) {
    if (chart.state(s).isAtomic()) atomic.push_back(s);
  });
  o.emplace_back("configuration", idList(chart, atomic));
  if (chart.binding() == Binding::kLate) {
    std::vector<StateIndex> bound;
    session.data_bound.forEach([&](StateIndex s) { bound.push_back(s); });
    o.emplace_back("data_bound", idList(chart, bound));
  }
  if (!session.history.empty()) {
    json::Object h;
    for (const auto& [state, value] : session.history) {
      h.emplace_back(chart.state(state).id, idList(chart, value));
    }
    o.emplace_back("history", json::Value(std::move(h)));
  }
  if (!session.invocations.empty()) {
    json::Array invs;
    for (const Invocation& inv : session.invocations) {
      invs.emplace_back(json::Object{{"invokeid", inv.invokeid},
                                     {"child", inv.child_session_id},
                                     {"state", chart.state(inv.state).id},
                                     {"index", static_cast<std::int64_t>(inv.invoke_index)},
                                     {"autoforward", inv.autoforward}});
    }
    o.emplace_back("invocations", json::Value(std::move(invs)));
  }
  o.emplace_back("next_id", static_cast<std::int64_t>(session.next_id));
  json::Value data = dm.snapshot();
  if (data.isObject() && !data.asObject().empty()) o.emplace_back("data", std::move(data));
  return json::dump(json::Value(std::move(o)));
}

Result<Session> decodeSession(const Chart& chart, std::string_view text, DataModel& dm,
                              const std::string& basichttp_base) {
  auto parsed = json::parse(text);
  if (!parsed) return bad(parsed.status().message());
  const json::Value& o = *parsed;
  if (!o.isObject()) return bad("not a JSON object");
  const json::Value* v = o.find("v");
  if (!v || !v->isInt() || v->asInt() != kSessionFormatVersion) {
    return bad("unsupported format version (expected " + std::to_string(kSessionFormatVersion) +
               ")");
  }
  Session session;
  std::size_t n = chart.stateCount();
  session.configuration.resize(n);
  session.data_bound.resize(n);
  const std::string* id = stringMember(o, "id");
  const std::string* status = stringMember(o, "status");
  if (!id || !status) return bad("missing id or status");
  session.id = *id;
  if (const std::string* p = stringMember(o, "parent")) session.parent_id = *p;
  if (const std::string* p = stringMember(o, "parent_invokeid")) session.parent_invokeid = *p;
  if (const json::Value* d = o.find("depth"); d && d->isInt() && d->asInt() >= 0) {
    session.depth = static_cast<std::uint32_t>(d->asInt());
  }
  if (*status == "new")
    session.status = SessionStatus::kNew;
  else if (*status == "running")
    session.status = SessionStatus::kRunning;
  else if (*status == "finished")
    session.status = SessionStatus::kFinished;
  else
    return bad("unknown status '" + *status + "'");

  const json::Value* cfg = o.find("configuration");
  if (!cfg || !cfg->isArray()) return bad("missing configuration");
  for (const json::Value& s : cfg->asArray()) {
    auto idx = stateFrom(chart, s);
    if (!idx) return idx.status();
    for (StateIndex a = *idx; a != kRootState && a != kNoState; a = chart.state(a).parent) {
      session.configuration.add(a);
    }
  }
  if (chart.binding() == Binding::kEarly) {
    for (StateIndex s = 0; s < n; ++s) session.data_bound.add(s);
  } else if (const json::Value* bound = o.find("data_bound"); bound && bound->isArray()) {
    for (const json::Value& s : bound->asArray()) {
      auto idx = stateFrom(chart, s);
      if (!idx) return idx.status();
      session.data_bound.add(*idx);
    }
  }
  if (const json::Value* h = o.find("history"); h && h->isObject()) {
    for (const auto& [key, value] : h->asObject()) {
      StateIndex hs = chart.find(key);
      if (hs == kNoState || chart.state(hs).kind != StateKind::kHistory) {
        return bad("unknown history state '" + key + "'");
      }
      if (!value.isArray()) return bad("history values must be arrays");
      std::vector<StateIndex> states;
      for (const json::Value& s : value.asArray()) {
        auto idx = stateFrom(chart, s);
        if (!idx) return idx.status();
        states.push_back(*idx);
      }
      session.history.emplace_back(hs, std::move(states));
    }
  }
  if (const json::Value* invs = o.find("invocations"); invs && invs->isArray()) {
    for (const json::Value& inv : invs->asArray()) {
      const std::string* invokeid = stringMember(inv, "invokeid");
      const std::string* child = stringMember(inv, "child");
      const json::Value* state = inv.find("state");
      const json::Value* index = inv.find("index");
      const json::Value* af = inv.find("autoforward");
      if (!invokeid || !child || !state || !index || !index->isInt() || !af || !af->isBool()) {
        return bad("malformed invocation");
      }
      auto s = stateFrom(chart, *state);
      if (!s) return s.status();
      if (index->asInt() < 0 ||
          static_cast<std::size_t>(index->asInt()) >= chart.state(*s).invokes.size()) {
        return bad("invocation index out of range");
      }
      session.invocations.push_back(Invocation{
          *invokeid, *child, *s, static_cast<std::uint32_t>(index->asInt()), af->asBool()});
    }
  }
  const json::Value* next = o.find("next_id");
  if (!next || !next->isInt() || next->asInt() < 1) return bad("missing next_id");
  session.next_id = static_cast<std::uint64_t>(next->asInt());

  if (Status st = dm.setSystemVariables(systemVariablesFor(chart, session.id, basichttp_base));
      !st) {
    return st;
  }
  if (const json::Value* data = o.find("data")) {
    if (Status st = dm.restore(*data); !st) return st;
  }
  return session;
}

}  // namespace tramite::scxml
