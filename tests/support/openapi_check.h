// Checks answers of the server against its OpenAPI 3.0 document, so that the server tests
// also test the document: the operation must document the status of a successful answer and
// its media type, and a JSON body must match the documented schema; an error's JSON body must
// match the shared error response.
//
// Schemas are checked for the JSON Schema keywords the document uses: $ref (to
// #/components/schemas), type, nullable, enum, properties, required, additionalProperties,
// items, minimum, maximum, minLength, maxLength, allOf, anyOf, oneOf and format "date"; other
// keywords (description, default, format "binary") do not constrain. An unknown keyword that
// would constrain is reported, so the check never silently passes what it cannot read.
#pragma once

#include <string>
#include <vector>

#include "tramite/json.h"
#include "tramite/status.h"

namespace tramite::testing {

class OpenApiCheck {
 public:
  // The document as served; an error when it is not JSON or has no paths.
  static Result<OpenApiCheck> parse(const std::string& document);

  // What is wrong with one answer; empty when it conforms. target is the request target (a
  // path, maybe with a query); an answer to no documented operation has nothing to conform
  // to and is not checked.
  std::vector<std::string> problems(const std::string& method, const std::string& target,
                                    int status, const std::string& content_type,
                                    const std::string& body) const;

  // What is wrong with a value against a schema of the document (for the checker's own tests).
  std::vector<std::string> validate(const json::Value& value, const json::Value& schema) const;

 private:
  explicit OpenApiCheck(json::Value doc) : doc_(std::move(doc)) {}
  const json::Value* operation(const std::string& method, const std::string& path,
                               std::string& pattern) const;
  void check(const json::Value& value, const json::Value& schema, const std::string& at,
             std::vector<std::string>& out, int depth) const;

  json::Value doc_;
};

}  // namespace tramite::testing
