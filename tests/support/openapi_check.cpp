#include "openapi_check.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "tramite/text.h"

namespace tramite::testing {
namespace {

const std::string kSchemaRefs = "#/components/schemas/";

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The media type without its parameters: "text/plain; charset=utf-8" -> "text/plain".
std::string mediaType(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return asciiLower(t);
}

bool isDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i != 4 && i != 7 && !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  const int month = std::atoi(s.substr(5, 2).c_str());
  const int day = std::atoi(s.substr(8, 2).c_str());
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

const char* typeName(const json::Value& v) {
  if (v.isNull()) return "null";
  if (v.isBool()) return "boolean";
  if (v.isInt()) return "integer";
  if (v.isNumber()) return "number";
  if (v.isString()) return "string";
  if (v.isArray()) return "array";
  return "object";
}

bool hasType(const json::Value& v, const std::string& type) {
  if (type == "integer") return v.isInt();
  if (type == "number") return v.isNumber();
  return type == typeName(v);
}

// Keywords that describe without constraining, and those check() reads.
const std::set<std::string>& knownKeywords() {
  static const std::set<std::string> known = {
      "$ref",    "type",    "nullable", "enum",      "properties",  "required",
      "items",   "minimum", "maximum",  "minLength", "maxLength",   "additionalProperties",
      "allOf",   "anyOf",   "oneOf",    "format",    "description", "default",
      "example", "title",   "readOnly", "writeOnly", "deprecated"};
  return known;
}

}  // namespace

Result<OpenApiCheck> OpenApiCheck::parse(const std::string& document) {
  auto doc = json::parse(document);
  if (!doc) return doc.status();
  const json::Value* paths = doc->find("paths");
  if (!paths || !paths->isObject()) {
    return Status(ErrorCode::kInvalidArgument, "the OpenAPI document has no paths");
  }
  return OpenApiCheck(std::move(doc).value());
}

const json::Value* OpenApiCheck::operation(const std::string& method, const std::string& path,
                                           std::string& pattern) const {
  const std::vector<std::string> have = segments(path);
  const json::Value* best = nullptr;
  int best_literals = -1;
  for (const auto& [p, item] : doc_.find("paths")->asObject()) {
    const std::vector<std::string> want = segments(p);
    if (want.size() != have.size()) continue;
    int literals = 0;
    bool match = true;
    for (std::size_t i = 0; i < want.size() && match; ++i) {
      if (want[i].size() > 2 && want[i].front() == '{') {
        match = !have[i].empty();
      } else {
        match = want[i] == have[i];
        ++literals;
      }
    }
    const json::Value* op = match ? item.find(asciiLower(method)) : nullptr;
    if (op && literals > best_literals) {  // the most specific template, as the router
      best = op;
      best_literals = literals;
      pattern = p;
    }
  }
  return best;
}

std::vector<std::string> OpenApiCheck::problems(const std::string& method,
                                                const std::string& target, int status,
                                                const std::string& content_type,
                                                const std::string& body) const {
  std::vector<std::string> out;
  std::string pattern;
  const json::Value* op = operation(method, target.substr(0, target.find('?')), pattern);
  if (!op) return out;
  const std::string where = method + " " + pattern + " " + std::to_string(status) + ": ";
  const json::Value* responses = op->find("responses");
  const json::Value* response = responses ? responses->find(std::to_string(status)) : nullptr;
  const bool success = status >= 200 && status < 300;
  if (!success) {
    // Every error has one shape, whichever status it comes with.
    if (mediaType(content_type) != "application/json") return out;
    auto parsed = json::parse(body);
    if (!parsed) return {where + "the error body is not JSON"};
    const json::Value error_ref(json::Object{{"$ref", kSchemaRefs + "Error"}});
    for (const std::string& p : validate(*parsed, error_ref)) out.push_back(where + p);
    return out;
  }
  if (!response) return {where + "the status is not documented"};
  const json::Value* content = response->find("content");
  if (!content || !content->isObject()) {
    if (!body.empty()) out.push_back(where + "a body where the document promises none");
    return out;
  }
  const std::string type = mediaType(content_type);
  const json::Value* media = content->find(type);
  if (!media) media = content->find("*/*");
  if (!media) return {where + "media type " + type + " is not documented"};
  if (type != "application/json") return out;  // bytes, checked by the tests that read them
  auto parsed = json::parse(body);
  if (!parsed) return {where + "the body is not JSON"};
  const json::Value* schema = media->find("schema");
  if (!schema) return out;
  for (const std::string& p : validate(*parsed, *schema)) out.push_back(where + p);
  return out;
}

std::vector<std::string> OpenApiCheck::validate(const json::Value& value,
                                                const json::Value& schema) const {
  std::vector<std::string> out;
  check(value, schema, "$", out, 0);
  return out;
}

void OpenApiCheck::check(const json::Value& v, const json::Value& schema, const std::string& at,
                         std::vector<std::string>& out, int depth) const {
  if (depth > 64) {
    out.push_back(at + ": schemas nest deeper than 64");
    return;
  }
  if (!schema.isObject()) {
    out.push_back(at + ": a schema is not an object");
    return;
  }
  for (const auto& [keyword, unused] : schema.asObject()) {
    (void)unused;
    if (!knownKeywords().count(keyword)) {
      out.push_back(at + ": the checker does not know the keyword " + keyword);
    }
  }
  if (const json::Value* ref = schema.find("$ref")) {
    const std::string r = ref->isString() ? ref->asString() : "";
    const json::Value* components = doc_.find("components");
    const json::Value* schemas = components ? components->find("schemas") : nullptr;
    const json::Value* target = r.rfind(kSchemaRefs, 0) == 0 && schemas
                                    ? schemas->find(r.substr(kSchemaRefs.size()))
                                    : nullptr;
    if (!target) {
      out.push_back(at + ": no schema " + r);
      return;
    }
    check(v, *target, at, out, depth + 1);
    return;
  }
  const json::Value* nullable = schema.find("nullable");
  if (v.isNull() && nullable && nullable->isBool() && nullable->asBool()) return;
  if (const json::Value* type = schema.find("type")) {
    if (!hasType(v, type->asString())) {
      out.push_back(at + ": expected " + type->asString() + ", got " + typeName(v));
      return;
    }
  }
  if (const json::Value* values = schema.find("enum")) {
    const std::string dumped = json::dump(v);
    const auto& list = values->asArray();
    if (std::none_of(list.begin(), list.end(),
                     [&](const json::Value& e) { return json::dump(e) == dumped; })) {
      out.push_back(at + ": " + dumped + " is not one of " + json::dump(*values));
    }
  }
  if (v.isNumber()) {
    const json::Value* lo = schema.find("minimum");
    const json::Value* hi = schema.find("maximum");
    if (lo && v.asDouble() < lo->asDouble()) out.push_back(at + ": below the minimum");
    if (hi && v.asDouble() > hi->asDouble()) out.push_back(at + ": above the maximum");
  }
  if (v.isString()) {
    const auto length = static_cast<std::int64_t>(v.asString().size());
    const json::Value* lo = schema.find("minLength");
    const json::Value* hi = schema.find("maxLength");
    if (lo && length < lo->asInt()) out.push_back(at + ": shorter than minLength");
    if (hi && length > hi->asInt()) out.push_back(at + ": longer than maxLength");
    const json::Value* format = schema.find("format");
    if (format && format->asString() == "date" && !isDate(v.asString())) {
      out.push_back(at + ": '" + v.asString() + "' is not a date (YYYY-MM-DD)");
    }
  }
  if (v.isArray()) {
    if (const json::Value* items = schema.find("items")) {
      std::size_t i = 0;
      for (const json::Value& e : v.asArray()) {
        check(e, *items, at + "[" + std::to_string(i++) + "]", out, depth + 1);
      }
    }
  }
  if (v.isObject()) {
    const json::Value* properties = schema.find("properties");
    if (const json::Value* required = schema.find("required")) {
      for (const json::Value& name : required->asArray()) {
        if (!v.find(name.asString())) out.push_back(at + ": no member " + name.asString());
      }
    }
    const json::Value* additional = schema.find("additionalProperties");
    for (const auto& [name, member] : v.asObject()) {
      const json::Value* declared = properties ? properties->find(name) : nullptr;
      if (declared) {
        check(member, *declared, at + "." + name, out, depth + 1);
      } else if (additional && additional->isBool() && !additional->asBool()) {
        out.push_back(at + ": undocumented member " + name);
      } else if (additional && additional->isObject()) {
        check(member, *additional, at + "." + name, out, depth + 1);
      }
    }
  }
  if (const json::Value* all = schema.find("allOf")) {
    for (const json::Value& s : all->asArray()) check(v, s, at, out, depth + 1);
  }
  for (const char* keyword : {"anyOf", "oneOf"}) {
    const json::Value* alternatives = schema.find(keyword);
    if (!alternatives) continue;
    std::size_t matched = 0;
    for (const json::Value& s : alternatives->asArray()) {
      std::vector<std::string> mine;
      check(v, s, at, mine, depth + 1);
      matched += mine.empty() ? 1 : 0;
    }
    if (matched == 0 || (matched > 1 && std::string(keyword) == "oneOf")) {
      out.push_back(at + ": matches " + std::to_string(matched) + " of the " + keyword +
                    " alternatives");
    }
  }
}

}  // namespace tramite::testing
