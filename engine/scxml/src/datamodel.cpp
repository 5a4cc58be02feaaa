#include "tramite/scxml/datamodel.h"

#include "tramite/scxml/lua_datamodel.h"
#include "tramite/scxml/null_datamodel.h"

namespace tramite::scxml {

SystemVariables systemVariablesFor(const Chart& chart, const std::string& session_id,
                                   const std::string& basichttp_base) {
  SystemVariables vars;
  vars.session_id = session_id;
  vars.name = chart.name();
  if (!chart.usesIoProcessors()) return vars;
  json::Value location(json::Object{{"location", json::Value("#_scxml_" + session_id)}});
  vars.ioprocessors =
      json::Value(json::Object{{"scxml", location}, {kScxmlProcessorType, location}});
  if (!basichttp_base.empty()) {
    json::Value http(json::Object{{"location", json::Value(basichttp_base + "/" + session_id)}});
    vars.ioprocessors.set("basichttp", http);
    vars.ioprocessors.set(kBasicHttpProcessorType, http);
  }
  return vars;
}

Result<std::unique_ptr<DataModel>> createDataModel(const ChartPtr& chart) {
  const std::string& name = chart->datamodel();
  if (name == "null") return std::unique_ptr<DataModel>(std::make_unique<NullDataModel>());
  if (name == "lua") {
    return std::unique_ptr<DataModel>(
        std::make_unique<LuaDataModel>(chart, LuaRuntime::forThisThread()));
  }
  return Status(ErrorCode::kInvalidArgument, "datamodel '" + name + "' is not supported");
}

}  // namespace tramite::scxml
