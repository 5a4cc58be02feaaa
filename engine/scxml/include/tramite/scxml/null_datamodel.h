// The null datamodel (SCXML B.1): no data; conditions are In(stateId) predicates only.
#pragma once

#include "tramite/scxml/datamodel.h"

namespace tramite::scxml {

class NullDataModel final : public DataModel {
 public:
  Status setSystemVariables(const SystemVariables&) override { return Status::ok(); }
  void setStateQuery(const StateQuery* query) override { query_ = query; }
  Status declare(const DataDecl& decl, const json::Value* override_value) override;
  void setEvent(const Event&) override {}
  // Accepts In(id), In('id') and In("id").
  Result<bool> evaluateCondition(const Expr& cond) override;
  Result<json::Value> evaluate(const Expr& expr) override;
  Result<std::string> evaluateString(const Expr& expr) override;
  Status assign(const Expr& location, const Expr& expr) override;
  Status assignValue(const Expr& location, const json::Value& value) override;
  Status assignContent(const Expr& location, const Content& content) override;
  Status runScript(const Expr& script) override;
  Status forEach(const Expr& array, const Expr& item, const Expr& index,
                 const std::function<bool()>& body) override;
  json::Value snapshot() const override { return {}; }
  Status restore(const json::Value&) override { return Status::ok(); }

 private:
  const StateQuery* query_ = nullptr;
};

}  // namespace tramite::scxml
