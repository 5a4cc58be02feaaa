// Instances as stored and as shown: the chart cache, loading an instance with its chart and
// data model, and the views callers get.
#include <algorithm>

#include "engine_internal.h"
#include "tramite/scxml/datamodel.h"
#include "tramite/scxml/session_codec.h"

namespace tramite::runtime {

using namespace internal;

// ---- views ----------------------------------------------------------------------------------

json::Value InstanceView::toJson() const {
  json::Array config;
  for (const auto& c : configuration) config.emplace_back(c);
  return json::Value(json::Object{{"id", id},
                                  {"definition", definition},
                                  {"version", static_cast<std::int64_t>(version)},
                                  {"business_key", business_key},
                                  {"lifecycle", lifecycle},
                                  {"configuration", json::Value(std::move(config))},
                                  {"data", data},
                                  {"row_version", row_version}});
}

Result<InstanceView> InstanceView::fromJson(const json::Value& v) {
  auto str = [&](const char* k) -> const std::string* {
    const json::Value* m = v.find(k);
    return m && m->isString() ? &m->asString() : nullptr;
  };
  const json::Value* version = v.find("version");
  const json::Value* config = v.find("configuration");
  const json::Value* rv = v.find("row_version");
  if (!str("id") || !str("definition") || !str("business_key") || !str("lifecycle") || !version ||
      !version->isInt() || !config || !config->isArray() || !rv || !rv->isInt()) {
    return Status(ErrorCode::kInternal, "a stored instance view is malformed");
  }
  InstanceView out;
  out.id = *str("id");
  out.definition = *str("definition");
  out.version = static_cast<std::int32_t>(version->asInt());
  out.business_key = *str("business_key");
  out.lifecycle = *str("lifecycle");
  for (const auto& c : config->asArray()) out.configuration.push_back(c.asString());
  if (const json::Value* d = v.find("data")) out.data = *d;
  out.row_version = rv->asInt();
  return out;
}

// ---- loaded instances -----------------------------------------------------------------------

void Engine::rememberChart(storage::DefinitionRecord record, scxml::ChartPtr chart) {
  record.xml.clear();  // the chart is what we keep
  const std::int64_t id = record.id;
  std::lock_guard<std::mutex> lock(charts_mu_);
  charts_.emplace(id, std::make_pair(std::move(chart), std::move(record)));
}

Result<scxml::ChartPtr> Engine::chartFor(storage::Transaction& tx, std::int64_t definition_id,
                                         storage::DefinitionRecord* record) {
  {
    std::lock_guard<std::mutex> lock(charts_mu_);
    if (auto it = charts_.find(definition_id); it != charts_.end()) {
      if (record) *record = it->second.second;
      return it->second.first;
    }
  }
  auto def = tx.definitionById(definition_id);
  if (!def) return def.status();
  if (!def->has_value()) {
    return Status(ErrorCode::kInternal,
                  "definition " + std::to_string(definition_id) + " is missing");
  }
  storage::DefinitionRecord d = **def;
  scxml::ParseResult parsed = parseDeployed(d.xml, d.name + " v" + std::to_string(d.version));
  if (!parsed.ok())
    return Status(ErrorCode::kInternal,
                  "stored definition no longer parses: " + parsed.errorText());
  rememberChart(d, parsed.chart);
  if (record) {
    *record = std::move(d);
    record->xml.clear();
  }
  return parsed.chart;
}

Status Engine::bindDefinition(storage::Transaction& tx, Loaded& l) {
  auto chart = chartFor(tx, l.rec.definition_id, &l.def);
  if (!chart) return chart.status();
  l.chart = *chart;
  auto dm = scxml::createDataModel(l.chart);
  if (!dm) return dm.status();
  l.dm = std::move(dm).value();
  return Status::ok();
}

Result<Engine::Loaded> Engine::load(storage::Transaction& tx, const std::string& instance_id) {
  auto rec = tx.instance(instance_id);
  if (!rec) return rec.status();
  if (!rec->has_value()) return Status(ErrorCode::kNotFound, "no instance '" + instance_id + "'");
  Loaded l;
  l.rec = std::move(**rec);
  if (Status st = bindDefinition(tx, l); !st) return st;
  auto session = scxml::decodeSession(*l.chart, l.rec.session, *l.dm, options_.basichttp_base);
  if (!session) return session.status();
  l.session = std::move(session).value();
  auto lifecycle = parseLifecycle(l.rec.lifecycle);
  if (!lifecycle) return lifecycle.status();
  l.lifecycle = *lifecycle;
  return l;
}

json::Value historyRowJson(const storage::HistoryRecord& row) {
  auto detail = json::parse(row.detail);
  return json::Value(json::Object{{"seq", row.seq},
                                  {"at", row.at},
                                  {"actor", row.actor},
                                  {"kind", row.kind},
                                  {"detail", detail ? *detail : json::Value(row.detail)}});
}

InstanceView Engine::view(const Loaded& l) const {
  InstanceView v;
  v.id = l.rec.id;
  v.definition = l.def.name;
  v.version = l.def.version;
  v.business_key = l.rec.business_key;
  v.lifecycle = std::string(lifecycleName(l.lifecycle));
  v.configuration = scxml::activeAtomicStates(*l.chart, l.session);
  v.data = l.dm->snapshot();
  v.row_version = l.rec.row_version;
  return v;
}

}  // namespace tramite::runtime
