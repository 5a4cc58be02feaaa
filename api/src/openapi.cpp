// The OpenAPI document, generated once from the route declarations and the schema fragments.
#include "openapi.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "api_impl.h"
#include "tramite/text.h"

namespace tramite::api {
namespace {

const std::string kSchemaRefs = "#/components/schemas/";

[[noreturn]] void broken(const std::string& what) {
  throw std::logic_error("OpenAPI document: " + what);
}

json::Value parsed(const std::string& text, const std::string& where) {
  auto v = json::parse(text);
  if (!v) broken(where + ": " + v.status().message());
  return std::move(v).value();
}

// Rewrites each bare "$ref": "Name" into a reference to the named schema; collects the names.
void resolveRefs(json::Value& v, std::set<std::string>& used) {
  if (v.isArray()) {
    for (json::Value& e : v.asArray()) resolveRefs(e, used);
    return;
  }
  if (!v.isObject()) return;
  for (auto& [key, member] : v.asObject()) {
    if (key != "$ref" || !member.isString()) {
      resolveRefs(member, used);
      continue;
    }
    const std::string ref = member.asString();
    if (ref.rfind('#', 0) != 0) {
      used.insert(ref);
      member = json::Value(kSchemaRefs + ref);
    } else if (ref.rfind(kSchemaRefs, 0) == 0) {
      used.insert(ref.substr(kSchemaRefs.size()));
    }
  }
}

// A schema as declared: empty (a string), a name, or inline JSON.
json::Value schemaOf(const std::string& text, const std::string& where,
                     std::set<std::string>& used) {
  json::Value s = text.empty()          ? json::Value(json::Object{{"type", "string"}})
                  : text.front() == '{' ? parsed(text, where)
                                        : json::Value(json::Object{{"$ref", text}});
  resolveRefs(s, used);
  return s;
}

json::Value errorReply() {
  return json::Value(json::Object{{"$ref", "#/components/responses/Error"}});
}

// The error statuses a route can answer: those its access and body imply, and its own.
std::vector<int> errorStatuses(const DocumentedRoute& r, bool has_path_params) {
  std::set<int> out(r.doc->errors.begin(), r.doc->errors.end());
  if (!r.is_public) out.insert(401);
  if (r.checks_role) out.insert(403);
  if (has_path_params) out.insert(404);
  if (!r.doc->request.empty()) {
    out.insert(413);
    out.insert(415);
    for (const RouteDoc::Body& b : r.doc->request) {
      if (b.content_type.empty()) out.insert(400);  // a JSON body can be malformed
    }
  }
  return {out.begin(), out.end()};
}

json::Value parameter(const RouteDoc::Param& p, const char* in, const std::string& where,
                      std::set<std::string>& used) {
  json::Value v(json::Object{{"name", p.name}, {"in", in}});
  if (p.required) v.set("required", true);
  v.set("schema", schemaOf(p.schema, where, used));
  if (!p.description.empty()) v.set("description", p.description);
  return v;
}

json::Value operation(const DocumentedRoute& r, std::set<std::string>& used) {
  const RouteDoc& d = *r.doc;
  const std::string where = r.method + " " + r.path;
  json::Value op(json::Object{{"operationId", d.operation_id},
                              {"summary", d.summary},
                              {"tags", json::Value(json::Array{json::Value(d.tag)})}});
  if (!d.description.empty()) op.set("description", d.description);
  if (r.is_public) op.set("security", json::Value(json::Array{}));

  json::Array params;
  bool has_path_params = false;
  for (const std::string& segment : splitPath(r.path)) {
    if (segment.size() < 3 || segment.front() != '{') continue;
    has_path_params = true;
    RouteDoc::Param p{segment.substr(1, segment.size() - 2), "", "", true};
    auto declared = std::find_if(d.path.begin(), d.path.end(),
                                 [&](const RouteDoc::Param& x) { return x.name == p.name; });
    if (declared != d.path.end()) p = *declared, p.required = true;
    params.push_back(parameter(p, "path", where, used));
  }
  for (const RouteDoc::Param& p : d.path) {
    if (r.path.find("{" + p.name + "}") == std::string::npos) {
      broken(where + ": no path segment {" + p.name + "}");
    }
  }
  for (const RouteDoc::Param& p : d.query) params.push_back(parameter(p, "query", where, used));
  if (d.idempotent) {
    params.emplace_back(json::Object{{"$ref", "#/components/parameters/IdempotencyKey"}});
  }
  if (!params.empty()) op.set("parameters", json::Value(std::move(params)));

  if (!d.request.empty()) {
    json::Value content(json::Object{});
    for (const RouteDoc::Body& b : d.request) {
      const std::string type = b.content_type.empty() ? "application/json" : b.content_type;
      content.set(type, json::Value(json::Object{{"schema", schemaOf(b.schema, where, used)}}));
    }
    op.set("requestBody", json::Value(json::Object{{"required", d.request.front().required},
                                                   {"content", std::move(content)}}));
  }

  json::Value responses(json::Object{});
  if (d.replies.empty()) broken(where + ": no successful reply declared");
  for (const RouteDoc::Reply& reply : d.replies) {
    if (reply.status < 200 || reply.status > 299) broken(where + ": a reply is a 2xx status");
    const std::string status = std::to_string(reply.status);
    const std::string type = reply.content_type.empty() ? "application/json" : reply.content_type;
    json::Value media(json::Object{{"schema", schemaOf(reply.schema, where, used)}});
    if (json::Value* existing = responses.find(status)) {
      existing->find("content")->set(type, std::move(media));
    } else {
      responses.set(status, json::Value(json::Object{
                                {"description", reply.description},
                                {"content", json::Value(json::Object{{type, std::move(media)}})}}));
    }
  }
  for (int status : errorStatuses(r, has_path_params)) {
    responses.set(std::to_string(status), errorReply());
  }
  op.set("responses", std::move(responses));
  return op;
}

}  // namespace

std::string generateOpenApi(const std::vector<DocumentedRoute>& routes) {
  const auto& fragments = openApiFragments();
  if (fragments.empty() || fragments.front().first != "document.json") {
    broken("document.json is not the first fragment");
  }
  std::set<std::string> used;
  json::Value doc = parsed(fragments.front().second, "api/openapi/document.json");
  resolveRefs(doc, used);

  // The named schemas, each defined once; references inside them count as uses.
  json::Value schemas(json::Object{});
  for (std::size_t i = 1; i < fragments.size(); ++i) {
    const std::string where = "api/openapi/" + fragments[i].first;
    json::Value file = parsed(fragments[i].second, where);
    if (!file.isObject()) broken(where + ": an object of named schemas");
    for (auto& [name, schema] : file.asObject()) {
      if (schemas.find(name)) broken(where + ": schema " + name + " is defined twice");
      resolveRefs(schema, used);
      schemas.set(name, std::move(schema));
    }
  }

  json::Value paths(json::Object{});
  std::set<std::string> ids;
  for (const DocumentedRoute& r : routes) {
    if (!ids.insert(r.doc->operation_id).second) {
      broken("operation id " + r.doc->operation_id + " is used twice");
    }
    json::Value* item = paths.find(r.path);
    if (!item) {
      paths.set(r.path, json::Value(json::Object{}));
      item = paths.find(r.path);
    }
    item->set(asciiLower(r.method), operation(r, used));
  }
  for (const std::string& name : used) {
    if (!schemas.find(name)) broken("no schema named " + name);
  }
  for (const auto& [name, schema] : schemas.asObject()) {
    if (!used.count(name)) broken("schema " + name + " is never used");
  }

  json::Value* components = doc.find("components");
  if (!components || !components->isObject()) broken("document.json has no components");
  components->set("schemas", std::move(schemas));
  // The paths go before the components they refer to.
  json::Object& members = doc.asObject();
  auto at = std::find_if(members.begin(), members.end(),
                         [](const auto& m) { return m.first == "components"; });
  members.emplace(at, "paths", std::move(paths));
  return json::dump(doc);
}

}  // namespace tramite::api
