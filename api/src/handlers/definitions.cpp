// The API's handlers: definitions.
#include "api_impl.h"

namespace tramite::api {

json::Value Api::Impl::definitionJson(const storage::DefinitionRecord& d) {
  return json::Value(json::Object{{"id", d.id},
                                  {"name", d.name},
                                  {"version", static_cast<std::int64_t>(d.version)},
                                  {"sha256", d.sha256},
                                  {"created_at", d.created_at}});
}

Result<HttpResponse> Api::Impl::deploy(Context& c) {
  auto xml = xmlBody(c);
  if (!xml) return xml.status();
  const std::string& name = c.path.at("name");
  if (!runtime::isWorkflowName(name)) {
    return Status(ErrorCode::kInvalidArgument,
                  "a definition name is [a-z][a-z0-9_-]*, not '" + name + "'");
  }
  auto d = engine_->deploy(name, *xml, c.actor());
  if (!d) return d.status();
  return jsonResponse(201, definitionJson(*d));
}

Result<HttpResponse> Api::Impl::validate(Context& c) {
  auto xml = xmlBody(c);
  if (!xml) return xml.status();
  const std::string* name = c.req.param("name");
  if (Status st = engine_->validate(name ? *name : "document", *xml); !st) return st;
  return jsonResponse(200, json::Value(json::Object{{"valid", true}}));
}

Result<HttpResponse> Api::Impl::versions(Context& c) {
  auto all = engine_->versions(c.path.at("name"));
  if (!all) return all.status();
  if (all->empty())
    return Status(ErrorCode::kNotFound, "no definition '" + c.path.at("name") + "'");
  json::Array out;
  for (const storage::DefinitionRecord& d : *all) out.push_back(definitionJson(d));
  return jsonResponse(200, json::objectOf("versions", std::move(out)));
}

Result<HttpResponse> Api::Impl::definitionXml(Context& c) {
  const std::string& name = c.path.at("name");
  std::int32_t version = 0;
  const std::string& v = c.path.at("version");
  if (v != "latest") {
    if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), ::isdigit)) {
      return Status(ErrorCode::kInvalidArgument, "a version is a number or 'latest'");
    }
    version = std::stoi(v);
  }
  auto d = inTransaction<std::optional<storage::DefinitionRecord>>(
      *store_, storage::TxMode::kRead,
      [&](storage::Transaction& tx) -> Result<std::optional<storage::DefinitionRecord>> {
        auto found = tx.definition(name, version);
        if (!found || !found->has_value()) return found;
        return tx.definitionById((*found)->id);  // with its XML
      });
  if (!d) return d.status();
  if (!d->has_value() || version < 0) {
    return Status(ErrorCode::kNotFound, "no definition '" + name + "' version " + v);
  }
  HttpResponse r;
  r.content_type = "application/scxml+xml";
  r.body = (*d)->xml;
  r.headers.emplace_back("X-Definition-Version", std::to_string((*d)->version));
  r.headers.emplace_back("X-Definition-Sha256", (*d)->sha256);
  return r;
}

// The routes of this resource (see Route in api_impl.h).
std::vector<Api::Impl::Route> Api::Impl::definitionRoutes() {
  using I = Impl;
  return {
      Route("validateDefinition", "POST", "/api/v1/definitions/validate", Access::kUser,
            &I::validate)
          .summary("Validate a workflow document without deploying it")
          .query("name", "the name used in error locations")
          .takes(kText, "application/scxml+xml")
          .returns(200, "Valid", "valid")
          .fails({400, 422}),
      Route("deployDefinition", "POST", "/api/v1/definitions/{name}", Access::kAdmin, &I::deploy)
          .summary("Deploy a workflow document as the next version of name")
          .pathParam("name", R"({"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"})", "")
          .takes(kText, "application/scxml+xml")
          .returns(201, "Definition",
                   "the stored version (the latest one when the bytes are unchanged)")
          .fails({400, 422}),
      Route("listDefinitionVersions", "GET", "/api/v1/definitions/{name}/versions", Access::kUser,
            &I::versions)
          .summary("List a definition's versions")
          .pathParam("name", R"({"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"})", "")
          .returns(200, "DefinitionVersions", "versions, oldest first"),
      Route("getDefinitionVersion", "GET", "/api/v1/definitions/{name}/versions/{version}",
            Access::kUser, &I::definitionXml)
          .summary("A version's SCXML document")
          .pathParam("name", R"({"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"})", "")
          .pathParam("version", kText, "a version number or `latest`")
          .returns(200, kText, "the document", "application/scxml+xml")
          .fails({400}),
  };
}

}  // namespace tramite::api
