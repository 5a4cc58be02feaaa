#include "tramite/scxml/null_datamodel.h"

#include <cctype>

namespace tramite::scxml {

namespace {

Status unsupported(const char* what) {
  return Status(ErrorCode::kInvalidArgument,
                std::string(what) + " is not available in the null datamodel");
}

std::string_view trimView(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Status NullDataModel::declare(const DataDecl&, const json::Value*) {
  return unsupported("<data>");
}

Result<bool> NullDataModel::evaluateCondition(const Expr& cond) {
  std::string_view c = trimView(cond.text);
  if (c.size() < 4 || c.substr(0, 3) != "In(" || c.back() != ')') {
    return Status(ErrorCode::kInvalidArgument,
                  "condition '" + cond.text + "' is not an In() predicate");
  }
  std::string_view id = trimView(c.substr(3, c.size() - 4));
  if (id.size() >= 2 && (id.front() == '\'' || id.front() == '"') && id.back() == id.front()) {
    id = id.substr(1, id.size() - 2);
  }
  if (id.empty()) return Status(ErrorCode::kInvalidArgument, "In() needs a state id");
  return query_ != nullptr && query_->isActive(id);
}

Result<json::Value> NullDataModel::evaluate(const Expr&) {
  return unsupported("expressions");
}
Result<std::string> NullDataModel::evaluateString(const Expr&) {
  return unsupported("expressions");
}
Status NullDataModel::assign(const Expr&, const Expr&) {
  return unsupported("<assign>");
}
Status NullDataModel::assignValue(const Expr&, const json::Value&) {
  return unsupported("locations");
}
Status NullDataModel::assignContent(const Expr&, const Content&) {
  return unsupported("<assign>");
}
Status NullDataModel::runScript(const Expr&) {
  return unsupported("<script>");
}
Status NullDataModel::forEach(const Expr&, const Expr&, const Expr&, const std::function<bool()>&) {
  return unsupported("<foreach>");
}

}  // namespace tramite::scxml
